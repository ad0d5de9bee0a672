using System.Globalization;
using System.Net;
using System.Text;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// libcoap's <c>coap-client-openssl</c> or <c>coap-client-gnutls</c> sending one confirmable GET over DTLS 1.2 PSK
/// (<c>coaps://</c>) and printing the response's payload to stdout, then exiting: 0 once a response came, 1 when none did
/// within its <c>-B</c> limit.
/// </summary>
/// <remarks>
/// Which suite it negotiates is the server's choice among what its DTLS library offers: both builds offer
/// TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 and TLS_PSK_WITH_AES_128_CCM_8 (CoAP's mandatory suite, RFC 7252 §9.1.3.1)
/// among many; neither offers an RFC 8442 suite.
/// </remarks>
public sealed class LibCoapClientPeer : IAsyncDisposable
{
    private readonly PeerProcess _process;
    private readonly StringBuilder _stdout = new();
    private readonly Task _stdoutLoop;

    private LibCoapClientPeer(PeerProcess process)
    {
        _process = process;
        _stdoutLoop = CollectStdoutAsync();
    }

    /// <summary>Command line, exit state, stderr and stdout, for failure messages.</summary>
    public string Diagnostics => $"{_process.Diagnostics}\n--- stdout ---\n{Stdout}";

    /// <summary>What the client printed to stdout so far: the response's payload.</summary>
    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    /// <summary>The exit code once the client has exited by itself, or null.</summary>
    public int? ExitCode => _process.ExitCode;

    /// <summary>
    /// Starts <paramref name="tool"/> (<c>coap-client-openssl</c> or <c>coap-client-gnutls</c>) sending a GET of
    /// <paramref name="path"/> to <paramref name="server"/>, giving up after <paramref name="wait"/> (whole seconds).
    /// </summary>
    public static LibCoapClientPeer Start(string tool, IPEndPoint server, string path, TimeSpan wait, PeerCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        credentials ??= LibCoapTool.Credentials;
        var arguments = new List<string>
        {
            "-B", Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds)).ToString(CultureInfo.InvariantCulture),
            "-u", credentials.Identity, "-k", LibCoapTool.KeyText(credentials),
            "-m", "get", $"coaps://{server.Address}:{server.Port}/{path.TrimStart('/')}",
        };
        return new LibCoapClientPeer(PeerProcess.Start(LibCoapTool.Path(tool), tool, LibCoapTool.InstallAdvice, arguments,
            static _ => { }, chunked: true));
    }

    /// <summary>Waits for the client to exit; returns its exit code.</summary>
    /// <exception cref="PeerException"><paramref name="cancellationToken"/> fired first.</exception>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        await PeerWait.ForAsync(Task.WhenAll(_process.Exited, _stdoutLoop), "the CoAP client to exit", () => Diagnostics, cancellationToken)
            .ConfigureAwait(false);
        return _process.ExitCode ?? throw new PeerException("The CoAP client was killed.\n" + Diagnostics);
    }

    /// <summary>Kills the client if it still runs.</summary>
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync().ConfigureAwait(false);
        await _stdoutLoop.ConfigureAwait(false);
    }

    private async Task CollectStdoutAsync()
    {
        await foreach (var chunk in _process.StdoutLines.ReadAllAsync().ConfigureAwait(false))
        {
            lock (_stdout)
            {
                _stdout.Append(chunk);
            }
        }
    }
}
