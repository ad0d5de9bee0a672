using System.Net;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// OpenSSL's DTLS 1.2 PSK client (<c>openssl s_client -dtls1_2 -brief -nocommands</c>) as a child process.
/// </summary>
/// <remarks>
/// With <c>-brief</c>, s_client writes only received application data to stdout and a connection summary
/// to stderr: <c>CONNECTION ESTABLISHED</c>, <c>Protocol version: DTLSv1.2</c>,
/// <c>Ciphersuite: PSK-AES128-GCM-SHA256</c>. <c>-nocommands</c> stops lines starting with Q/R/k/K being
/// taken as commands. Each stdin read becomes one record in one datagram (with the newline); closing stdin
/// makes s_client send close_notify and exit (<see cref="CloseAsync"/>).
/// </remarks>
public sealed class OpenSslClientPeer : IAsyncDisposable
{
    private const string EstablishedLine = "CONNECTION ESTABLISHED";
    private const string CiphersuitePrefix = "Ciphersuite: ";
    private const string ServerTempKeyPrefix = "Server Temp Key: ";

    private readonly TaskCompletionSource<string> _handshake =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _serverTempKey =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PeerProcess _process;
    private bool _established;

    private OpenSslClientPeer(IReadOnlyList<string> arguments)
    {
        _process = PeerProcess.Start(arguments, OnStderrLine, chunked: true);
        _ = _process.Exited.ContinueWith(
            _ =>
            {
                _handshake.TrySetException(new PeerException("s_client exited before the handshake completed.\n" + _process.Diagnostics));
                _serverTempKey.TrySetException(new PeerException("s_client exited without printing the server's ephemeral key.\n" + _process.Diagnostics));
            },
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Completes with OpenSSL's name of the negotiated suite once s_client reports the handshake done;
    /// faults with <see cref="PeerException"/> if s_client exits first.
    /// </summary>
    public Task<string> HandshakeCompleted => _handshake.Task;

    // What s_client printed that no Receive call has taken yet.
    private readonly System.Text.StringBuilder _pending = new();

    /// <summary>OpenSSL's name of the negotiated suite, or null before the handshake completes.</summary>
    public string? NegotiatedCipher { get; private set; }

    /// <summary>The negotiated suite as HotDtls names it, or null (not yet, or a suite HotDtls lacks).</summary>
    public CipherSuite? NegotiatedSuite => NegotiatedCipher is { } name ? InteropSuites.FromOpenSslName(name) : null;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Command line, exit state and stderr.</summary>
    public string Diagnostics => _process.Diagnostics;

    /// <summary>Starts s_client against <paramref name="server"/> offering only <paramref name="suite"/>.</summary>
    public static OpenSslClientPeer Start(IPEndPoint server, CipherSuite suite, PeerCredentials? credentials = null,
        IReadOnlyList<string>? extraArguments = null) =>
        Start(server, InteropSuites.OpenSslCipherString(suite), credentials, extraArguments);

    /// <summary>
    /// Starts s_client against <paramref name="server"/> with an OpenSSL cipher string (e.g. to offer a suite
    /// HotDtls lacks) and extra arguments such as <c>-mtu 500</c>.
    /// </summary>
    public static OpenSslClientPeer Start(IPEndPoint server, string openSslCipher, PeerCredentials? credentials = null,
        IReadOnlyList<string>? extraArguments = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrEmpty(openSslCipher);
        credentials ??= PeerCredentials.Default;
        var arguments = new List<string>
        {
            "s_client", "-dtls1_2", "-brief", "-nocommands",
            "-connect", $"{server.Address}:{server.Port}",
            "-psk", credentials.KeyHex, "-psk_identity", credentials.Identity,
            "-cipher", openSslCipher,
        };
        if (extraArguments is not null)
        {
            arguments.AddRange(extraArguments);
        }

        return new OpenSslClientPeer(arguments);
    }

    /// <summary>Waits for the handshake; returns OpenSSL's name of the negotiated suite.</summary>
    /// <exception cref="PeerException">s_client failed or <paramref name="cancellationToken"/> fired first.</exception>
    public Task<string> WaitForHandshakeAsync(CancellationToken cancellationToken) =>
        PeerWait.ForAsync(_handshake.Task, "s_client handshake", () => Diagnostics, cancellationToken);

    /// <summary>
    /// Waits for the line -brief prints after the suite for an ECDHE key exchange and returns what follows
    /// "Server Temp Key: ": <c>X25519, 253 bits</c> or <c>ECDH, prime256v1, 256 bits</c>. A PSK-only handshake has none.
    /// </summary>
    /// <exception cref="PeerException">s_client exited or <paramref name="cancellationToken"/> fired first.</exception>
    public Task<string> WaitForServerTempKeyAsync(CancellationToken cancellationToken) =>
        PeerWait.ForAsync(_serverTempKey.Task, "s_client's Server Temp Key line", () => Diagnostics, cancellationToken);

    /// <summary>Sends <paramref name="line"/> plus "\n" as one datagram (one stdin write).</summary>
    public Task SendLineAsync(string line, CancellationToken cancellationToken) =>
        _process.WriteLineAsync(line, cancellationToken);

    /// <summary>The next line of application data s_client received (without the newline).</summary>
    /// <exception cref="PeerException">s_client exited or <paramref name="cancellationToken"/> fired first.</exception>
    public async Task<string> ReceiveLineAsync(CancellationToken cancellationToken)
    {
        int newline;
        while ((newline = _pending.ToString().IndexOf('\n', StringComparison.Ordinal)) < 0)
        {
            _pending.Append(await PeerWait.ReadLineAsync(_process.StdoutLines, "s_client reply", () => Diagnostics, cancellationToken)
                .ConfigureAwait(false));
        }
        var line = _pending.ToString(0, newline);
        _pending.Remove(0, newline + 1);
        return line;
    }

    /// <summary>
    /// The next <paramref name="length"/> characters of application data s_client received, whatever the datagram
    /// boundaries (s_client prints replies back to back).
    /// </summary>
    /// <exception cref="PeerException">s_client exited or <paramref name="cancellationToken"/> fired first.</exception>
    public async Task<string> ReceiveTextAsync(int length, CancellationToken cancellationToken)
    {
        while (_pending.Length < length)
        {
            _pending.Append(await PeerWait.ReadLineAsync(_process.StdoutLines, "s_client reply", () => Diagnostics, cancellationToken)
                .ConfigureAwait(false));
        }
        var text = _pending.ToString(0, length);
        _pending.Remove(0, length);
        return text;
    }

    /// <summary>
    /// Closes stdin, so s_client sends close_notify and exits, and waits for the exit. s_client lingers
    /// about 0.5 s after its close_notify reading what the peer still sends, so this takes that long;
    /// use it when the test is about the close, and plain disposal otherwise.
    /// </summary>
    /// <exception cref="PeerException">s_client did not exit before <paramref name="cancellationToken"/> fired.</exception>
    public Task CloseAsync(CancellationToken cancellationToken)
    {
        _process.CloseStdin();
        return PeerWait.ForAsync(_process.Exited, "s_client to close", () => Diagnostics, cancellationToken);
    }

    /// <summary>Kills s_client (no close_notify; see <see cref="CloseAsync"/>).</summary>
    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private void OnStderrLine(string line)
    {
        if (line == EstablishedLine)
        {
            _established = true;
        }
        else if (_established && line.StartsWith(CiphersuitePrefix, StringComparison.Ordinal))
        {
            NegotiatedCipher = line[CiphersuitePrefix.Length..];
            _handshake.TrySetResult(NegotiatedCipher);
        }
        else if (_established && line.StartsWith(ServerTempKeyPrefix, StringComparison.Ordinal))
        {
            _serverTempKey.TrySetResult(line[ServerTempKeyPrefix.Length..]);
        }
    }
}
