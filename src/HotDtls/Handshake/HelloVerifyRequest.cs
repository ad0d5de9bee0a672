namespace HotDtls.Handshake;

/// <summary>
/// HelloVerifyRequest body, RFC 6347 §4.2.1:
/// <code>
/// struct {
///     ProtocolVersion server_version;          // uint16
///     opaque cookie&lt;0..2^8-1&gt;;
/// } HelloVerifyRequest;
/// </code>
/// "The server_version field has the same syntax as in TLS. However, in order to avoid the requirement to
/// do version negotiation in the initial handshake, DTLS 1.2 server implementations SHOULD use DTLS
/// version 1.0 regardless of the version of TLS that is expected to be negotiated." The message is kept
/// no larger than the ClientHello it answers so it cannot amplify a spoofed one (HOSTILE 19).
/// </summary>
internal static class HelloVerifyRequest
{
    public static bool TryParse(ReadOnlySpan<byte> body, out ushort serverVersion, out ReadOnlySpan<byte> cookie)
    {
        var reader = new HandshakeReader(body);
        if (!reader.TryReadUInt16(out serverVersion)
            || !reader.TryReadOpaque8(0, ClientHello.MaxCookieLength, out cookie)
            || !reader.IsEmpty)
        {
            serverVersion = 0;
            cookie = default;
            return false;
        }

        return true;
    }

    /// <summary>Exact number of bytes <see cref="Write"/> produces for a cookie of this length.</summary>
    public static int GetLength(int cookieLength) => 2 + 1 + cookieLength;

    public static int Write(Span<byte> destination, ushort serverVersion, ReadOnlySpan<byte> cookie)
    {
        HandshakeWriter.EnsureLength(cookie, 0, ClientHello.MaxCookieLength, nameof(cookie));
        HandshakeWriter.EnsureCapacity(destination, GetLength(cookie.Length));
        var writer = new HandshakeWriter(destination);
        writer.WriteUInt16(serverVersion);
        writer.WriteOpaque8(cookie);
        return writer.Written;
    }
}
