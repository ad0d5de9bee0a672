using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

public sealed class HelloVerifyRequestLimitTests
{
    [Fact]
    public void A_datagram_packing_several_cookieless_ClientHellos_gets_one_HelloVerifyRequest()
    {
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var datagram = Wire.Concat(
            Wire.ClientHelloDatagram(new byte[32], [], recordSequence: 0),
            Wire.ClientHelloDatagram(new byte[32], [], recordSequence: 1),
            Wire.ClientHelloDatagram(new byte[32], [], recordSequence: 2));

        server.Deliver(from, datagram);

        Assert.Single(server.Sender.TakeFor(from));
        Assert.Equal(1, server.Statistics.HelloVerifyRequestsSent);
        Assert.True(server.Sender.BytesSent <= datagram.Length);
    }

    [Fact]
    public void A_whole_ClientHello_above_MaxHandshakeMessageLength_is_dropped_even_with_a_valid_cookie()
    {
        using var server = new ServerHarness(o => o.MaxHandshakeMessageLength = 1024);
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[1] = 1;
        var cookie = Wire.FetchCookie(server, from, random);
        var manySuites = new ushort[700];
        for (var i = 0; i < manySuites.Length; i++)
        {
            manySuites[i] = (ushort)(0x1000 + i);
        }
        manySuites[^1] = (ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        var body = Wire.ClientHelloBody(random, cookie, manySuites);
        Assert.True(body.Length > 1024);

        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 1,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, body)));

        Assert.Equal(0, server.Statistics.HandshakesStarted);
        Assert.Equal(0, server.Sender.Count);
    }
}
