using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>GnuTLS (gnutls-cli, gnutls-serv) against HotDtls, both directions.</summary>
public sealed class GnuTlsInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Theory]
    [MemberData(nameof(InteropSuites.All), MemberType = typeof(InteropSuites))]
    public async Task GnuTls_client_completes_handshake_and_each_message_gets_its_ack(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        await using var client = GnuTlsClientPeer.Start(server.EndPoint, suite);

        var description = await client.WaitForHandshakeAsync(cts.Token);
        Assert.Contains(suite == CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 ? "AES-128-GCM" : "AES-256-GCM", description);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(suite, session.CipherSuite);
        Assert.True(session.UsesExtendedMasterSecret);

        for (var i = 1; i <= 3; i++)
        {
            await client.SendLineAsync($"Message #{i}", cts.Token);
            await client.ReceiveTextAsync(AckServer.AckFor(session.RemoteEndPoint), cts.Token);
        }
        Assert.Equal(["Message #1\n", "Message #2\n", "Message #3\n"], server.Events.Received);
    }

    [Theory]
    [MemberData(nameof(InteropSuites.All), MemberType = typeof(InteropSuites))]
    public async Task Client_completes_handshake_with_GnuTls_server_and_gets_echoes(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = GnuTlsServerPeer.Start(suite);
        await server.WaitUntilReadyAsync(cts.Token);
        var options = new DtlsClientOptions { PskIdentity = PeerCredentials.Default.Identity, PskKey = PeerCredentials.Default.GetKey() };

        await using var client = await DtlsClient.ConnectAsync(server.EndPoint, options, cts.Token);
        Assert.Equal(suite, client.CipherSuite);
        Assert.Equal(PeerCredentials.Default.Hint, client.PskIdentityHint);
        Assert.True(client.UsesExtendedMasterSecret);

        var buffer = new byte[client.MaxReceiveSize];
        for (var i = 1; i <= 3; i++)
        {
            client.Send(Encoding.UTF8.GetBytes($"Message #{i}"));
            var length = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal($"Message #{i}", Encoding.UTF8.GetString(buffer, 0, length));
        }
    }
}
