using System.Diagnostics;
using System.Text;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// A tshark packet capture of one UDP port on loopback into a pcapng file (capturing needs root or the capture
/// capabilities), and tshark's reading of such a file. Started, it has reported "Capturing on": packets sent from then
/// on are in the file once it is stopped.
/// </summary>
internal sealed class TsharkCapture : IAsyncDisposable
{
    public const string InstallAdvice = "Install it with `apt-get install tshark` (Debian/Ubuntu) and run the tests again as root.";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly Lock _stderrLock = new();
    private int _port;
    // The marker datagram StopAsync waits for: its source port, and what it completes. Guarded by _stderrLock.
    private (int Port, TaskCompletionSource Seen)? _marker;

    private TsharkCapture(Process process, string file)
    {
        _process = process;
        File = file;
    }

    /// <summary>The pcapng file.</summary>
    public string File { get; }

    /// <summary>What tshark wrote to stderr so far, for failure messages.</summary>
    public string Stderr
    {
        get
        {
            lock (_stderrLock)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts capturing UDP port <paramref name="port"/> on lo into <paramref name="file"/>.</summary>
    public static async Task<TsharkCapture> StartAsync(int port, string file)
    {
        var info = new ProcessStartInfo(ToolFinder.Find("tshark") ?? "tshark")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        // -P -l -T fields: besides writing the file, print each packet's source port as it is written, so that
        // StopAsync can wait for its marker packet instead of guessing how long the capture lags.
        foreach (var argument in new[] { "-i", "lo", "-f", $"udp port {port}", "-w", file, "-P", "-l", "-T", "fields", "-e", "udp.srcport" })
        {
            info.ArgumentList.Add(argument);
        }
        var process = Process.Start(info) ?? throw new InvalidOperationException("tshark did not start.");
        var capture = new TsharkCapture(process, file) { _port = port };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && int.TryParse(line.Trim(), out var source))
            {
                lock (capture._stderrLock)
                {
                    if (capture._marker is { } marker && marker.Port == source)
                    {
                        marker.Seen.TrySetResult();
                    }
                }
            }
        };
        var capturing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                capturing.TrySetException(new InvalidOperationException($"tshark exited before capturing:\n{capture.Stderr}"));
                return;
            }
            lock (capture._stderrLock)
            {
                capture._stderr.AppendLine(e.Data);
            }
            // dumpcap says so once the capture filter is installed and packets are being written.
            if (e.Data.Contains("Capturing on", StringComparison.Ordinal))
            {
                capturing.TrySetResult();
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await capturing.Task.WaitAsync(s_timeout).ConfigureAwait(false);
            // "Capturing on" can come before packets are really captured: the capture is live once a marker shows.
            await capture.MarkAsync().ConfigureAwait(false);
        }
        catch
        {
            await capture.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return capture;
    }

    /// <summary>
    /// Waits until tshark has written a marker sent now (so every packet before it is in the file: the kernel hands
    /// them over in blocks, and a capture stopped at once loses the last one), then stops the capture as Ctrl+C would
    /// and waits for tshark to exit.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }
        await MarkAsync().ConfigureAwait(false);
        using (var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync().ConfigureAwait(false);
        }
        using var cts = new CancellationTokenSource(s_timeout);
        await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends marker datagrams (plain UDP, "capture marker") to the captured port from a port of their own until tshark
    /// reports one written: every packet before it is then in the file.
    /// </summary>
    private async Task MarkAsync()
    {
        using (var marker = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0)))
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_stderrLock)
            {
                _marker = (((System.Net.IPEndPoint)marker.Client.LocalEndPoint!).Port, seen);
            }
            // The kernel may hold a lone packet until more arrive (the capture's ring of blocks): a marker is sent
            // again until one shows, each pushing the ones before it through.
            var deadline = DateTime.UtcNow + s_timeout;
            while (!seen.Task.IsCompleted)
            {
                if (DateTime.UtcNow > deadline)
                {
                    throw new TimeoutException($"tshark did not capture the marker datagram:\n{Stderr}");
                }
                await marker.SendAsync("capture marker"u8.ToArray(), new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, _port))
                    .ConfigureAwait(false);
                await Task.WhenAny(seen.Task, Task.Delay(TimeSpan.FromMilliseconds(250))).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs <c>tshark</c> with <paramref name="arguments"/> to completion; returns its stdout (and stderr).</summary>
    public static async Task<(string Stdout, string Stderr)> RunAsync(params string[] arguments)
    {
        var info = new ProcessStartInfo(ToolFinder.Find("tshark") ?? "tshark")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        using var process = Process.Start(info) ?? throw new InvalidOperationException("tshark did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(s_timeout);
        await process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        return (await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited meanwhile.
        }
        _process.Dispose();
    }
}
