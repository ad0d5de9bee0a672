using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HotDtls.Tests.Support;
using Microsoft.Extensions.Logging;

namespace HotDtls.Tests.Client;

/// <summary>What <see cref="DtlsClient"/> tells its caller about a handshake: a port nobody listens on, and its log.</summary>
public sealed class DtlsClientDiagnosticsTests
{
    private static readonly byte[] s_key = Convert.FromHexString("1a2b3c4d5e6f");

    /// <summary>A loopback port that was free a moment ago and has nothing bound now.</summary>
    private static IPEndPoint UnboundLoopbackPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return (IPEndPoint)socket.LocalEndPoint!;
    }

    [LinuxFact("ICMP port unreachable reported as ECONNREFUSED on a connected UDP socket")]
    public async Task Connecting_to_a_port_where_nothing_listens_fails_after_the_first_retransmission_not_the_timeout()
    {
        // The handshake timeout stays far beyond the test's own limit: only the ICMP reports can end it in time.
        var options = new DtlsClientOptions { PskIdentity = "nobody home", PskKey = s_key, HandshakeTimeout = TimeSpan.FromSeconds(60) };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var started = Stopwatch.GetTimestamp();

        var error = await Assert.ThrowsAsync<DtlsException>(() => DtlsClient.ConnectAsync(UnboundLoopbackPort(), options, cts.Token));

        Assert.Equal(DtlsExceptionReason.Unreachable, error.Reason);
        Assert.Contains("No DTLS server at 127.0.0.1:", error.Message);
        Assert.Contains("nothing listens", error.Message);
        // Two reports: the ClientHello's and its first retransmission's, InitialRetransmitTimeout (1 s) apart.
        Assert.InRange(Stopwatch.GetElapsedTime(started), TimeSpan.Zero, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task The_client_logs_each_handshake_step_with_its_own_event_id_and_never_the_key()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var server = new DtlsServer(new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskStore = PskStore.Single(s_key),
        }, new NoopHandler());
        await server.StartAsync(cts.Token);
        using var provider = new RecordingFactory();
        var options = new DtlsClientOptions { PskIdentity = "logged", PskKey = s_key, LoggerFactory = provider };

        await using (var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, options, cts.Token))
        {
        }

        var ids = provider.Entries.Where(e => e.Category == "HotDtls.Client").Select(e => e.Id).ToList();
        // ClientHello, HelloVerifyRequest, ClientHello with the cookie, ServerHello, established, closed — in that order.
        Assert.Equal([50, 51, 52, 53, 56, 59], ids);
        Assert.Contains(provider.Entries, e => e.Id == 53 && e.Message.Contains("TLS_", StringComparison.Ordinal));
        Assert.All(provider.Entries, e => Assert.DoesNotContain("1a2b3c4d5e6f", e.Message, StringComparison.OrdinalIgnoreCase));
    }

    [LinuxFact("ICMP port unreachable reported as ECONNREFUSED on a connected UDP socket")]
    public async Task The_client_logs_the_ICMP_reports_and_the_retransmission_that_lead_to_failure()
    {
        using var provider = new RecordingFactory();
        var options = new DtlsClientOptions { PskIdentity = "nobody home", PskKey = s_key, LoggerFactory = provider };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        await Assert.ThrowsAsync<DtlsException>(() => DtlsClient.ConnectAsync(UnboundLoopbackPort(), options, cts.Token));

        var ids = provider.Entries.Select(e => e.Id).ToList();
        Assert.Equal([50, 60, 55, 60, 59], ids);
        Assert.Contains("PeerUnreachable", provider.Entries[^1].Message, StringComparison.Ordinal);
    }

    private sealed class NoopHandler : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
        }
    }

    private sealed class RecordingFactory : ILoggerFactory
    {
        public ConcurrentQueue<(string Category, int Id, string Message)> Queue { get; } = new();

        public List<(string Category, int Id, string Message)> Entries => [.. Queue];

        public ILogger CreateLogger(string categoryName) => new Recorder(categoryName, Queue);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private sealed class Recorder(string category, ConcurrentQueue<(string, int, string)> queue) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => queue.Enqueue((category, eventId.Id, formatter(state, exception)));
        }
    }
}
