using System.Net;
using System.Text;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>Finds GnuTLS's command-line peers and builds their priority strings.</summary>
internal static class GnuTlsTool
{
    public const string InstallAdvice =
        "The interop tests drive GnuTLS's `gnutls-cli` and `gnutls-serv` (DTLS 1.2 PSK); install them "
        + "(Debian/Ubuntu: `apt-get install gnutls-bin`). CI installs them.";

    public static string Path(string tool)
        => ToolFinder.Find(tool) ?? throw new PeerException($"`{tool}` was not found on PATH. " + InstallAdvice);

    /// <summary>DTLS 1.2, PSK key exchange, and only <paramref name="suite"/>'s cipher.</summary>
    public static string Priority(CipherSuite suite) => "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+" + suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => "AES-128-GCM",
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => "AES-256-GCM",
        _ => throw new ArgumentOutOfRangeException(nameof(suite)),
    };
}

/// <summary>
/// GnuTLS's <c>gnutls-cli --udp</c> as a DTLS 1.2 PSK client: each stdin line goes out as one datagram, and
/// stdout carries status lines ("- Handshake was completed") followed by received application data, unframed.
/// </summary>
public sealed class GnuTlsClientPeer : IAsyncDisposable
{
    private readonly PeerProcess _process;
    private readonly StringBuilder _output = new();
    private int _consumed;

    private GnuTlsClientPeer(PeerProcess process) => _process = process;

    /// <summary>Everything the process said, for failure messages.</summary>
    public string Diagnostics => $"{_process.Diagnostics}\n--- stdout ---\n{_output}";

    /// <summary>Starts gnutls-cli against <paramref name="server"/> offering only <paramref name="suite"/>.</summary>
    public static GnuTlsClientPeer Start(IPEndPoint server, CipherSuite suite, PeerCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        credentials ??= PeerCredentials.Default;
        var arguments = new List<string>
        {
            "--udp", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), server.Address.ToString(),
            "--pskusername", credentials.Identity, "--pskkey", credentials.KeyHex,
            "--priority", GnuTlsTool.Priority(suite), "--insecure",
        };
        return new GnuTlsClientPeer(PeerProcess.Start(GnuTlsTool.Path("gnutls-cli"), "gnutls-cli", GnuTlsTool.InstallAdvice,
            arguments, static _ => { }, chunked: true));
    }

    /// <summary>Waits for "- Handshake was completed"; returns gnutls-cli's "- Description:" line.</summary>
    public async Task<string> WaitForHandshakeAsync(CancellationToken cancellationToken)
    {
        await ReadUntilAsync("- Handshake was completed", "gnutls-cli handshake", cancellationToken).ConfigureAwait(false);
        var text = _output.ToString();
        var start = text.IndexOf("- Description:", StringComparison.Ordinal);
        var description = start < 0 ? string.Empty : text[start..text.IndexOf('\n', start)];
        _consumed = text.IndexOf("- Handshake was completed", StringComparison.Ordinal);
        return description;
    }

    /// <summary>Sends <paramref name="line"/> plus "\n" as one datagram.</summary>
    public Task SendLineAsync(string line, CancellationToken cancellationToken) => _process.WriteLineAsync(line, cancellationToken);

    /// <summary>Waits until <paramref name="expected"/> appears in what gnutls-cli printed after the previous match.</summary>
    public Task ReceiveTextAsync(string expected, CancellationToken cancellationToken)
        => ReadUntilAsync(expected, $"'{expected}' from gnutls-cli", cancellationToken);

    private async Task ReadUntilAsync(string expected, string what, CancellationToken cancellationToken)
    {
        while (true)
        {
            var at = _output.ToString().IndexOf(expected, _consumed, StringComparison.Ordinal);
            if (at >= 0)
            {
                _consumed = at + expected.Length;
                return;
            }
            _output.Append(await PeerWait.ReadLineAsync(_process.StdoutLines, what, () => Diagnostics, cancellationToken)
                .ConfigureAwait(false));
        }
    }

    /// <summary>Kills gnutls-cli.</summary>
    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

/// <summary>
/// GnuTLS's <c>gnutls-serv --udp --echo</c> as a DTLS 1.2 PSK server with cookies (HelloVerifyRequest) on: it echoes
/// every datagram it receives. It listens on every local address of a free port; tests reach it on 127.0.0.1.
/// </summary>
public sealed class GnuTlsServerPeer : IAsyncDisposable
{
    private readonly PeerProcess _process;
    private readonly string _passwordFile;

    private GnuTlsServerPeer(PeerProcess process, string passwordFile, int port)
    {
        _process = process;
        _passwordFile = passwordFile;
        EndPoint = new IPEndPoint(IPAddress.Loopback, port);
    }

    /// <summary>Where to reach it.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Everything the process said, for failure messages.</summary>
    public string Diagnostics => _process.Diagnostics;

    /// <summary>Starts gnutls-serv accepting <paramref name="credentials"/>'s identity and key for <paramref name="suite"/>.</summary>
    public static GnuTlsServerPeer Start(CipherSuite suite, PeerCredentials? credentials = null)
    {
        credentials ??= PeerCredentials.Default;
        var port = FreePort.GetUdpPort();
        var passwordFile = System.IO.Path.GetTempFileName();
        File.WriteAllText(passwordFile, $"{credentials.Identity}:{credentials.KeyHex}\n");
        var arguments = new List<string>
        {
            "--udp", "--echo", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--pskpasswd", passwordFile, "--pskhint", credentials.Hint, "--priority", GnuTlsTool.Priority(suite),
        };
        return new GnuTlsServerPeer(PeerProcess.Start(GnuTlsTool.Path("gnutls-serv"), "gnutls-serv", GnuTlsTool.InstallAdvice,
            arguments, static _ => { }, chunked: true), passwordFile, port);
    }

    /// <summary>
    /// Waits until gnutls-serv answers a cookie-less ClientHello with a HelloVerifyRequest (its stdout is
    /// block-buffered in a pipe, so its "listening" line cannot be relied on).
    /// </summary>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken)
        => ReadinessProbe.WaitForHelloVerifyRequestAsync(EndPoint, _process.Exited, "gnutls-serv", () => Diagnostics, cancellationToken);

    /// <summary>Kills gnutls-serv and deletes its password file.</summary>
    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync().ConfigureAwait(false);
        File.Delete(_passwordFile);
    }
}
