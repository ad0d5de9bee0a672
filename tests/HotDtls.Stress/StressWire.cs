using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Stress;

/// <summary>
/// Hand-built ClientHello datagrams and the few replies the flooder reads, using the library's own codecs:
/// <code>
/// record header (13) | handshake header (12) | ClientHello body (client_version, random, session_id, cookie, ...)
/// </code>
/// </summary>
internal static class StressWire
{
    /// <summary>Where the 32-byte client random starts in a datagram from <see cref="WriteClientHello"/>.</summary>
    public const int RandomOffset = RecordHeader.Size + HandshakeHeader.Size + 2;

    private static readonly ushort[] s_suites = [(ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256];

    /// <summary>Writes one datagram holding one record with one whole ClientHello; returns its length.</summary>
    public static int WriteClientHello(Span<byte> destination, ReadOnlySpan<byte> random, ReadOnlySpan<byte> cookie,
        ushort messageSeq, ulong recordSequence)
    {
        var body = destination[(RecordHeader.Size + HandshakeHeader.Size)..];
        var bodyLength = ClientHello.Write(body, ProtocolVersion.Dtls12, random, [], cookie, s_suites,
            offerExtendedMasterSecret: true, offerRenegotiationInfo: true);
        new HandshakeHeader(HandshakeType.ClientHello, bodyLength, messageSeq, 0, bodyLength)
            .Write(destination[RecordHeader.Size..]);
        new RecordHeader(ContentType.Handshake, ProtocolVersion.Dtls12, 0, recordSequence,
            (ushort)(HandshakeHeader.Size + bodyLength)).Write(destination);
        return RecordHeader.Size + HandshakeHeader.Size + bodyLength;
    }

    /// <summary>The cookie of the first HelloVerifyRequest in <paramref name="datagram"/>, if it holds one.</summary>
    public static bool TryReadCookie(ReadOnlySpan<byte> datagram, out ReadOnlySpan<byte> cookie)
    {
        cookie = default;
        return FirstHandshake(datagram, out var header, out var body)
            && header.MsgType == HandshakeType.HelloVerifyRequest
            && header.IsComplete
            && HelloVerifyRequest.TryParse(body, out _, out cookie);
    }

    /// <summary>Whether <paramref name="datagram"/> starts the server's flight 4 (a ServerHello first).</summary>
    public static bool IsServerHelloFlight(ReadOnlySpan<byte> datagram)
        => FirstHandshake(datagram, out var header, out _) && header.MsgType == HandshakeType.ServerHello;

    private static bool FirstHandshake(ReadOnlySpan<byte> datagram, out HandshakeHeader header, out ReadOnlySpan<byte> body)
    {
        header = default;
        body = default;
        if (!RecordHeader.TryRead(datagram, out var record) || record.Type != ContentType.Handshake || record.Epoch != 0
            || datagram.Length < RecordHeader.Size + record.Length)
        {
            return false;
        }
        var fragment = datagram.Slice(RecordHeader.Size, record.Length);
        if (!HandshakeHeader.TryRead(fragment, out header) || fragment.Length < HandshakeHeader.Size + header.FragmentLength)
        {
            return false;
        }
        body = fragment.Slice(HandshakeHeader.Size, header.FragmentLength);
        return true;
    }
}
