using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>
/// Session resumption against real peers: OpenSSL's s_client (<c>-sess_out</c>/<c>-sess_in</c>, by session ID and by
/// RFC 5077 ticket) and gnutls-cli <c>--resume</c> against the HotDtls server, and the HotDtls client resuming
/// against <c>openssl s_server</c> and <c>gnutls-serv</c>.
/// </summary>
public sealed class ResumptionInteropTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private const CipherSuite Suite = CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;

    private readonly string _sessionFile = Path.Combine(Path.GetTempPath(), $"hotdtls-session-{Guid.NewGuid():N}.pem");

    public void Dispose() => File.Delete(_sessionFile);

    private static DtlsClientOptions ClientOptions(DtlsSavedSession? session = null, bool tickets = true)
    {
        var options = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
            Session = session,
            UseSessionTickets = tickets,
        };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(Suite);
        return options;
    }

    [ToolFact("openssl")]
    public async Task OpenSsl_client_resumes_by_session_id()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync(o => o.EnableSessionResumption = true);

        Assert.Equal("New", await OpenSslSessionClient.ConnectAsync(server.EndPoint, Suite, ["-sess_out", _sessionFile, "-no_ticket"], cts.Token));
        Assert.Equal("Reused", await OpenSslSessionClient.ConnectAsync(server.EndPoint, Suite, ["-sess_in", _sessionFile, "-no_ticket"], cts.Token));

        await Conditions.WaitUntilAsync(() => server.Server.Statistics.HandshakesResumed >= 1,
            () => "the server to count the resumed handshake", cts.Token);
        Assert.Equal(1, server.Server.Statistics.HandshakesResumed);
        Assert.Equal(2, server.Server.Statistics.HandshakesCompleted);
    }

    [ToolFact("openssl")]
    public async Task OpenSsl_client_resumes_by_ticket()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        // Tickets only: the server keeps nothing, so a resumption can only come from the ticket.
        await using var server = await AckServer.StartAsync(o => o.EnableSessionTickets = true);

        Assert.Equal("New", await OpenSslSessionClient.ConnectAsync(server.EndPoint, Suite, ["-sess_out", _sessionFile], cts.Token));
        Assert.Equal("Reused", await OpenSslSessionClient.ConnectAsync(server.EndPoint, Suite, ["-sess_in", _sessionFile], cts.Token));

        await Conditions.WaitUntilAsync(() => server.Server.Statistics.HandshakesResumed >= 1,
            () => "the server to count the resumed handshake", cts.Token);
        Assert.Equal(1, server.Server.Statistics.HandshakesResumed);
    }

    [ToolFact("openssl")]
    public async Task OpenSsl_client_offering_an_unknown_session_gets_a_full_handshake()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using (var first = await AckServer.StartAsync(o => o.EnableSessionResumption = true))
        {
            Assert.Equal("New", await OpenSslSessionClient.ConnectAsync(first.EndPoint, Suite, ["-sess_out", _sessionFile, "-no_ticket"], cts.Token));
        }
        await using var other = await AckServer.StartAsync(o => o.EnableSessionResumption = true);

        Assert.Equal("New", await OpenSslSessionClient.ConnectAsync(other.EndPoint, Suite, ["-sess_in", _sessionFile, "-no_ticket"], cts.Token));
        Assert.Equal(0, other.Server.Statistics.HandshakesResumed);
    }

    [ToolTheory("gnutls-cli")]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GnuTls_client_resumes(bool tickets)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync(o =>
        {
            o.EnableSessionResumption = !tickets;
            o.EnableSessionTickets = tickets;
        });
        await using var client = GnuTlsClientPeer.Start(server.EndPoint, Suite, extraArguments: ["--resume"]);

        await client.ReceiveTextAsync("*** This is a resumed session", cts.Token);

        // The client's Finished ends an abbreviated handshake: gnutls-cli reports the resumption when it has the server's
        // Finished, which may be before the server has counted the client's (seen once in CI).
        await Conditions.WaitUntilAsync(() => server.Server.Statistics.HandshakesResumed >= 1,
            () => "the server to count the resumed handshake", cts.Token);
        Assert.Equal(1, server.Server.Statistics.HandshakesResumed);
    }

    [ToolTheory("openssl")]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HotDtls_client_resumes_against_OpenSsl_server(bool tickets)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = OpenSslServerPeer.Start(Suite, extraArguments: ["-naccept", "2"]);
        await server.WaitUntilReadyAsync(cts.Token);
        // s_server answers our close_notify with its own; sent to a socket already closed it draws an ICMP port
        // unreachable, on which s_server stops accepting (s_client avoids it by lingering after its close_notify). A
        // relay that loses nothing keeps one socket towards s_server for both connections.
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions());
        DtlsSavedSession saved;
        await using (var first = await DtlsClient.ConnectAsync(relay.EndPoint, ClientOptions(tickets: tickets), cts.Token))
        {
            Assert.False(first.IsResumed);
            saved = Assert.IsType<DtlsSavedSession>(first.SaveSession());
            Assert.Equal(tickets, saved.HasTicket);
        }

        using (saved)
        {
            await using var second = await DtlsClient.ConnectAsync(relay.EndPoint, ClientOptions(saved, tickets), cts.Token);
            Assert.True(second.IsResumed);
            var buffer = new byte[second.MaxReceiveSize];
            second.Send("resumed\n"u8);
            var length = await second.ReceiveAsync(buffer, cts.Token);
            Assert.Equal("resumed\n", Encoding.UTF8.GetString(buffer, 0, length));
        }
    }

    [ToolTheory("gnutls-serv")]
    [InlineData(true)]
    [InlineData(false)]
    public async Task HotDtls_client_resumes_against_GnuTls_server(bool tickets)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = GnuTlsServerPeer.Start(Suite);
        await server.WaitUntilReadyAsync(cts.Token);
        DtlsSavedSession saved;
        await using (var first = await DtlsClient.ConnectAsync(server.EndPoint, ClientOptions(tickets: tickets), cts.Token))
        {
            Assert.False(first.IsResumed);
            saved = Assert.IsType<DtlsSavedSession>(first.SaveSession());
        }

        using (saved)
        {
            await using var second = await DtlsClient.ConnectAsync(server.EndPoint, ClientOptions(saved, tickets), cts.Token);
            Assert.True(second.IsResumed);
            var buffer = new byte[second.MaxReceiveSize];
            second.Send("resumed\n"u8);
            var length = await second.ReceiveAsync(buffer, cts.Token);
            Assert.Equal("resumed\n", Encoding.UTF8.GetString(buffer, 0, length));
        }
    }
}
