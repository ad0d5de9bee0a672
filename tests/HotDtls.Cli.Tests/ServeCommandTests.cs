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

    private static Process StartCli(params string[] args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "HotDtls.Cli.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cli);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start)!;
    }

    private static Channel<string> Lines(StreamReader reader)
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

    private static async Task<string> WaitForLineAsync(Channel<string> lines, string contains, List<string> seen, CancellationToken token)
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

    [Fact]
    public async Task Serve_reports_the_handshake_and_each_datagram_answers_ACK_and_close_sends_close_notify()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var port = FreeUdpPort();
        using var process = StartCli("serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var seen = new List<string>();
        var output = Lines(process.StandardOutput);
        try
        {
            await WaitForLineAsync(output, $"listening on 127.0.0.1:{port}", seen, cts.Token);

            var options = new DtlsClientOptions { PskIdentity = "cli test", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
            await using var client = await DtlsClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), options, cts.Token);
            var peer = client.LocalEndPoint.ToString();
            await WaitForLineAsync(output, $"{peer}: handshake is in progress", seen, cts.Token);
            await WaitForLineAsync(output, $"{peer}: PSK callback, received a client's identity: 'cli test'", seen, cts.Token);
            await WaitForLineAsync(output, $"Connection with {peer} encrypted. TLS_PSK_WITH_AES_128_GCM_SHA256", seen, cts.Token);

            client.Send("Message #1"u8);
            var buffer = new byte[1024];
            var length = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal($"to {peer}: ACK", Encoding.UTF8.GetString(buffer, 0, length));
            var hexLine = await WaitForLineAsync(output, $"{peer}: received a DTLS datagram: 17fefd0001", seen, cts.Token);
            Assert.Matches("[0-9a-f]{40,}$", hexLine);
            await WaitForLineAsync(output, $"{peer}: as plain text: Message #1", seen, cts.Token);

            client.Send([]);
            await WaitForLineAsync(output, $"{peer}: received an empty datagram", seen, cts.Token);

            // "close" shuts everything down: close_notify reaches the client, and the process exits cleanly.
            await process.StandardInput.WriteLineAsync("close");
            await process.StandardInput.FlushAsync(cts.Token);
            var error = await Assert.ThrowsAsync<DtlsException>(async () => await client.ReceiveAsync(buffer, cts.Token));
            Assert.Contains("close_notify", error.Message);
            await process.WaitForExitAsync(cts.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task Serve_with_echo_and_quiet_answers_each_datagram_with_its_own_bytes_and_reports_nothing_per_datagram()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var port = FreeUdpPort();
        using var process = StartCli("serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--echo", "--quiet");
        var seen = new List<string>();
        var output = Lines(process.StandardOutput);
        try
        {
            await WaitForLineAsync(output, $"listening on 127.0.0.1:{port}", seen, cts.Token);

            var options = new DtlsClientOptions { PskIdentity = "bench", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
            await using (var client = await DtlsClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), options, cts.Token))
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

            await process.StandardInput.WriteLineAsync("close");
            await process.StandardInput.FlushAsync(cts.Token);
            await process.WaitForExitAsync(cts.Token);
            Assert.Equal(0, process.ExitCode);
            // Nothing but the listening line: no handshake or datagram reports.
            await foreach (var line in output.Reader.ReadAllAsync(cts.Token))
            {
                seen.Add(line);
            }
            Assert.Equal([$"listening on 127.0.0.1:{port}"], seen);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task SIGTERM_stops_serve_cleanly_with_close_notify()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var port = FreeUdpPort();
        using var process = StartCli("serve", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--echo", "--quiet");
        var seen = new List<string>();
        var output = Lines(process.StandardOutput);
        try
        {
            await WaitForLineAsync(output, $"listening on 127.0.0.1:{port}", seen, cts.Token);
            var options = new DtlsClientOptions { PskIdentity = "sigterm", PskKey = Convert.FromHexString("1a2b3c4d5e6f") };
            await using var client = await DtlsClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), options, cts.Token);

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(cts.Token);
            }

            var error = await Assert.ThrowsAsync<DtlsException>(async () => await client.ReceiveAsync(new byte[100], cts.Token));
            Assert.Contains("close_notify", error.Message);
            await process.WaitForExitAsync(cts.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
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
}
