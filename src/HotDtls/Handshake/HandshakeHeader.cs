namespace HotDtls.Handshake;

/// <summary>
/// The DTLS handshake message header, RFC 6347 §4.2.2:
/// <code>
/// struct {
///     HandshakeType msg_type;          // offset 0
///     uint24 length;                   // offset 1: length of the whole message body
///     uint16 message_seq;              // offset 4
///     uint24 fragment_offset;          // offset 6
///     uint24 fragment_length;          // offset 9
///     select (HandshakeType) { ... } body;   // offset 12: fragment_length bytes
/// } Handshake;
/// </code>
/// Reading checks nothing but the 12 bytes being there: whether the fragment fits the record and the
/// message is for the reassembler to decide (CVE-2014-0195 was a reader that trusted these fields).
/// </summary>
internal readonly struct HandshakeHeader
{
    public const int Size = 12;

    /// <summary>Largest value of a uint24 field.</summary>
    public const int MaxUInt24 = 0xFFFFFF;

    public HandshakeHeader(HandshakeType type, int length, ushort messageSeq, int fragmentOffset, int fragmentLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, MaxUInt24);
        ArgumentOutOfRangeException.ThrowIfNegative(fragmentOffset);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fragmentOffset, MaxUInt24);
        ArgumentOutOfRangeException.ThrowIfNegative(fragmentLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(fragmentLength, MaxUInt24);
        MsgType = type;
        Length = length;
        MessageSeq = messageSeq;
        FragmentOffset = fragmentOffset;
        FragmentLength = fragmentLength;
    }

    /// <summary>The wire byte as received, including values that name no known message.</summary>
    public HandshakeType MsgType { get; }

    public int Length { get; }

    public ushort MessageSeq { get; }

    public int FragmentOffset { get; }

    public int FragmentLength { get; }

    /// <summary>An unfragmented message: RFC 6347 §4.2.2 sends it with offset 0 and fragment_length = length.</summary>
    public bool IsComplete => FragmentOffset == 0 && FragmentLength == Length;

    public static bool TryRead(ReadOnlySpan<byte> source, out HandshakeHeader header)
    {
        var reader = new HandshakeReader(source);
        if (!reader.TryReadUInt8(out byte type)
            || !reader.TryReadUInt24(out int length)
            || !reader.TryReadUInt16(out ushort messageSeq)
            || !reader.TryReadUInt24(out int fragmentOffset)
            || !reader.TryReadUInt24(out int fragmentLength)
            // RFC 6347 §4.2.3: a fragment lies within its message. Refused here, so that no consumer can forget to.
            || fragmentOffset + fragmentLength > length)
        {
            header = default;
            return false;
        }

        header = new HandshakeHeader((HandshakeType)type, length, messageSeq, fragmentOffset, fragmentLength);
        return true;
    }

    /// <summary>Writes the <see cref="Size"/> header bytes.</summary>
    public void Write(Span<byte> destination)
    {
        HandshakeWriter.EnsureCapacity(destination, Size);
        var writer = new HandshakeWriter(destination);
        writer.WriteUInt8((byte)MsgType);
        writer.WriteUInt24(Length);
        writer.WriteUInt16(MessageSeq);
        writer.WriteUInt24(FragmentOffset);
        writer.WriteUInt24(FragmentLength);
        System.Diagnostics.Debug.Assert(writer.Written == Size);
    }
}
