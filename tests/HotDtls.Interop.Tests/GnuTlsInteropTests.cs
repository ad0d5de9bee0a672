using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>GnuTLS (gnutls-cli, gnutls-serv) against HotDtls, both directions, every suite the two share.</summary>
public sealed class GnuTlsInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    // .NET reports a process a signal ended as 128 + the signal number.
    private const int KilledBySigsegv = 128 + 11;

    [ToolTheory("gnutls-cli")]
    [MemberData(nameof(InteropSuites.GnuTlsCli), MemberType = typeof(InteropSuites))]
    public async Task GnuTls_client_completes_handshake_and_each_message_gets_its_ack(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        await using var client = GnuTlsClientPeer.Start(server.EndPoint, suite);

        var description = await client.WaitForHandshakeAsync(cts.Token);
        Assert.Contains(InteropSuites.GnuTlsDescription(suite), description, StringComparison.Ordinal);
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

    /// <summary>
    /// gnutls-cli 3.7.9 completes an ECDHE-PSK handshake, then dies of SIGSEGV in its session printer
    /// (<c>gnutls_psk_server_get_username</c> on a client session) before it reads stdin — against OpenSSL's s_server as
    /// much as HotDtls. What can be checked is checked: the HotDtls server verified gnutls-cli's Finished and established
    /// the session with the suite. The crash is the only exit accepted; a gnutls-cli without the bug must also get its
    /// ACK.
    /// </summary>
    [ToolTheory("gnutls-cli")]
    [MemberData(nameof(InteropSuites.GnuTlsEcdhePsk), MemberType = typeof(InteropSuites))]
    public async Task GnuTls_client_ECDHE_PSK_handshake_is_established_at_the_server(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        await using var client = GnuTlsClientPeer.Start(server.EndPoint, suite);

        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(suite, session.CipherSuite);
        Assert.True(session.UsesExtendedMasterSecret);

        string description;
        try
        {
            description = await client.WaitForHandshakeAsync(cts.Token);
        }
        catch (PeerException) when (!cts.IsCancellationRequested)
        {
            await client.WaitForExitAsync(cts.Token);
            Assert.True(client.ExitCode == KilledBySigsegv, $"gnutls-cli failed other than by its known crash:\n{client.Diagnostics}");
            return;
        }
        Assert.Contains(InteropSuites.GnuTlsDescription(suite), description, StringComparison.Ordinal);
        await client.SendLineAsync("ecdhe", cts.Token);
        await client.ReceiveTextAsync(AckServer.AckFor(session.RemoteEndPoint), cts.Token);
    }

    [ToolTheory("gnutls-serv")]
    [MemberData(nameof(InteropSuites.GnuTls), MemberType = typeof(InteropSuites))]
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
