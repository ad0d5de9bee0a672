using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// OpenSSL's DTLS 1.2 PSK server (<c>openssl s_server -dtls1_2 -listen -nocert -naccept 1 -brief</c>) as a
/// child process, turned into an echo server: every line it prints (received application data) is written
/// back to its stdin, and s_server sends each stdin read as one datagram.
/// </summary>
/// <remarks>
/// <para><c>-listen</c> runs DTLSv1_listen, so the client must answer a HelloVerifyRequest (cookie exchange).
/// <c>-naccept 1</c> makes s_server exit after one connection.</para>
/// <para><c>-brief</c> keeps stdout to application data only and turns the stdin command letters off
/// (without it a line starting with Q, q, P or S is a command, and P even writes plaintext onto the
/// wire). It also silences the <c>ACCEPT</c> line, so readiness is detected on the wire instead:
/// <see cref="Ready"/> completes when a cookie-less ClientHello probe is answered with a
/// HelloVerifyRequest, which DTLSv1_listen sends statelessly without using up the one accept.</para>
/// </remarks>
public sealed class OpenSslServerPeer : IAsyncDisposable
{
    private const string CiphersuitePrefix = "Ciphersuite: ";

    private readonly TaskCompletionSource<string> _handshake =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<string> _received = Channel.CreateUnbounded<string>();
    private readonly CancellationTokenSource _stop = new();
    private readonly PeerProcess _process;
    private readonly bool _echo;
    private readonly Task _stdoutLoop;
    private int _echoedLines;

    private OpenSslServerPeer(IPEndPoint endPoint, IReadOnlyList<string> arguments, bool echo)
    {
        EndPoint = endPoint;
        _echo = echo;
        _process = PeerProcess.Start(arguments, OnStderrLine);
        _ = _process.Exited.ContinueWith(
            _ => _handshake.TrySetException(new PeerException("s_server exited before a handshake completed.\n" + _process.Diagnostics)),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
        _stdoutLoop = EchoLoopAsync();
        Ready = ProbeUntilReadyAsync(_stop.Token);
    }

    /// <summary>Where s_server listens (127.0.0.1 and a port picked by <see cref="FreePort"/>).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>
    /// Completes when s_server answers a ClientHello with a HelloVerifyRequest, i.e. it is bound and
    /// listening; faults with <see cref="PeerException"/> if s_server exits first.
    /// </summary>
    public Task Ready { get; }

    /// <summary>
    /// Completes with OpenSSL's name of the negotiated suite once s_server reports a handshake;
    /// faults with <see cref="PeerException"/> if s_server exits first.
    /// </summary>
    public Task<string> HandshakeCompleted => _handshake.Task;

    /// <summary>OpenSSL's name of the negotiated suite, or null before a handshake completes.</summary>
    public string? NegotiatedCipher { get; private set; }

    /// <summary>The negotiated suite as HotDtls names it, or null (not yet, or a suite HotDtls lacks).</summary>
    public CipherSuite? NegotiatedSuite => NegotiatedCipher is { } name ? InteropSuites.FromOpenSslName(name) : null;

    /// <summary>Lines written back to the client so far.</summary>
    public int EchoedLines => Volatile.Read(ref _echoedLines);

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Command line, exit state and stderr.</summary>
    public string Diagnostics => _process.Diagnostics;

    /// <summary>Starts an echoing s_server accepting only <paramref name="suite"/>.</summary>
    public static OpenSslServerPeer Start(CipherSuite suite, PeerCredentials? credentials = null,
        IReadOnlyList<string>? extraArguments = null, bool echo = true) =>
        Start(InteropSuites.OpenSslCipherString(suite), credentials, extraArguments, echo);

    /// <summary>
    /// Starts s_server with an OpenSSL cipher string and extra arguments (e.g. <c>-mtu 500</c>). With
    /// <paramref name="echo"/> false, received lines are only reported and the test answers with
    /// <see cref="SendLineAsync"/>.
    /// </summary>
    public static OpenSslServerPeer Start(string openSslCipher, PeerCredentials? credentials = null,
        IReadOnlyList<string>? extraArguments = null, bool echo = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(openSslCipher);
        credentials ??= PeerCredentials.Default;
        var endPoint = new IPEndPoint(IPAddress.Loopback, FreePort.GetUdpPort());
        var arguments = new List<string>
        {
            "s_server", "-dtls1_2", "-listen", "-naccept", "1", "-brief", "-nocert",
            "-accept", $"{endPoint.Address}:{endPoint.Port}",
            "-psk", credentials.KeyHex, "-psk_hint", credentials.Hint,
            // Without it s_server prints "PSK warning: client identity not what we expected" (it still accepts).
            "-psk_identity", credentials.Identity,
            "-cipher", openSslCipher,
        };
        if (extraArguments is not null)
        {
            arguments.AddRange(extraArguments);
        }

        return new OpenSslServerPeer(endPoint, arguments, echo);
    }

    /// <summary>Waits for <see cref="Ready"/>.</summary>
    /// <exception cref="PeerException">s_server failed or <paramref name="cancellationToken"/> fired first.</exception>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken) =>
        PeerWait.ForAsync(Ready, "s_server to listen", () => Diagnostics, cancellationToken);

    /// <summary>Waits for a handshake; returns OpenSSL's name of the negotiated suite.</summary>
    public Task<string> WaitForHandshakeAsync(CancellationToken cancellationToken) =>
        PeerWait.ForAsync(_handshake.Task, "s_server handshake", () => Diagnostics, cancellationToken);

    /// <summary>The next line of application data s_server received (echoed already when echo is on).</summary>
    public Task<string> ReceiveLineAsync(CancellationToken cancellationToken) =>
        PeerWait.ReadLineAsync(_received.Reader, "a line at s_server", () => Diagnostics, cancellationToken);

    /// <summary>Sends <paramref name="line"/> plus "\n" to the client as one datagram.</summary>
    public Task SendLineAsync(string line, CancellationToken cancellationToken) =>
        _process.WriteLineAsync(line, cancellationToken);

    /// <summary>Kills s_server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _process.DisposeAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_stdoutLoop, Ready).ConfigureAwait(false);
        }
        catch (Exception e) when (e is PeerException or OperationCanceledException or IOException)
        {
            // Observed here so that an unready or failed server does not leave an unobserved task behind.
        }

        _stop.Dispose();
    }

    private void OnStderrLine(string line)
    {
        // -brief prints, per connection: "Protocol version: DTLSv1.2", "Client cipher list: ...",
        // "Ciphersuite: PSK-AES128-GCM-SHA256", "Signature Algorithms: ...", "No peer certificate".
        if (line.StartsWith(CiphersuitePrefix, StringComparison.Ordinal))
        {
            NegotiatedCipher = line[CiphersuitePrefix.Length..];
            _handshake.TrySetResult(NegotiatedCipher);
        }
    }

    private async Task EchoLoopAsync()
    {
        await foreach (var line in _process.StdoutLines.ReadAllAsync().ConfigureAwait(false))
        {
            if (_echo && !_process.HasExited)
            {
                try
                {
                    // Counted before the echo goes out, so a test that has the echo sees the count.
                    Interlocked.Increment(ref _echoedLines);
                    await _process.WriteLineAsync(line, _stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                {
                    // s_server is going away; the echo has nowhere to go.
                }
            }

            _received.Writer.TryWrite(line);
        }

        _received.Writer.TryComplete();
    }

    private Task ProbeUntilReadyAsync(CancellationToken stop)
        => ReadinessProbe.WaitForHelloVerifyRequestAsync(EndPoint, _process.Exited, "s_server", () => _process.Diagnostics, stop);
}
