using System.Buffers.Binary;

namespace HotDtls.Samples.CoapEcho;

/// <summary>
/// The parts of a CoAP request (RFC 7252 §3) an echo service needs, read from the datagram without copying.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Ver| T |  TKL  |      Code     |          Message ID           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Token (if any, TKL bytes) ...
/// |   Options (if any) ...
/// |1 1 1 1 1 1 1 1|    Payload (if any) ...
/// </code>
/// Each option: a byte of delta (4 bits) and length (4 bits), 13 meaning one more byte (value - 13) and 14 two more
/// (value - 269); 15 is reserved except in the payload marker 0xFF (§3.1).
/// </summary>
internal readonly ref struct CoapRequest
{
    public const int Version = 1;
    public const int HeaderLength = 4;
    public const int UriPathOption = 11;

    private CoapRequest(CoapType type, byte code, ushort messageId, ReadOnlySpan<byte> token,
        ReadOnlySpan<byte> options, ReadOnlySpan<byte> payload)
    {
        Type = type;
        Code = code;
        MessageId = messageId;
        Token = token;
        Options = options;
        Payload = payload;
    }

    public CoapType Type { get; }

    /// <summary>Class (3 bits) and detail (5 bits): 0.01 GET … 0.04 DELETE, 0.00 an empty message.</summary>
    public byte Code { get; }

    public ushort MessageId { get; }

    public ReadOnlySpan<byte> Token { get; }

    /// <summary>The encoded options, already checked to be well formed.</summary>
    public ReadOnlySpan<byte> Options { get; }

    public ReadOnlySpan<byte> Payload { get; }

    /// <summary>An empty confirmable message (code 0.00): a CoAP ping, answered with a reset (§4.3).</summary>
    public bool IsPing => Code == 0 && Type == CoapType.Confirmable;

    /// <summary>
    /// Reads a confirmable or non-confirmable request (class 0) or ping. False for anything else — responses,
    /// acknowledgements, malformed messages, other protocols — which the caller treats as plain bytes.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> datagram, out CoapRequest request)
    {
        request = default;
        if (datagram.Length < HeaderLength || datagram[0] >> 6 != Version)
        {
            return false;
        }
        var type = (CoapType)((datagram[0] >> 4) & 0x3);
        var tokenLength = datagram[0] & 0xF;
        var code = datagram[1];
        // §3: token lengths 9 to 15 are a message format error.
        if (type is not (CoapType.Confirmable or CoapType.NonConfirmable) || code >> 5 != 0 || tokenLength > 8
            || datagram.Length < HeaderLength + tokenLength)
        {
            return false;
        }
        if (code == 0 && (datagram.Length != HeaderLength + tokenLength || tokenLength != 0))
        {
            return false; // §4.1: an empty message has no token, options or payload.
        }
        var rest = datagram[(HeaderLength + tokenLength)..];
        var optionsLength = 0;
        while (optionsLength < rest.Length && rest[optionsLength] != 0xFF)
        {
            if (!TrySkipOption(rest[optionsLength..], out var size))
            {
                return false;
            }
            optionsLength += size;
        }
        var payload = optionsLength < rest.Length ? rest[(optionsLength + 1)..] : default;
        if (optionsLength < rest.Length && payload.IsEmpty)
        {
            return false; // §3: a payload marker followed by nothing is a format error.
        }
        request = new CoapRequest(type, code, BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]),
            datagram.Slice(HeaderLength, tokenLength), rest[..optionsLength], payload);
        return true;
    }

    /// <summary>The Uri-Path options joined with '/' ("echo" for coaps://host/echo), as UTF-8 into <paramref name="destination"/>.</summary>
    public int WriteUriPath(Span<byte> destination)
    {
        var written = 0;
        var number = 0;
        var options = Options;
        while (!options.IsEmpty)
        {
            TryReadOption(options, out var delta, out var value, out var size);
            number += delta;
            if (number == UriPathOption && written + value.Length + 1 <= destination.Length)
            {
                if (written > 0)
                {
                    destination[written++] = (byte)'/';
                }
                value.CopyTo(destination[written..]);
                written += value.Length;
            }
            options = options[size..];
        }
        return written;
    }

    private static bool TrySkipOption(ReadOnlySpan<byte> options, out int size) => TryReadOption(options, out _, out _, out size);

    private static bool TryReadOption(ReadOnlySpan<byte> options, out int delta, out ReadOnlySpan<byte> value, out int size)
    {
        value = default;
        size = 1;
        delta = 0;
        if (!TryReadNibble(options, options[0] >> 4, ref size, out delta)
            || !TryReadNibble(options, options[0] & 0xF, ref size, out var length)
            || options.Length - size < length)
        {
            return false;
        }
        value = options.Slice(size, length);
        size += length;
        return true;
    }

    private static bool TryReadNibble(ReadOnlySpan<byte> options, int nibble, ref int size, out int value)
    {
        value = nibble;
        switch (nibble)
        {
            case 13:
                if (options.Length < size + 1)
                {
                    return false;
                }
                value = options[size] + 13;
                size += 1;
                return true;
            case 14:
                if (options.Length < size + 2)
                {
                    return false;
                }
                value = BinaryPrimitives.ReadUInt16BigEndian(options[size..]) + 269;
                size += 2;
                return true;
            case 15:
                return false;
            default:
                return true;
        }
    }
}

