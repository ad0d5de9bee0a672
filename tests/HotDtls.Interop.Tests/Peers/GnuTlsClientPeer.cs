using System.Net;
using System.Text;

namespace HotDtls.Interop.Tests.Peers;

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

    /// <summary>
    /// Starts gnutls-cli against <paramref name="server"/> offering only <paramref name="suite"/>, with extra arguments
    /// such as <c>--resume</c> (handshake, disconnect, reconnect resuming; it then prints
    /// "*** This is a resumed session" or "*** Previous session was NOT resumed").
    /// </summary>
    public static GnuTlsClientPeer Start(IPEndPoint server, CipherSuite suite, PeerCredentials? credentials = null,
        IReadOnlyList<string>? extraArguments = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        credentials ??= PeerCredentials.Default;
        var arguments = new List<string>
        {
            "--udp", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), server.Address.ToString(),
            "--pskusername", credentials.Identity, "--pskkey", credentials.KeyHex,
            "--priority", InteropSuites.GnuTlsPriority(suite), "--insecure",
        };
        if (extraArguments is not null)
        {
            arguments.AddRange(extraArguments);
        }
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

    /// <summary>gnutls-cli's exit code once it has exited by itself (139: SIGSEGV), or null.</summary>
    public int? ExitCode => _process.ExitCode;

    /// <summary>Waits until gnutls-cli has exited and its output is drained.</summary>
    /// <exception cref="PeerException"><paramref name="cancellationToken"/> fired first.</exception>
    public Task WaitForExitAsync(CancellationToken cancellationToken)
        => PeerWait.ForAsync(_process.Exited, "gnutls-cli to exit", () => Diagnostics, cancellationToken);

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
