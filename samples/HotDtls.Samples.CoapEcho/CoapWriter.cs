using System.Buffers.Binary;

namespace HotDtls.Samples.CoapEcho;

/// <summary>Writes the CoAP messages the sample sends: the echo response, the reset that answers a ping, the self-test's request.</summary>
internal static class CoapWriter
{
    /// <summary>2.05 Content (class 2, detail 5).</summary>
    public const byte Content = 0x45;

    /// <summary>0.02 POST.</summary>
    public const byte Post = 0x02;

    /// <summary>Content-Format (12) with an empty value, which is 0: text/plain; charset=utf-8 (RFC 7252 §12.3).</summary>
    private const byte ContentFormatTextPlain = 12 << 4;

    /// <summary>Header, token, options and payload space for the largest reply to a <paramref name="requestLength"/>-byte request.</summary>
    public static int MaxReplyLength(int requestLength) => CoapRequest.HeaderLength + 8 + 1 + 1 + requestLength;

    /// <summary>A response carrying <paramref name="payload"/> as text/plain; returns its length.</summary>
    public static int WriteResponse(Span<byte> destination, CoapType type, ushort messageId, ReadOnlySpan<byte> token,
        ReadOnlySpan<byte> payload)
    {
        var length = WriteHeader(destination, type, Content, messageId, token);
        destination[length++] = ContentFormatTextPlain;
        return WritePayload(destination, length, payload);
    }

    /// <summary>The reset that answers a ping (RFC 7252 §4.3): same message ID, no token.</summary>
    public static int WriteReset(Span<byte> destination, ushort messageId)
        => WriteHeader(destination, CoapType.Reset, code: 0, messageId, token: default);

    /// <summary>A confirmable POST to /<paramref name="path"/> (one segment of at most 12 bytes) with a payload.</summary>
    public static int WritePost(Span<byte> destination, ushort messageId, ReadOnlySpan<byte> token, ReadOnlySpan<byte> path,
        ReadOnlySpan<byte> payload)
    {
        var length = WriteHeader(destination, CoapType.Confirmable, Post, messageId, token);
        destination[length++] = (byte)((CoapRequest.UriPathOption << 4) | path.Length);
        path.CopyTo(destination[length..]);
        length += path.Length;
        return WritePayload(destination, length, payload);
    }

    private static int WriteHeader(Span<byte> destination, CoapType type, byte code, ushort messageId, ReadOnlySpan<byte> token)
    {
        destination[0] = (byte)((CoapRequest.Version << 6) | ((int)type << 4) | token.Length);
        destination[1] = code;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], messageId);
        token.CopyTo(destination[CoapRequest.HeaderLength..]);
        return CoapRequest.HeaderLength + token.Length;
    }

    private static int WritePayload(Span<byte> destination, int length, ReadOnlySpan<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return length;
        }
        destination[length++] = 0xFF;
        payload.CopyTo(destination[length..]);
        return length + payload.Length;
    }
}
