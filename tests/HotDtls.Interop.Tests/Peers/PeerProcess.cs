using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// One peer child process (<c>openssl</c>, <c>gnutls-cli</c>, <c>gnutls-serv</c>) with stdin, stdout and stderr
/// redirected. Stdout goes to a channel, as lines or as the chunks it is read in; stderr lines are kept for
/// diagnostics and handed to a callback as they arrive. Disposal kills the process.
/// </summary>
internal sealed class PeerProcess : IAsyncDisposable
{
    private static readonly UTF8Encoding s_utf8NoBom = new(encoderShouldEmitUTF8Identifier: false);

    private readonly Process _process;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = true });
    private readonly StringBuilder _stderr = new();
    private readonly Lock _stderrLock = new();
    private readonly SemaphoreSlim _stdinLock = new(1, 1);
    private readonly Task _stdoutPump;
    private readonly Task _stderrPump;
    private int _disposed;
    private int _killed; // 1 once DisposeAsync kills the process, so its exit code is not reported as OpenSSL's own.
    private int _exitCode = -1; // OpenSSL's exit code once it exits by itself; Diagnostics reads it after the Process is disposed.

    private PeerProcess(Process process, Action<string> onStderrLine, string commandLine, bool chunked)
    {
        _process = process;
        CommandLine = commandLine;
        _stdoutPump = chunked ? PumpStdoutChunksAsync() : PumpStdoutAsync();
        _stderrPump = PumpStderrAsync(onStderrLine);
        Exited = Task.WhenAll(_stdoutPump, _stderrPump, RecordExitAsync());
    }

    /// <summary>The command as a shell would show it, for diagnostics.</summary>
    public string CommandLine { get; }

    /// <summary>Lines OpenSSL wrote to stdout; completes when stdout closes.</summary>
    public ChannelReader<string> StdoutLines => _stdout.Reader;

    /// <summary>Completes once the process has exited and both output streams are drained.</summary>
    public Task Exited { get; }

    /// <summary>
    /// The exit code once the process has exited by itself (.NET reports 128 + the signal number for one a signal
    /// ended, 139 for SIGSEGV); null while it runs or when disposal killed it.
    /// </summary>
    public int? ExitCode => Volatile.Read(ref _exitCode) is var code and >= 0 ? code : null;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => Volatile.Read(ref _disposed) != 0 || _process.HasExited;

    /// <summary>Everything OpenSSL wrote to stderr so far.</summary>
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

    /// <summary>Command line, exit state and stderr, for failure messages.</summary>
    public string Diagnostics
    {
        get
        {
            var code = Volatile.Read(ref _exitCode);
            var exit = code >= 0 ? $"exited with {code}" : HasExited ? "killed" : "still running";
            return $"$ {CommandLine}\n[{exit}]\n--- stderr ---\n{Stderr}--------------";
        }
    }

    /// <summary>Starts <c>openssl</c> with the arguments; fails with install advice when it is not on PATH.</summary>
    /// <param name="arguments">The openssl arguments.</param>
    /// <param name="onStderrLine">Called with each stderr line.</param>
    /// <param name="chunked">
    /// Deliver stdout as the chunks it is read in rather than as lines: a peer's reply need not end in a newline
    /// (HotDtls's "to (&lt;address&gt;:&lt;port&gt;): ACK" does not).
    /// </param>
    public static PeerProcess Start(IReadOnlyList<string> arguments, Action<string> onStderrLine, bool chunked = false)
        => Start(OpenSslTool.Path, "openssl", OpenSslTool.InstallAdvice, arguments, onStderrLine, chunked);

    /// <summary>Starts <paramref name="executable"/>; <paramref name="installAdvice"/> explains how to get it.</summary>
    public static PeerProcess Start(string executable, string displayName, string installAdvice, IReadOnlyList<string> arguments,
        Action<string> onStderrLine, bool chunked)
    {
        var startInfo = new ProcessStartInfo(executable)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = s_utf8NoBom,
            StandardOutputEncoding = s_utf8NoBom,
            StandardErrorEncoding = s_utf8NoBom,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var commandLine = displayName + " " + string.Join(' ', arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        Process process;
        try
        {
            process = Process.Start(startInfo) ?? throw new PeerException($"Could not start: {commandLine}");
        }
        catch (Win32Exception e)
        {
            throw new PeerException($"Could not start {commandLine}. {installAdvice}", e);
        }

        return new PeerProcess(process, onStderrLine, commandLine, chunked);
    }

    /// <summary>
    /// Writes <paramref name="line"/> and a newline to stdin and flushes. OpenSSL sends what one read() of
    /// stdin returns as one record/datagram, so lines written faster than it reads may share a datagram.
    /// </summary>
    public async Task WriteLineAsync(string line, CancellationToken cancellationToken)
    {
        await _stdinLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // One Write call: Process.StandardInput auto-flushes, so each call is one pipe write and OpenSSL
            // would send the line and its newline as two datagrams. Synchronous on purpose (see
            // RunOnDedicatedThread): a short pipe write that OpenSSL drains promptly.
            _process.StandardInput.Write(line + "\n");
            _process.StandardInput.Flush();
        }
        finally
        {
            _stdinLock.Release();
        }
    }

    /// <summary>Closes stdin: s_client without <c>-ign_eof</c> then sends close_notify and exits.</summary>
    public void CloseStdin()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The process already exited and the pipe is broken: nothing left to close.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                Interlocked.Exchange(ref _killed, 1);
                _process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // Exited between the check and the kill.
        }

        try
        {
            await Exited.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A zombie we cannot reap is not worth failing a test over; the OS reaps it with us.
        }

        _process.Dispose();
        _stdinLock.Dispose();
    }

    private async Task RecordExitAsync()
    {
        await _process.WaitForExitAsync().ConfigureAwait(false);
        if (Volatile.Read(ref _killed) == 0)
        {
            Volatile.Write(ref _exitCode, _process.ExitCode);
        }
    }

    // The redirected streams are synchronous pipes on Unix: ReadLineAsync on them parks a thread-pool thread
    // per pending read, and two per process starve a 2-core pool (timers then fire ~1 s late). Each stream
    // therefore gets its own thread doing blocking reads.
    private static Task RunOnDedicatedThread(Action action) =>
        Task.Factory.StartNew(action, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private Task PumpStdoutAsync() => RunOnDedicatedThread(() =>
    {
        try
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                _stdout.Writer.TryWrite(line);
            }
        }
        finally
        {
            _stdout.Writer.TryComplete();
        }
    });

    private Task PumpStdoutChunksAsync() => RunOnDedicatedThread(() =>
    {
        try
        {
            var buffer = new char[4096];
            int read;
            while ((read = _process.StandardOutput.Read(buffer, 0, buffer.Length)) > 0)
            {
                _stdout.Writer.TryWrite(new string(buffer, 0, read));
            }
        }
        finally
        {
            _stdout.Writer.TryComplete();
        }
    });

    private Task PumpStderrAsync(Action<string> onStderrLine) => RunOnDedicatedThread(() =>
    {
        while (_process.StandardError.ReadLine() is { } line)
        {
            lock (_stderrLock)
            {
                _stderr.Append(line).Append('\n');
            }

            onStderrLine(line);
        }
    });
}
