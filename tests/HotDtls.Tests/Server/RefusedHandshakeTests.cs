using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

public sealed class RefusedHandshakeTests
{
    [Fact]
    public void No_common_suite_gets_a_handshake_failure_alert_numbered_like_the_ClientHello()
    {
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[5] = 5;
        // TLS_DHE_PSK_WITH_AES_128_GCM_SHA256: finite-field DHE_PSK is deliberately not supported (docs/design.md).
        ushort[] dhePskOnly = [0x00AA];
        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 0,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 0, Wire.ClientHelloBody(random, [], dhePskOnly))));
        var cookie = Wire.CookieOf(server.Sender.TakeFor(from).Single())!;

        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 1,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, Wire.ClientHelloBody(random, cookie, dhePskOnly))));

        // The client's replay window has seen record 0 (the HelloVerifyRequest): the alert must be record 1, the
        // ClientHello's number (RFC 6347 §4.2.1), or a real client drops it and retransmits until it times out.
        var (header, body) = Wire.Records(server.Sender.TakeFor(from).Single()).Single();
        Assert.Equal(HotDtls.Records.ContentType.Alert, header.Type);
        Assert.Equal(1UL, header.SequenceNumber);
        Assert.Equal(new byte[] { (byte)AlertLevel.Fatal, (byte)AlertDescription.HandshakeFailure }, body);
        Assert.Equal(1, server.Statistics.HandshakesFailed);
        Assert.Equal(0, server.Statistics.Sessions);
    }
}
