using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Tests.Support;

/// <summary>Hand-built wire bytes for hostile-input tests: records, handshake fragments, ClientHellos.</summary>
internal static class Wire
{
    public static readonly ushort[] DefaultSuites = [(ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256];

    public static byte[] Concat(params byte[][] parts)
    {
        var total = 0;
        foreach (var part in parts)
        {
            total += part.Length;
        }
        var result = new byte[total];
        var offset = 0;
        foreach (var part in parts)
        {
            part.CopyTo(result, offset);
            offset += part.Length;
        }
        return result;
    }

    /// <summary>A DTLSPlaintext record; <paramref name="length"/> overrides the length field (to lie about it).</summary>
    public static byte[] Record(ContentType type, ushort epoch, ulong sequence, ReadOnlySpan<byte> body,
        ushort version = ProtocolVersion.Dtls12, int? length = null)
    {
        var record = new byte[RecordHeader.Size + body.Length];
        new RecordHeader(type, version, epoch, sequence, (ushort)(length ?? body.Length)).Write(record);
        body.CopyTo(record.AsSpan(RecordHeader.Size));
        return record;
    }

    /// <summary>A whole handshake message (header + body) as one fragment.</summary>
    public static byte[] Handshake(HandshakeType type, ushort messageSeq, ReadOnlySpan<byte> body)
        => HandshakeFragment(type, messageSeq, body.Length, 0, body);

    /// <summary>One fragment of a handshake message of <paramref name="totalLength"/> bytes.</summary>
    public static byte[] HandshakeFragment(HandshakeType type, ushort messageSeq, int totalLength, int offset,
        ReadOnlySpan<byte> fragment, int? fragmentLength = null)
    {
        var bytes = new byte[HandshakeHeader.Size + fragment.Length];
        new HandshakeHeader(type, totalLength, messageSeq, offset, fragmentLength ?? fragment.Length).Write(bytes);
        fragment.CopyTo(bytes.AsSpan(HandshakeHeader.Size));
        return bytes;
    }

    /// <summary>A ClientHello body such as HotDtls's client writes.</summary>
    public static byte[] ClientHelloBody(ReadOnlySpan<byte> random, ReadOnlySpan<byte> cookie, ushort[]? suites = null,
        bool extendedMasterSecret = true, ushort version = ProtocolVersion.Dtls12)
    {
        suites ??= DefaultSuites;
        var buffer = new byte[512 + cookie.Length + 2 * suites.Length];
        var length = ClientHello.Write(buffer, version, random, [], cookie, suites, extendedMasterSecret, offerRenegotiationInfo: true);
        return buffer[..length];
    }

    /// <summary>A datagram holding one record with one complete ClientHello.</summary>
    public static byte[] ClientHelloDatagram(ReadOnlySpan<byte> random, ReadOnlySpan<byte> cookie, ushort messageSeq = 0,
        ulong recordSequence = 0, ushort recordVersion = ProtocolVersion.Dtls12)
        => Record(ContentType.Handshake, 0, recordSequence,
            Handshake(HandshakeType.ClientHello, messageSeq, ClientHelloBody(random, cookie)), recordVersion);

    /// <summary>Every record of a datagram, as header and body copies.</summary>
    public static List<(RecordHeader Header, byte[] Body)> Records(byte[] datagram)
    {
        var result = new List<(RecordHeader, byte[])>();
        var reader = new DatagramReader(datagram);
        while (reader.TryReadRecord(out var header, out var offset))
        {
            result.Add((header, datagram.AsSpan(offset, header.Length).ToArray()));
        }
        return result;
    }

    /// <summary>The cookie of a datagram holding a HelloVerifyRequest, or null if it holds none.</summary>
    public static byte[]? CookieOf(byte[] datagram)
    {
        foreach (var (header, body) in Records(datagram))
        {
            if (header.Type == ContentType.Handshake && HandshakeHeader.TryRead(body, out var hs)
                && hs.MsgType == HandshakeType.HelloVerifyRequest
                && HelloVerifyRequest.TryParse(body.AsSpan(HandshakeHeader.Size, hs.FragmentLength), out _, out var cookie))
            {
                return cookie.ToArray();
            }
        }
        return null;
    }

    /// <summary>Gets a valid cookie for <paramref name="random"/> from the server at <paramref name="from"/>.</summary>
    public static byte[] FetchCookie(ServerHarness server, System.Net.SocketAddress from, byte[] random)
    {
        server.Deliver(from, ClientHelloDatagram(random, []));
        var replies = server.Sender.TakeFor(from);
        Assert.Single(replies);
        return CookieOf(replies[0]) ?? throw new InvalidOperationException("No HelloVerifyRequest came back.");
    }
}
