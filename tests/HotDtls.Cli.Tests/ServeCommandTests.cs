using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;

namespace HotDtls.Cli.Tests;

/// <summary>`hotdtls serve` as a real process, driven by HotDtls's client: the seed's reports and replies.</summary>
public sealed class ServeCommandTests
{
    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    internal static Process StartCli(params string[] args) => StartCli(new Dictionary<string, string>(), args);

    /// <summary>The CLI with extra environment variables (HOTDTLS_KEY is removed unless given).</summary>
    internal static Process StartCli(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "HotDtls.Cli.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment.Remove("HOTDTLS_KEY");
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }
        start.ArgumentList.Add(cli);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start)!;
    }

    internal static Channel<string> Lines(StreamReader reader)
    {
        var channel = Channel.CreateUnbounded<string>();
        _ = Task.Factory.StartNew(() =>
        {
            while (reader.ReadLine() is { } line)
            {
                channel.Writer.TryWrite(line);
            }
            channel.Writer.TryComplete();
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return channel;
    }

    internal static async Task<string> WaitForLineAsync(Channel<string> lines, string contains, List<string> seen, CancellationToken token)
    {
        await foreach (var line in lines.Reader.ReadAllAsync(token))
        {
            seen.Add(line);
            if (line.Contains(contains, StringComparison.Ordinal))
            {
                return line;
            }
        }
        throw new InvalidOperationException($"The output ended without '{contains}':\n{string.Join('\n', seen)}");
    }

    /// <summary>`hotdtls serve` on a free port, started and listening; disposing kills it if it is still running.</summary>
    internal sealed class ServeProcess : IDisposable
    {
        private ServeProcess(int port, Process process, Channel<string> output)
        {
            Port = port;
            Process = process;
            Output = output;
        }

        public int Port { get; }
        public Process Process { get; }
        public Channel<string> Output { get; }
        public List<string> Seen { get; } = [];
        public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

        public static Task<ServeProcess> StartAsync(CancellationToken token, params string[] options)
            => StartAsync(new Dictionary<string, string>(), token, options);

        public static async Task<ServeProcess> StartAsync(IReadOnlyDictionary<string, string> environment, CancellationToken token, params string[] options)
        {
            var port = FreeUdpPort();
            var process = StartCli(environment, ["serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. options]);
            var serve = new ServeProcess(port, process, Lines(process.StandardOutput));
            try
            {
                await serve.WaitForLineAsync($"listening on 127.0.0.1:{port}", token);
                return serve;
            }
            catch
            {
                serve.Dispose();
                throw;
            }
        }

        public Task<string> WaitForLineAsync(string contains, CancellationToken token)
            => ServeCommandTests.WaitForLineAsync(Output, contains, Seen, token);

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
            Process.Dispose();
        }
    }

    [Fact]
    public async Task Serve_reports_the_handshake_and_each_datagram_answers_ACK_and_close_sends_close_notify()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeProcess.StartAsync(cts.Token);
        var options = new DtlsClientOptions { PskIdentity = "cli test", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        await using var client = await DtlsClient.ConnectAsync(serve.EndPoint, options, cts.Token);
        var peer = client.LocalEndPoint.ToString();
        await serve.WaitForLineAsync($"{peer}: handshake is in progress", cts.Token);
        await serve.WaitForLineAsync($"{peer}: PSK callback, received a client's identity: 'cli test'", cts.Token);
        // Both sides' defaults: the server's first choice, forward-secret ECDHE_PSK with AES-128-GCM (over X25519).
        await serve.WaitForLineAsync($"Connection with {peer} encrypted. TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256", cts.Token);

        client.Send("Message #1"u8);
        var buffer = new byte[1024];
        var length = await client.ReceiveAsync(buffer, cts.Token);
        // The seed's reply: the peer in parentheses, as Qt prints it.
        Assert.Equal($"to (127.0.0.1:{client.LocalEndPoint.Port}): ACK", Encoding.UTF8.GetString(buffer, 0, length));
        var hexLine = await serve.WaitForLineAsync($"{peer}: received a DTLS datagram: 17fefd0001", cts.Token);
        Assert.Matches("[0-9a-f]{40,}$", hexLine);
        await serve.WaitForLineAsync($"{peer}: as plain text: Message #1", cts.Token);

        client.Send([]);
        await serve.WaitForLineAsync($"{peer}: 0 byte dgram, could be a re-connect attempt?", cts.Token);

        // "close" shuts everything down: close_notify reaches the client, and the process exits cleanly.
        await serve.Process.StandardInput.WriteLineAsync("close");
        await serve.Process.StandardInput.FlushAsync(cts.Token);
        var error = await Assert.ThrowsAsync<DtlsException>(async () => await client.ReceiveAsync(buffer, cts.Token));
        Assert.Contains("close_notify", error.Message);
        await serve.Process.WaitForExitAsync(cts.Token);
        Assert.Equal(0, serve.Process.ExitCode);
    }

    [Fact]
    public async Task Serve_with_suites_negotiates_only_those_and_refuses_a_client_offering_none_of_them()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeProcess.StartAsync(cts.Token, "--suites", "PSK_WITH_AES_128_CCM_8,TLS_PSK_WITH_AES_128_GCM_SHA256");
        var options = new DtlsClientOptions { PskIdentity = "coap device", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        await using (var client = await DtlsClient.ConnectAsync(serve.EndPoint, options, cts.Token))
        {
            Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, client.CipherSuite);
            await serve.WaitForLineAsync($"Connection with {client.LocalEndPoint} encrypted. TLS_PSK_WITH_AES_128_CCM_8", cts.Token);
        }

        var chachaOnly = new DtlsClientOptions { PskIdentity = "other", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        chachaOnly.CipherSuites.Clear();
        chachaOnly.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256);
        var refused = await Assert.ThrowsAsync<DtlsException>(async () => await DtlsClient.ConnectAsync(serve.EndPoint, chachaOnly, cts.Token));
        Assert.Contains("HandshakeFailure", refused.Message);
        Assert.Contains("none of the offered cipher suites", refused.Message);

        await serve.Process.StandardInput.WriteLineAsync("close");
        await serve.Process.StandardInput.FlushAsync(cts.Token);
        await serve.Process.WaitForExitAsync(cts.Token);
        Assert.Equal(0, serve.Process.ExitCode);
    }

    [Fact]
    public async Task Serve_with_echo_and_quiet_answers_each_datagram_with_its_own_bytes_and_reports_nothing_per_datagram()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeProcess.StartAsync(cts.Token, "--echo", "--quiet");
        var options = new DtlsClientOptions { PskIdentity = "bench", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        await using (var client = await DtlsClient.ConnectAsync(serve.EndPoint, options, cts.Token))
        {
            var buffer = new byte[1500];
            for (var i = 0; i < 3; i++)
            {
                var payload = Encoding.UTF8.GetBytes($"payload {i} " + new string('x', 100 * i));
                client.Send(payload);
                var length = await client.ReceiveAsync(buffer, cts.Token);
                Assert.Equal(payload, buffer.AsSpan(0, length).ToArray());
            }
        }

        // "stats" prints the counters on demand; stopping prints them once more.
        await serve.Process.StandardInput.WriteLineAsync("stats");
        await serve.Process.StandardInput.WriteLineAsync("close");
        await serve.Process.StandardInput.FlushAsync(cts.Token);
        await serve.Process.WaitForExitAsync(cts.Token);
        Assert.Equal(0, serve.Process.ExitCode);
        // Nothing but the listening line and the counters: no handshake or datagram reports.
        await foreach (var line in serve.Output.Reader.ReadAllAsync(cts.Token))
        {
            serve.Seen.Add(line);
        }
        Assert.Equal(3, serve.Seen.Count);
        Assert.Equal($"listening on 127.0.0.1:{serve.Port}", serve.Seen[0]);
        foreach (var statistics in serve.Seen.Skip(1))
        {
            // (sessions: 0 or 1, as the client's close_notify may still be on its way when "stats" is read.)
            Assert.StartsWith("statistics: handshakes=1 resumed=0 failed=0 sessions=", statistics, StringComparison.Ordinal);
            Assert.Contains(" delivered=3 ", statistics, StringComparison.Ordinal);
            // A server on its own has no cluster counters.
            Assert.DoesNotContain("forwarded", statistics, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SIGTERM_stops_serve_cleanly_with_close_notify()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeProcess.StartAsync(cts.Token, "--echo", "--quiet");
        var options = new DtlsClientOptions { PskIdentity = "sigterm", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        await using var client = await DtlsClient.ConnectAsync(serve.EndPoint, options, cts.Token);

        using (var kill = Process.Start("kill", ["-TERM", serve.Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(cts.Token);
        }

        var error = await Assert.ThrowsAsync<DtlsException>(async () => await client.ReceiveAsync(new byte[100], cts.Token));
        Assert.Contains("close_notify", error.Message);
        await serve.Process.WaitForExitAsync(cts.Token);
        Assert.Equal(0, serve.Process.ExitCode);
    }

    [Fact]
    public async Task Serve_on_a_port_in_use_exits_with_a_clear_error()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var occupier = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        occupier.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)occupier.LocalEndPoint!).Port;
        using var process = StartCli("serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var stderr = await process.StandardError.ReadToEndAsync(cts.Token);
        await process.WaitForExitAsync(cts.Token);
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("already in use", stderr);
    }

    [Fact]
    public async Task A_second_serve_on_the_port_of_a_running_one_exits_with_a_clear_error_and_takes_no_peers()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // Both with the default of one receive loop per processor (SO_REUSEPORT when there are several).
        using var first = await ServeProcess.StartAsync(cts.Token);
        using var second = StartCli("serve", "--port", first.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var stdout = second.StandardOutput.ReadToEndAsync(cts.Token);
        var stderr = await second.StandardError.ReadToEndAsync(cts.Token);
        await second.WaitForExitAsync(cts.Token);

        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"Cannot listen on 127.0.0.1:{first.Port}: the port is already in use", stderr);
        Assert.DoesNotContain("listening", await stdout, StringComparison.OrdinalIgnoreCase);
        var options = new DtlsClientOptions { PskIdentity = "cli test", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        for (var i = 0; i < 4; i++)
        {
            // Several source ports: with a shared port the kernel would have sent some of them to the second server.
            await using var client = await DtlsClient.ConnectAsync(first.EndPoint, options, cts.Token);
            Assert.True(client.IsEstablished);
        }
    }

    [Fact]
    public async Task Key_log_on_both_commands_writes_the_same_line_for_the_session()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var serverLog = Path.GetTempFileName();
        var clientLog = Path.GetTempFileName();
        try
        {
            using var serve = await ServeProcess.StartAsync(cts.Token, "--key-log", serverLog);
            using var connect = StartCli("connect", "127.0.0.1", serve.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "--count", "1", "--interval", "100", "--key-log", clientLog);
            var stderr = connect.StandardError.ReadToEndAsync(cts.Token);
            var stdout = await connect.StandardOutput.ReadToEndAsync(cts.Token);
            await connect.WaitForExitAsync(cts.Token);
            Assert.Equal(0, connect.ExitCode);
            // Nobody turns it on by accident: the client says so, as the server does.
            Assert.Contains("Key logging is ON", stdout + await stderr);

            var client = (await File.ReadAllLinesAsync(clientLog, cts.Token)).Single();
            Assert.Matches("^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$", client);
            // The server writes its line when it derives the keys, before the client's Finished can be answered.
            Assert.Equal([client], await File.ReadAllLinesAsync(serverLog, cts.Token));
        }
        finally
        {
            File.Delete(serverLog);
            File.Delete(clientLog);
        }
    }

    [Fact]
    public async Task Serve_keeps_no_sessions_for_resumption_by_default()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeProcess.StartAsync(cts.Token);
        var options = new DtlsClientOptions { PskIdentity = "cli test", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        await using var client = await DtlsClient.ConnectAsync(serve.EndPoint, options, cts.Token);

        // Neither a session_id nor a ticket came back: there is nothing to resume.
        Assert.Null(client.SaveSession());
    }

    [Fact]
    public async Task Serve_lets_a_client_resume_its_session()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeProcess.StartAsync(cts.Token, "--resume");
        var options = new DtlsClientOptions { PskIdentity = "cli test", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        DtlsSavedSession saved;
        await using (var first = await DtlsClient.ConnectAsync(serve.EndPoint, options, cts.Token))
        {
            saved = Assert.IsType<DtlsSavedSession>(first.SaveSession());
        }

        using (saved)
        {
            options.Session = saved;
            await using var second = await DtlsClient.ConnectAsync(serve.EndPoint, options, cts.Token);
            Assert.True(second.IsResumed);
            await serve.WaitForLineAsync($"{second.LocalEndPoint}: session resumed (abbreviated handshake)", cts.Token);
        }
    }
}
