using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace HotDtls.Records;

/// <summary>
/// The 13-byte header in front of every DTLS record (RFC 6347 §4.1). It is the same for
/// DTLSPlaintext and DTLSCiphertext; only the body differs.
/// </summary>
/// <remarks>
/// <code>
/// struct {
///     ContentType type;                  // offset 0, 1 byte
///     ProtocolVersion version;           // offset 1, 2 bytes
///     uint16 epoch;                      // offset 3, 2 bytes
///     uint48 sequence_number;            // offset 5, 6 bytes
///     uint16 length;                     // offset 11, 2 bytes
///     opaque fragment[DTLSPlaintext.length];
/// } DTLSPlaintext;                                           (all integers big-endian)
/// </code>
/// The header is only decoded here: the type, version, epoch and length are checked against the
/// association's state by the caller, which is the only place that knows what is legal now.
/// </remarks>
internal readonly struct RecordHeader
{
    /// <summary>Bytes in a record header.</summary>
    public const int Size = 13;

    /// <summary>The largest value of the 48-bit sequence_number field.</summary>
    public const ulong MaxSequenceNumber = (1UL << 48) - 1;

    private const int TypeOffset = 0;
    private const int VersionOffset = 1;
    private const int EpochOffset = 3;
    private const int SequenceNumberOffset = 5;
    private const int LengthOffset = 11;

    /// <summary>Creates a header; <paramref name="sequenceNumber"/> must fit in 48 bits.</summary>
    public RecordHeader(ContentType type, ushort version, ushort epoch, ulong sequenceNumber, ushort length)
    {
        if (sequenceNumber > MaxSequenceNumber)
        {
            ThrowSequenceNumberOutOfRange(sequenceNumber);
        }

        Type = type;
        Version = version;
        Epoch = epoch;
        SequenceNumber = sequenceNumber;
        Length = length;
    }

    /// <summary>The content type; an unknown wire byte is kept as is so the caller can count and drop it.</summary>
    public ContentType Type { get; }

    /// <summary>The record's protocol version on the wire (<see cref="ProtocolVersion"/>).</summary>
    public ushort Version { get; }

    /// <summary>The cipher state epoch, incremented on each ChangeCipherSpec.</summary>
    public ushort Epoch { get; }

    /// <summary>The 48-bit per-epoch record sequence number.</summary>
    public ulong SequenceNumber { get; }

    /// <summary>The number of body bytes that follow the header.</summary>
    public ushort Length { get; }

    /// <summary>
    /// Decodes a header from the first <see cref="Size"/> bytes of <paramref name="source"/>;
    /// false if there are fewer. The length is not checked against what follows: that is
    /// <see cref="DatagramReader"/>'s job.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out RecordHeader header)
    {
        if (source.Length < Size)
        {
            header = default;
            return false;
        }

        header = new RecordHeader(
            (ContentType)source[TypeOffset],
            BinaryPrimitives.ReadUInt16BigEndian(source[VersionOffset..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[EpochOffset..]),
            ReadUInt48BigEndian(source[SequenceNumberOffset..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[LengthOffset..]));
        return true;
    }

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowDestinationTooShort();
        }

        destination[TypeOffset] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[VersionOffset..], Version);
        BinaryPrimitives.WriteUInt16BigEndian(destination[EpochOffset..], Epoch);
        WriteUInt48BigEndian(destination[SequenceNumberOffset..], SequenceNumber);
        BinaryPrimitives.WriteUInt16BigEndian(destination[LengthOffset..], Length);
    }

    private static ulong ReadUInt48BigEndian(ReadOnlySpan<byte> source) =>
        ((ulong)BinaryPrimitives.ReadUInt16BigEndian(source) << 32) | BinaryPrimitives.ReadUInt32BigEndian(source[2..]);

    private static void WriteUInt48BigEndian(Span<byte> destination, ulong value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)value);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowSequenceNumberOutOfRange(ulong sequenceNumber) =>
        throw new ArgumentOutOfRangeException(nameof(sequenceNumber), sequenceNumber, "A DTLS sequence number has 48 bits.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooShort() =>
        throw new ArgumentException($"The destination must hold at least {Size} bytes.", "destination");
}
