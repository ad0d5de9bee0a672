using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

public sealed class CookieBindingTests
{
    [Fact]
    public void A_cookie_replayed_with_other_cipher_suites_gets_a_fresh_HelloVerifyRequest_and_no_state()
    {
        // RFC 6347 §4.2.1: the second ClientHello repeats version, random, session_id, cipher_suites and
        // compression_methods; the cookie binds all of them.
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[3] = 3;
        var cookie = Wire.FetchCookie(server, from, random);
        ushort[] otherSuites = [(ushort)CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384];

        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 1,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, Wire.ClientHelloBody(random, cookie, otherSuites))));

        Assert.NotNull(Wire.CookieOf(server.Sender.TakeFor(from).Single()));
        Assert.Equal(0, server.Statistics.HandshakesStarted);

        // Control: the same cookie with the suites it was made for starts the handshake.
        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 2,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, Wire.ClientHelloBody(random, cookie))));
        Assert.Equal(1, server.Statistics.HandshakesStarted);
    }

    [Fact]
    public void A_cookie_replayed_with_other_compression_methods_gets_a_fresh_HelloVerifyRequest()
    {
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[4] = 4;
        var cookie = Wire.FetchCookie(server, from, random);
        var body = Wire.ClientHelloBody(random, cookie);
        // compression_methods sits right after cipher_suites: <len=1><0>. Offer {1, 0} instead (same length
        // budget is not needed: rebuild the body around it).
        var compressionOffset = 2 + 32 + 1 + 0 + 1 + cookie.Length + 2 + 2;
        Assert.Equal(1, body[compressionOffset]);
        var altered = Wire.Concat(body[..compressionOffset], [2, 1, 0], body[(compressionOffset + 2)..]);

        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 1,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, altered)));

        Assert.NotNull(Wire.CookieOf(server.Sender.TakeFor(from).Single()));
        Assert.Equal(0, server.Statistics.HandshakesStarted);
    }
}
