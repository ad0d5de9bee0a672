using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace HotDtls.Cluster;

/// <summary>
/// The node-to-node frame's constants and its writer; the layout is drawn above <see cref="ClusterFrameReader"/>.
/// </summary>
internal static class ClusterFrame
{
    /// <summary>"HC", the first two bytes of every frame.</summary>
    public const ushort Magic = 0x4843;

    /// <summary>The only version this code speaks.</summary>
    public const byte Version = 1;

    /// <summary>Bytes before the address family: magic, version, type, sender, receiver, sequence.</summary>
    public const int FixedHeaderLength = 14;

    /// <summary>Bytes up to and including the address family byte: all a heartbeat has before its MAC.</summary>
    public const int HeaderLength = FixedHeaderLength + 1;

    /// <summary>Bytes of the truncated HMAC-SHA256 at the end of every frame.</summary>
    public const int MacLength = 16;

    /// <summary>
    /// The largest client datagram the channel carries: a record of the largest plaintext (2^14) plus the most
    /// expansion RFC 6347 §4.1 allows a ciphertext (2048); anything larger is no DTLS record a node could own.
    /// </summary>
    public const int MaxDatagram = 16384 + 2048;

    /// <summary>Header, port, an IPv6 address, the largest datagram and the MAC.</summary>
    public const int MaxFrameLength = HeaderLength + 2 + 16 + MaxDatagram + MacLength;

    /// <summary>Bytes a frame adds around its payload at most (an IPv6 client): the channel's amplification bound.</summary>
    public const int MaxOverhead = MaxFrameLength - MaxDatagram;

    /// <summary>The family byte of a heartbeat (no address).</summary>
    public const byte FamilyNone = 0;

    /// <summary>The family byte of an IPv4 client address.</summary>
    public const byte FamilyIPv4 = 4;

    /// <summary>The family byte of an IPv6 client address.</summary>
    public const byte FamilyIPv6 = 6;

    /// <summary>Offset of the sequence number.</summary>
    internal const int SequenceOffset = 6;

    /// <summary>Offset of the address family byte.</summary>
    internal const int FamilyOffset = FixedHeaderLength;

    /// <summary>Bytes of the address of <paramref name="family"/>, or -1 for an unknown family.</summary>
    public static int AddressLength(byte family) => family switch
    {
        FamilyNone => 0,
        FamilyIPv4 => 4,
        FamilyIPv6 => 16,
        _ => -1,
    };

    /// <summary>Bytes of a whole frame (MAC included) carrying <paramref name="payloadLength"/> bytes for a <paramref name="family"/> client.</summary>
    public static int Length(byte family, int payloadLength)
        => HeaderLength + (family == FamilyNone ? 0 : 2 + AddressLength(family)) + payloadLength + MacLength;

    /// <summary>
    /// Writes a frame without its MAC into <paramref name="destination"/> and returns its length: the MAC of those bytes
    /// goes right after them. <paramref name="address"/> is 0 bytes (family 0, no port either), 4 or 16.
    /// </summary>
    /// <exception cref="ArgumentException">The family and address disagree, or <paramref name="destination"/> is too small (a caller's bug).</exception>
    public static int WriteUnsigned(Span<byte> destination, ClusterFrameType type, byte sender, byte receiver, ulong sequence,
        byte family, ushort port, ReadOnlySpan<byte> address, ReadOnlySpan<byte> payload)
    {
        if (AddressLength(family) != address.Length)
        {
            ThrowBadAddress();
        }
        var length = Length(family, payload.Length) - MacLength;
        if (destination.Length < length + MacLength)
        {
            ThrowTooSmall();
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination, Magic);
        destination[2] = Version;
        destination[3] = (byte)type;
        destination[4] = sender;
        destination[5] = receiver;
        BinaryPrimitives.WriteUInt64BigEndian(destination[SequenceOffset..], sequence);
        destination[FamilyOffset] = family;
        var offset = HeaderLength;
        if (family != FamilyNone)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination[offset..], port);
            offset += 2;
            address.CopyTo(destination[offset..]);
            offset += address.Length;
        }
        payload.CopyTo(destination[offset..]);
        return length;
    }

    [DoesNotReturn]
    private static void ThrowBadAddress()
        => throw new ArgumentException("The address length does not match the cluster frame's address family.");

    [DoesNotReturn]
    private static void ThrowTooSmall()
        => throw new ArgumentException("The destination is too small for the cluster frame.");
}
