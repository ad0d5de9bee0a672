using System.Net;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

public sealed class ServerEngineTests
{
    [Fact]
    public void Handshake_completes_and_datagram_is_acknowledged()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);

        Assert.True(client.Send("Message #1"));
        Exchange.Pump(server, client);

        Assert.Equal(["Message #1"], server.Handler.TextsFrom(client.EndPoint));
        Assert.Equal([$"to {client.EndPoint}: ACK"], client.Received);
        var stats = server.Statistics;
        Assert.Equal(1, stats.HandshakesCompleted);
        Assert.Equal(1, stats.HelloVerifyRequestsSent);
        Assert.Equal(1, stats.Sessions);
        Assert.Equal(0, stats.HandshakesInProgress);
    }

    [Theory]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    public void Each_suite_negotiates_when_it_is_the_only_one_offered(CipherSuite suite)
    {
        using var server = new ServerHarness();
        var options = new DtlsClientOptions { PskIdentity = "id", PskKey = ServerHarness.Key, TimeProvider = server.Time };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(suite);
        using var client = new TestClient(server, Exchange.DefaultClient, options);
        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.Equal(suite, client.Connection.NegotiatedSuite);
        Assert.Equal(suite, server.Handler.Established.Single().CipherSuite);
        Assert.True(client.Connection.UsesExtendedMasterSecret);
    }

    [Fact]
    public void Many_peers_on_one_engine_each_get_their_own_ack()
    {
        using var server = new ServerHarness();
        var clients = new List<TestClient>();
        for (var i = 0; i < 20; i++)
        {
            clients.Add(Exchange.Handshake(server, new IPEndPoint(IPAddress.Loopback, 41000 + i), seed: i));
        }
        foreach (var client in clients)
        {
            client.Send($"hello from {client.EndPoint.Port}");
            Exchange.Pump(server, client);
            Assert.Equal([$"to {client.EndPoint}: ACK"], client.Received);
            client.Dispose();
        }
        Assert.Equal(20, server.Statistics.Sessions);
    }
}
