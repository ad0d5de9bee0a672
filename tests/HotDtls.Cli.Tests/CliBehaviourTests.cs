using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace HotDtls.Cli.Tests;

/// <summary>`hotdtls` as a real process: help, version, usage errors, where the key comes from, failures and signals.</summary>
public sealed class CliBehaviourTests
{
    private sealed record Outcome(int ExitCode, string Stdout, string Stderr);

    private static async Task<Outcome> RunAsync(IReadOnlyDictionary<string, string> environment, CancellationToken token, params string[] args)
    {
        using var process = ServeCommandTests.StartCli(environment, args);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(token);
        var stderr = process.StandardError.ReadToEndAsync(token);
        await process.WaitForExitAsync(token);
        return new Outcome(process.ExitCode, await stdout, await stderr);
    }

    private static Task<Outcome> RunAsync(CancellationToken token, params string[] args)
        => RunAsync(new Dictionary<string, string>(), token, args);

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Each_command_has_its_own_help_naming_only_its_options()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var root = await RunAsync(cts.Token, "--help");
        var serve = await RunAsync(cts.Token, "serve", "--help");
        var connect = await RunAsync(cts.Token, "connect", "--help");

        Assert.Equal(0, root.ExitCode);
        Assert.Contains("hotdtls [command] [options]", root.Stdout);
        Assert.Contains("serve", root.Stdout);
        Assert.Contains("connect", root.Stdout);
        Assert.Equal(0, serve.ExitCode);
        Assert.Contains("hotdtls serve [options]", serve.Stdout);
        Assert.Contains("--key-file", serve.Stdout);
        Assert.Contains("--cid-length", serve.Stdout);
        Assert.DoesNotContain("--count", serve.Stdout);
        Assert.Equal(0, connect.ExitCode);
        Assert.Contains("hotdtls connect <HOST> [<PORT>] [options]", connect.Stdout);
        Assert.Contains("--timeout", connect.Stdout);
        Assert.DoesNotContain("--echo", connect.Stdout);
    }

    [Fact]
    public async Task Version_prints_the_informational_version()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var expected = typeof(Arguments).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion;

        var outcome = await RunAsync(cts.Token, "--version");

        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(expected, outcome.Stdout.Trim());
    }

    [Theory]
    [InlineData(new[] { "serve", "10.1.2.3", "23012" }, "Unrecognized command or argument '10.1.2.3'")]
    [InlineData(new[] { "serve", "--count", "3" }, "Unrecognized command or argument '--count'")]
    [InlineData(new[] { "connect", "127.0.0.1", "--echo" }, "Unrecognized command or argument '--echo'")]
    [InlineData(new[] { "frobnicate" }, "Unrecognized command or argument 'frobnicate'")]
    [InlineData(new string[0], "Required command was not provided")]
    public async Task A_usage_error_exits_2_with_the_reason_on_stderr_and_nothing_on_stdout(string[] args, string expected)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var outcome = await RunAsync(cts.Token, args);

        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(expected, outcome.Stderr);
        Assert.Contains("--help' for usage", outcome.Stderr);
        Assert.Equal("", outcome.Stdout);
    }

    [Fact]
    public async Task The_key_can_come_from_HOTDTLS_KEY_and_from_a_key_file_and_a_wrong_one_exits_3()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeCommandTests.ServeProcess.StartAsync(
            new Dictionary<string, string> { ["HOTDTLS_KEY"] = "a1b2c3d4" }, cts.Token);
        var keyFile = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(keyFile, "a1b2c3d4\n", cts.Token);

            var right = await RunAsync(cts.Token, "connect", "127.0.0.1", Text(serve.Port), "--key-file", keyFile, "--count", "1", "--interval", "100");
            var seedKey = await RunAsync(cts.Token, "connect", "127.0.0.1", Text(serve.Port), "--count", "1");

            Assert.Equal(0, right.ExitCode);
            Assert.Matches(@"Received: to \(127\.0\.0\.1:\d+\): ACK", right.Stdout);
            Assert.Equal(3, seedKey.ExitCode);
            Assert.Contains("Check the PSK identity and key", seedKey.Stderr);
        }
        finally
        {
            File.Delete(keyFile);
        }
    }

    [Fact]
    public async Task Connect_to_a_port_where_nothing_listens_fails_fast_with_exit_code_1()
    {
        // Far below --timeout: only the host's ICMP port unreachable reports can end it this soon.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }

        var outcome = await RunAsync(cts.Token, "connect", "127.0.0.1", Text(port), "--timeout", "120");

        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains($"No DTLS server at 127.0.0.1:{port}: the host reports that nothing listens on that port", outcome.Stderr);
        Assert.DoesNotContain("Unhandled exception", outcome.Stderr);
    }

    [Fact]
    public async Task Connect_to_a_server_that_never_answers_gives_up_after_timeout_with_exit_code_4()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));

        var outcome = await RunAsync(cts.Token, "connect", "127.0.0.1", Text(((IPEndPoint)silent.LocalEndPoint!).Port), "--timeout", "1.5");

        Assert.Equal(4, outcome.ExitCode);
        Assert.Contains("did not complete within 1.5 s", outcome.Stderr);
    }

    [Theory]
    [InlineData("INT", 130)]
    [InlineData("TERM", 143)]
    public async Task A_signal_during_the_handshake_exits_cleanly_with_the_signals_code(string signal, int expected)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        using var connect = ServeCommandTests.StartCli("connect", "127.0.0.1", Text(((IPEndPoint)silent.LocalEndPoint!).Port));
        var stderr = connect.StandardError.ReadToEndAsync(cts.Token);
        var stdout = connect.StandardOutput.ReadToEndAsync(cts.Token);

        // The ClientHello's arrival proves the handshake is under way (and the signal handlers are in place).
        await silent.ReceiveFromAsync(new byte[2048], new IPEndPoint(IPAddress.Any, 0), cts.Token);
        using (var kill = Process.Start("kill", [$"-{signal}", connect.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(cts.Token);
        }
        await connect.WaitForExitAsync(cts.Token);

        Assert.Equal(expected, connect.ExitCode);
        Assert.DoesNotContain("Unhandled exception", await stderr);
        Assert.DoesNotContain("   at ", await stderr);
        Assert.Contains("hotdtls: interrupted", await stderr);
        Assert.DoesNotContain("Exception", await stdout);
    }

    [Fact]
    public async Task SIGINT_while_serve_waits_on_its_standard_input_sends_close_notify_and_exits_0()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeCommandTests.ServeProcess.StartAsync(cts.Token, "--quiet");
        var options = new DtlsClientOptions { PskIdentity = "sigint", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
        await using var client = await DtlsClient.ConnectAsync(serve.EndPoint, options, cts.Token);

        using (var kill = Process.Start("kill", ["-INT", serve.Process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync(cts.Token);
        }

        var error = await Assert.ThrowsAsync<DtlsException>(async () => await client.ReceiveAsync(new byte[100], cts.Token));
        Assert.Equal(DtlsExceptionReason.PeerClosed, error.Reason);
        await serve.Process.WaitForExitAsync(cts.Token);
        Assert.Equal(0, serve.Process.ExitCode);
        Assert.DoesNotContain("Unhandled exception", await serve.Process.StandardError.ReadToEndAsync(cts.Token));
    }
}
