using System.Buffers.Binary;
using System.Text;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// A CoAP message (RFC 7252 §3), enough to send a request to libcoap and to answer one: the header, token, options and
/// payload, read from and written to the bytes of one datagram.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Ver| T |  TKL  |      Code     |          Message ID           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Token (if any, TKL bytes) ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Options (if any) ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |1 1 1 1 1 1 1 1|    Payload (if any) ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// Ver is 1; TKL is 0 to 8 (9–15 are a message format error). Code is class.detail (3 + 5 bits): 0.01 GET,
/// 2.05 Content. Each option (§3.1) is a byte of two nibbles, the delta from the previous option number and the
/// value length, each 13 (one extra byte, value − 13) or 14 (two extra bytes, value − 269), 15 reserved.
/// </summary>
public sealed record CoapMessage(CoapType Type, byte Code, ushort MessageId, byte[] Token, IReadOnlyList<CoapOption> Options, byte[] Payload)
{
    /// <summary>0.01 GET.</summary>
    public const byte Get = 0x01;

    /// <summary>2.05 Content.</summary>
    public const byte Content = 0x45;

    private const int HeaderLength = 4;
    private const int MaxTokenLength = 8;
    private const byte PayloadMarker = 0xFF;

    /// <summary>The code as RFC 7252 writes it: "0.01", "2.05".</summary>
    public string CodeText => $"{Code >> 5}.{Code & 0x1F:D2}";

    /// <summary>The Uri-Path options joined by "/", without a leading one.</summary>
    public string UriPath => string.Join('/', Options.Where(o => o.Number == CoapOption.UriPath).Select(o => Encoding.UTF8.GetString(o.Value)));

    /// <summary>A confirmable GET of <paramref name="path"/> ("/.well-known/core"), one Uri-Path option per segment.</summary>
    public static CoapMessage ConfirmableGet(ushort messageId, byte[] token, string path) => new(
        CoapType.Confirmable, Get, messageId, token,
        path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(s => new CoapOption(CoapOption.UriPath, Encoding.UTF8.GetBytes(s))).ToArray(),
        []);

    /// <summary>
    /// The 2.05 Content response piggybacked on the ACK of this confirmable request (RFC 7252 §5.2.1): same Message ID,
    /// same token, text/plain <paramref name="text"/>.
    /// </summary>
    public CoapMessage PiggybackedContent(string text) => new(
        CoapType.Acknowledgement, Content, MessageId, Token, [new CoapOption(CoapOption.ContentFormat, [])], Encoding.UTF8.GetBytes(text));

    /// <summary>Parses one datagram; false on anything RFC 7252 calls a message format error.</summary>
    public static bool TryParse(ReadOnlySpan<byte> datagram, out CoapMessage? message)
    {
        message = null;
        if (datagram.Length < HeaderLength || datagram[0] >> 6 != 1)
        {
            return false;
        }
        var tokenLength = datagram[0] & 0x0F;
        if (tokenLength > MaxTokenLength || datagram.Length < HeaderLength + tokenLength)
        {
            return false;
        }
        var type = (CoapType)((datagram[0] >> 4) & 0x03);
        var code = datagram[1];
        var messageId = BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]);
        var token = datagram.Slice(HeaderLength, tokenLength).ToArray();
        var rest = datagram[(HeaderLength + tokenLength)..];

        var options = new List<CoapOption>();
        var number = 0;
        while (!rest.IsEmpty && rest[0] != PayloadMarker)
        {
            var delta = rest[0] >> 4;
            var length = rest[0] & 0x0F;
            rest = rest[1..];
            if (!TryReadExtended(ref rest, ref delta) || !TryReadExtended(ref rest, ref length) || rest.Length < length)
            {
                return false;
            }
            number += delta;
            options.Add(new CoapOption(number, rest[..length].ToArray()));
            rest = rest[length..];
        }
        byte[] payload = [];
        if (!rest.IsEmpty)
        {
            // A marker followed by a zero-length payload is a message format error (§3).
            if (rest.Length == 1)
            {
                return false;
            }
            payload = rest[1..].ToArray();
        }
        message = new CoapMessage(type, code, messageId, token, options, payload);
        return true;
    }

    /// <summary>The message as one datagram's bytes (options written in ascending number order).</summary>
    public byte[] ToBytes()
    {
        if (Token.Length > MaxTokenLength)
        {
            throw new InvalidOperationException($"A CoAP token is 0 to {MaxTokenLength} bytes, not {Token.Length}.");
        }
        var bytes = new List<byte>
        {
            (byte)((1 << 6) | ((int)Type << 4) | Token.Length),
            Code,
            (byte)(MessageId >> 8),
            (byte)MessageId,
        };
        bytes.AddRange(Token);
        var previous = 0;
        foreach (var option in Options.OrderBy(o => o.Number))
        {
            var at = bytes.Count;
            bytes.Add(0);
            var deltaNibble = WriteExtended(bytes, option.Number - previous);
            var lengthNibble = WriteExtended(bytes, option.Value.Length);
            bytes[at] = (byte)((deltaNibble << 4) | lengthNibble);
            bytes.AddRange(option.Value);
            previous = option.Number;
        }
        if (Payload.Length > 0)
        {
            bytes.Add(PayloadMarker);
            bytes.AddRange(Payload);
        }
        return [.. bytes];
    }

    public override string ToString()
        => $"{Type} {CodeText} MID {MessageId} token {Convert.ToHexString(Token)} /{UriPath} ({Payload.Length} bytes of payload)";

    // A nibble of 13 or 14 is followed by one or two bytes carrying the rest; 15 is reserved.
    private static bool TryReadExtended(ref ReadOnlySpan<byte> rest, ref int value)
    {
        switch (value)
        {
            case 13 when rest.Length >= 1:
                value = 13 + rest[0];
                rest = rest[1..];
                return true;
            case 14 when rest.Length >= 2:
                value = 269 + BinaryPrimitives.ReadUInt16BigEndian(rest);
                rest = rest[2..];
                return true;
            case < 13:
                return true;
            default:
                return false;
        }
    }

    private static int WriteExtended(List<byte> bytes, int value)
    {
        if (value < 13)
        {
            return value;
        }
        if (value < 269)
        {
            bytes.Add((byte)(value - 13));
            return 13;
        }
        bytes.Add((byte)((value - 269) >> 8));
        bytes.Add((byte)(value - 269));
        return 14;
    }
}
