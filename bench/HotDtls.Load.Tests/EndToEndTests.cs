using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace HotDtls.Load.Tests;

/// <summary>
/// The generator against real sockets on 127.0.0.1: a HotDtls server in this process (echoing), the self-test echo,
/// and a port nobody listens on. Short runs: they check that figures come out and add up, not what they are.
/// </summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private DtlsServer? _server;

    public async Task InitializeAsync()
    {
        _server = new DtlsServer(new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskIdentityHint = "Qt DTLS example server",
            PskStore = PskStore.Single(Convert.FromHexString("1a2b3c4d5e6f")),
        }, new EchoHandler(this));
        await _server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private string Server => $"127.0.0.1:{_server!.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture)}";

    private static (int Code, JsonElement Result) Run(params string[] args)
    {
        using var output = new StringWriter();
        var code = Runner.Run(LoadOptions.Parse([.. args, "--json", "--no-progress"]), output);
        using var json = JsonDocument.Parse(output.ToString());
        return (code, json.RootElement.Clone());
    }

    [Fact]
    public void Handshake_mode_counts_every_handshake_and_its_latency()
    {
        var (code, result) = Run("handshake", "--server", Server, "-n", "20", "-c", "4");
        Assert.Equal(0, code);
        Assert.Equal(20, result.GetProperty("handshakes").GetInt64());
        Assert.Equal(0, result.GetProperty("failures").GetInt64());
        Assert.Equal(20, result.GetProperty("latency_count").GetInt64());
        Assert.True(result.GetProperty("handshakes_per_second").GetDouble() > 0);
        Assert.Equal("TLS_PSK_WITH_AES_128_GCM_SHA256", result.GetProperty("suite").GetString());
    }

    [Theory]
    [InlineData("id")]
    [InlineData("ticket")]
    public async Task Handshake_mode_resumes_each_slots_session_after_its_first_full_handshake(string mode)
    {
        await using var server = new DtlsServer(new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskStore = PskStore.Single(Convert.FromHexString("1a2b3c4d5e6f")),
            EnableSessionResumption = true,
            EnableSessionTickets = true,
        }, new EchoHandler(this));
        await server.StartAsync();
        var port = server.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture);

        var (code, result) = Run("handshake", "--server", $"127.0.0.1:{port}", "-n", "20", "-c", "4", "--warmup", "0",
            "--resume", mode);

        Assert.Equal(0, code);
        Assert.Equal(20, result.GetProperty("handshakes").GetInt64());
        Assert.Equal(mode, result.GetProperty("resume").GetString());
        // Each of the 4 slots runs its first handshake in full, and resumes in every later one.
        Assert.Equal(16, result.GetProperty("handshakes_resumed").GetInt64());
        // In the abbreviated handshake the client sends the last Finished: the server may count the last one or two
        // just after the run has ended (this assertion failed once in four full runs of the project).
        Assert.True(await WaitFor(() => server.Statistics.HandshakesResumed == 16), $"server resumed {server.Statistics.HandshakesResumed}");
    }

    [Fact]
    public void Echo_mode_matches_every_echo_and_loses_none()
    {
        var (code, result) = Run("echo", "--server", Server, "-k", "3", "-w", "2", "-s", "100", "-d", "0.5", "--warmup", "0.1",
            "--suite", "aes256gcm", "--timeout", "5000");
        Assert.Equal(0, code);
        var sent = result.GetProperty("sent").GetInt64();
        Assert.True(sent > 0);
        Assert.Equal(sent, result.GetProperty("received").GetInt64() + result.GetProperty("lost").GetInt64());
        Assert.Equal(0, result.GetProperty("lost").GetInt64());
        Assert.Equal(100, result.GetProperty("reply_bytes_mean").GetDouble());
        Assert.Equal("TLS_PSK_WITH_AES_256_GCM_SHA384", result.GetProperty("suite").GetString());
    }

    [Theory]
    [InlineData("psk-aes128ccm8", null, "TLS_PSK_WITH_AES_128_CCM_8")]
    [InlineData("psk-chacha20", null, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256")]
    [InlineData("psk-cbc", null, "TLS_PSK_WITH_AES_128_CBC_SHA256")]
    [InlineData("ecdhe-aes128gcm", "x25519", "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256")]
    [InlineData("ecdhe-chacha20", "p256", "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256")]
    public void Each_suite_and_group_asked_for_is_the_one_negotiated(string suite, string? group, string negotiated)
    {
        // The server runs with the library's defaults (every suite, both groups), as `hotdtls serve` does: the offer decides.
        string[] groupArgs = group is null ? [] : ["--group", group];
        var (code, handshakes) = Run(["handshake", "--server", Server, "-n", "6", "-c", "2", "--suite", suite, .. groupArgs]);
        Assert.Equal(0, code);
        Assert.Equal(6, handshakes.GetProperty("handshakes").GetInt64());
        Assert.Equal(negotiated, handshakes.GetProperty("suite").GetString());
        Assert.Equal(group is not null, handshakes.TryGetProperty("groups", out var groups));
        if (group is not null)
        {
            Assert.Equal(group, groups.GetString());
        }
        var (echoCode, echo) = Run(["echo", "--server", Server, "-k", "2", "-w", "2", "-s", "1200", "-d", "0.3", "--warmup", "0",
            "--timeout", "5000", "--suite", suite, .. groupArgs]);
        Assert.Equal(0, echoCode);
        Assert.Equal(negotiated, echo.GetProperty("suite").GetString());
        Assert.True(echo.GetProperty("received").GetInt64() > 0);
        Assert.Equal(0, echo.GetProperty("lost").GetInt64());
        Assert.Equal(1200, echo.GetProperty("reply_bytes_mean").GetDouble());
    }

    [Theory]
    [InlineData("8")]       // batched: one recvmmsg and one sendmmsg per ready session
    [InlineData("100")]     // a window above the largest batch: several calls per burst
    [InlineData("no-batch")] // one recv per wake-up and one send per datagram
    public void Echo_over_dtls_loses_nothing_with_or_without_batches(string window)
    {
        string[] args = window == "no-batch"
            ? ["echo", "--server", Server, "-k", "4", "-w", "8", "--no-batch"]
            : ["echo", "--server", Server, "-k", "4", "-w", window];
        var (code, result) = Run([.. args, "-s", "600", "-d", "0.5", "--warmup", "0.1", "--timeout", "5000"]);
        Assert.Equal(0, code);
        var sent = result.GetProperty("sent").GetInt64();
        Assert.True(sent > 0);
        Assert.Equal(sent, result.GetProperty("received").GetInt64());
        Assert.Equal(0, result.GetProperty("lost").GetInt64());
        Assert.Equal(0, result.GetProperty("send_errors").GetInt64());
        Assert.Equal(0, result.GetProperty("unmatched").GetInt64());
        Assert.Equal(600, result.GetProperty("reply_bytes_mean").GetDouble());
        Assert.True(_server!.Statistics.DatagramsDelivered >= sent); // the server opened every one as a DTLS record
    }

    [Fact]
    public void Open_loop_echo_sends_at_about_the_asked_rate()
    {
        var (code, result) = Run("echo", "--server", Server, "-k", "2", "-s", "32", "-d", "1", "--warmup", "0", "--rate", "200",
            "--timeout", "5000");
        Assert.Equal(0, code);
        // 200/s for 1 s; the first send is at once, and the test host may stall: a loose band.
        Assert.InRange(result.GetProperty("sent").GetInt64(), 150, 202);
    }

    [Theory]
    [InlineData("echo")]
    [InlineData("handshake")]
    public void With_a_pid_echo_and_handshake_report_the_server_CPU_per_operation(string mode)
    {
        // The server runs in this process: its CPU over the measured window is this process's, and it did work. The
        // kernel counts CPU time in 10 ms ticks: 50 handshakes once measured 0 ticks, so the run is long enough for several.
        var pid = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        string[] args = mode == "echo"
            ? ["echo", "--server", Server, "-k", "2", "-w", "4", "-s", "200", "-d", "0.5", "--warmup", "0.1", "--pid", pid]
            : ["handshake", "--server", Server, "-n", "400", "-c", "4", "--warmup", "0", "--pid", pid];
        var (code, result) = Run([.. args, "--timeout", "5000"]);
        Assert.Equal(0, code);
        Assert.True(result.GetProperty("server_cpu_seconds").GetDouble() > 0);
        Assert.True(result.GetProperty("server_cpu_us_per_op").GetDouble() > 0);
    }

    [Fact]
    public void Without_a_pid_no_server_CPU_is_reported()
    {
        var (code, result) = Run("echo", "--server", Server, "-k", "1", "-w", "1", "-s", "50", "-d", "0.2", "--warmup", "0",
            "--timeout", "5000");
        Assert.Equal(0, code);
        Assert.False(result.TryGetProperty("server_cpu_us_per_op", out _));
    }

    [Fact]
    public void Hold_mode_reports_the_memory_of_the_process_it_is_given()
    {
        var (code, result) = Run("hold", "--server", Server, "-k", "5", "-c", "2", "--settle", "0", "--pid",
            Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(0, code);
        Assert.Equal(5, result.GetProperty("sessions_held").GetInt64());
        Assert.True(result.GetProperty("server_rss_after_kib").GetInt64() > 0);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Hold_with_cid_reports_the_sessions_that_use_one(bool release)
    {
        string[] args = ["hold", "--server", Server, "-k", "20", "-c", "4", "--settle", "0", "--cid"];
        var (code, result) = Run(release ? [.. args, "--release-sockets"] : args);
        Assert.Equal(0, code);
        Assert.Equal(20, result.GetProperty("sessions_held").GetInt64());
        Assert.Equal(20, result.GetProperty("sessions_with_cid").GetInt64()); // The server issues 6-byte CIDs by default.
    }

    [Fact]
    public void Hold_without_cid_says_nothing_of_CIDs()
    {
        var (code, result) = Run("hold", "--server", Server, "-k", "3", "-c", "3", "--settle", "0");
        Assert.Equal(0, code);
        Assert.False(result.TryGetProperty("sessions_with_cid", out _));
    }

    [Fact]
    public void Hold_with_released_sockets_leaves_every_session_to_the_server()
    {
        var (code, result) = Run("hold", "--server", Server, "-k", "300", "-c", "16", "--settle", "0", "--release-sockets",
            "--threads", "2", "--pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(0, code);
        Assert.Equal(300, result.GetProperty("sessions_held").GetInt64());
        Assert.Equal(0, result.GetProperty("failures").GetInt64());
        Assert.True(result.GetProperty("sockets_released").GetBoolean());
        Assert.Equal(0, result.GetProperty("keepalives_sent").GetInt64());
        // Every session came from its own address and port: none replaced another, and the server still holds all.
        var statistics = _server!.Statistics;
        Assert.Equal(300, statistics.HandshakesCompleted);
        Assert.Equal(300, statistics.Sessions);
        Assert.Equal(300, _sources.Count);
        Assert.All(_sources.Keys, source => Assert.Equal(3, source.Address.GetAddressBytes()[1])); // 127.3.x.y
    }

    [Fact]
    public void Rebind_with_a_CID_keeps_every_session_across_every_move()
    {
        var (code, result) = Run("rebind", "--server", Server, "-k", "4", "--rebinds", "3", "--interval", "20", "--timeout", "2000");
        Assert.Equal(0, code);
        Assert.Equal(4, result.GetProperty("sessions_with_cid").GetInt64());
        Assert.Equal(12, result.GetProperty("moves").GetInt64());
        Assert.Equal(12, result.GetProperty("echoes_after_move_answered").GetInt64());
        Assert.Equal(4, result.GetProperty("sessions_kept").GetInt64());
        Assert.Equal(0, result.GetProperty("sessions_lost").GetInt64());
        Assert.Equal(0, result.GetProperty("new_handshakes").GetInt64());
        // The server saw each session come from a new port three times, and never a second handshake.
        var statistics = _server!.Statistics;
        Assert.Equal(12, statistics.PeerAddressChanges);
        Assert.Equal(4, statistics.HandshakesCompleted);
    }

    [Fact]
    public async Task Rebind_without_a_CID_reports_every_session_lost_and_fails()
    {
        await using var server = new DtlsServer(new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskStore = PskStore.Single(Convert.FromHexString("1a2b3c4d5e6f")),
            ConnectionIdLength = null, // `hotdtls serve --no-cid`: the extension is ignored
        }, new EchoHandler(this));
        await server.StartAsync();
        var port = server.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture);

        var (code, result) = Run("rebind", "--server", $"127.0.0.1:{port}", "-k", "3", "--rebinds", "2", "--interval", "20",
            "--timeout", "300");

        Assert.Equal(1, code);
        Assert.Equal(0, result.GetProperty("sessions_with_cid").GetInt64());
        Assert.Equal(0, result.GetProperty("sessions_kept").GetInt64());
        Assert.Equal(3, result.GetProperty("sessions_lost").GetInt64());
        Assert.Equal(0, result.GetProperty("echoes_after_move_answered").GetInt64());
        // Each move lost the session, and a new handshake took its place.
        Assert.Equal(6, result.GetProperty("new_handshakes").GetInt64());
        Assert.Equal(9, server.Statistics.HandshakesCompleted);
        Assert.Contains("no Connection ID", result.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Failover_sessions_come_back_to_a_restarted_server_resumed_only_if_it_keeps_the_ticket_keys(bool sameKeys)
    {
        var ticketKey = new byte[48];
        Random.Shared.NextBytes(ticketKey);
        var first = await StartTicketServer(0, ticketKey);
        var port = first.LocalEndPoint.Port;
        DtlsServer? second = null;
        try
        {
            var run = Task.Run(() => Run("failover", "--server", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
                "-k", "4", "-d", "4", "--interval", "50", "--timeout", "500", "--rto", "100"));
            // Every session established and echoing before the server goes.
            Assert.True(await WaitFor(() => first.Statistics.HandshakesCompleted == 4 && first.Statistics.DatagramsDelivered >= 12));
            Assert.False(run.IsCompleted);
            await first.DisposeAsync();
            second = await StartTicketServer(port, sameKeys ? ticketKey : null);

            var (code, result) = await run;

            Assert.True(code == 0, result.ToString());
            Assert.Equal(4, result.GetProperty("sessions_established").GetInt64());
            Assert.Equal(0, result.GetProperty("never_came_back").GetInt64());
            // Every session lost its server at least once, and each outage ended with an echo answered again. A session
            // may also have reached the stopping server once more (its socket closes after its close_notify) and lost
            // it again: that outage and its reconnect are real, and counted.
            var outages = result.GetProperty("outages").GetInt64();
            Assert.InRange(outages, 4, 8);
            Assert.Equal(outages, result.GetProperty("recovered").GetInt64());
            var reconnects = result.GetProperty("reconnects").GetInt64();
            Assert.True(reconnects >= outages);
            // The restarted server holds one handshake per session: abbreviated if it can open the ticket, else full.
            Assert.Equal(sameKeys ? 0 : 4, result.GetProperty("reconnects_full").GetInt64());
            Assert.Equal(reconnects - (sameKeys ? 0 : 4), result.GetProperty("reconnects_resumed").GetInt64());
            Assert.True(result.GetProperty("reconnect_max_ms").GetDouble() > 0);
            Assert.True(result.GetProperty("echoes_returned").GetInt64() > 0);
            Assert.Equal(4, second.Statistics.HandshakesCompleted);
            Assert.Equal(sameKeys ? 4 : 0, second.Statistics.HandshakesResumed);
        }
        finally
        {
            await first.DisposeAsync();
            if (second is not null)
            {
                await second.DisposeAsync();
            }
        }
    }

    [Fact]
    public void Failover_without_an_outage_counts_none()
    {
        var (code, result) = Run("failover", "--server", Server, "-k", "3", "-d", "0.5", "--interval", "20", "--timeout", "2000");
        Assert.Equal(0, code);
        Assert.Equal(3, result.GetProperty("sessions_established").GetInt64());
        Assert.True(result.GetProperty("echoes_returned").GetInt64() > 0);
        Assert.Equal(0, result.GetProperty("outages").GetInt64());
        Assert.Equal(0, result.GetProperty("reconnects").GetInt64());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("reconnect_p50_ms").ValueKind);
        Assert.Equal(0, result.GetProperty("never_came_back").GetInt64());
    }

    private async Task<DtlsServer> StartTicketServer(int port, byte[]? ticketKey)
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, port),
            PskStore = PskStore.Single(Convert.FromHexString("1a2b3c4d5e6f")),
            EnableSessionTickets = true,
            // One socket: with several SO_REUSEPORT sockets bound one after the other, the kernel may move a peer from
            // one loop to another while the server starts or stops, which would add outages of the test's own making.
            ReceiveLoops = 1,
        };
        if (ticketKey is not null)
        {
            options.SessionTicketKeys.Add(ticketKey);
        }
        var server = new DtlsServer(options, new EchoHandler(this));
        await server.StartAsync();
        return server;
    }

    /// <summary>A bounded wait on a condition (10 s), polled: no fixed sleep stands for the event.</summary>
    private static async Task<bool> WaitFor(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }
            await Task.Delay(10);
        }
        return true;
    }

    [Fact]
    public void The_ceiling_self_test_is_labelled_as_the_generator_own()
    {
        var (code, result) = Run("ceiling", "-k", "2", "-d", "0.3", "--warmup", "0");
        Assert.Equal(0, code);
        Assert.Contains("GENERATOR CEILING", result.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.True(result.GetProperty("received").GetInt64() > 0);
        var (unbatchedCode, unbatched) = Run("ceiling", "-k", "2", "-d", "0.3", "--warmup", "0", "--no-batch");
        Assert.Equal(0, unbatchedCode);
        Assert.True(unbatched.GetProperty("received").GetInt64() > 0);
    }

    [Fact]
    public void A_port_nobody_listens_on_is_reported_as_no_server()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        var (code, result) = Run("handshake", "--server", $"127.0.0.1:{port}", "-n", "1", "-c", "1");
        Assert.Equal(1, code);
        Assert.Contains($"no server at 127.0.0.1:{port}", result.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrong_key_is_reported_as_a_refused_handshake()
    {
        var (code, result) = Run("handshake", "--server", Server, "-n", "1", "-c", "1", "--key", "0102");
        Assert.Equal(1, code);
        Assert.Contains("refused the handshake", result.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<IPEndPoint, bool> _sources = new();

    private sealed class EchoHandler(EndToEndTests test) : DtlsServerHandler
    {
        public override void OnSessionEstablished(DtlsSession session) => test._sources[session.RemoteEndPoint] = true;

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
            => session.Send(plaintext);
    }
}
