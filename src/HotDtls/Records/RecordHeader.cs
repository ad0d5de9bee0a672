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
/// <para>
/// A record of a session whose receiver asked for a Connection ID (RFC 9146 §4) has type tls12_cid and the CID
/// between the sequence number and the length; the CID's length is not on the wire, the receiver knows it:
/// <code>
///     ContentType outer_type = tls12_cid;    // offset 0
///     ProtocolVersion version;               // offset 1
///     uint16 epoch;                          // offset 3
///     uint48 sequence_number;                // offset 5
///     opaque cid[cid_length];                // offset 11
///     uint16 length;                         // offset 11 + cid_length
/// </code>
/// </para>
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
        : this(type, version, epoch, sequenceNumber, length, 0)
    {
    }

    /// <summary>Creates a header whose record carries a CID of <paramref name="connectionIdLength"/> bytes (tls12_cid).</summary>
    public RecordHeader(ContentType type, ushort version, ushort epoch, ulong sequenceNumber, ushort length, byte connectionIdLength)
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
        ConnectionIdLength = connectionIdLength;
    }

    /// <summary>Bytes of CID in the header: 0 unless the record is a tls12_cid record.</summary>
    public byte ConnectionIdLength { get; }

    /// <summary>Bytes of this header on the wire: <see cref="Size"/> plus the CID.</summary>
    public int WireSize => Size + ConnectionIdLength;

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

    /// <summary>
    /// Decodes a header whose record may be a tls12_cid record carrying a CID of <paramref name="connectionIdLength"/>
    /// bytes (the length this receiver issued). False when the bytes are too few, or for a tls12_cid record when
    /// this receiver issued no CID (its records cannot be framed: RFC 9146 §4).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, int connectionIdLength, out RecordHeader header)
    {
        if (source.Length < Size || (ContentType)source[TypeOffset] != ContentType.Tls12Cid)
        {
            return TryRead(source, out header);
        }
        if (connectionIdLength == 0 || source.Length < Size + connectionIdLength)
        {
            header = default;
            return false;
        }
        header = new RecordHeader(
            ContentType.Tls12Cid,
            BinaryPrimitives.ReadUInt16BigEndian(source[VersionOffset..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[EpochOffset..]),
            ReadUInt48BigEndian(source[SequenceNumberOffset..]),
            BinaryPrimitives.ReadUInt16BigEndian(source[(LengthOffset + connectionIdLength)..]),
            (byte)connectionIdLength);
        return true;
    }

    /// <summary>Writes a tls12_cid header carrying <paramref name="connectionId"/> (its <see cref="WireSize"/> bytes).</summary>
    public void Write(Span<byte> destination, ReadOnlySpan<byte> connectionId)
    {
        if (connectionId.IsEmpty)
        {
            Write(destination);
            return;
        }
        if (destination.Length < Size + connectionId.Length)
        {
            ThrowDestinationTooShort();
        }
        destination[TypeOffset] = (byte)Type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[VersionOffset..], Version);
        BinaryPrimitives.WriteUInt16BigEndian(destination[EpochOffset..], Epoch);
        WriteUInt48BigEndian(destination[SequenceNumberOffset..], SequenceNumber);
        connectionId.CopyTo(destination[LengthOffset..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(LengthOffset + connectionId.Length)..], Length);
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
