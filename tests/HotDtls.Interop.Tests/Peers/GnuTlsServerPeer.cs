using System.Net;

namespace HotDtls.Interop.Tests.Peers;

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
    /// <param name="suite">The one suite it accepts.</param>
    /// <param name="credentials">Identity, key and hint; the defaults when null.</param>
    /// <param name="extraArguments">More gnutls-serv options, such as <c>--recordsize 512</c>.</param>
    public static GnuTlsServerPeer Start(CipherSuite suite, PeerCredentials? credentials = null, IReadOnlyList<string>? extraArguments = null)
    {
        credentials ??= PeerCredentials.Default;
        var port = FreePort.GetUdpPort();
        var passwordFile = System.IO.Path.GetTempFileName();
        File.WriteAllText(passwordFile, $"{credentials.Identity}:{credentials.KeyHex}\n");
        var arguments = new List<string>
        {
            "--udp", "--echo", "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--pskpasswd", passwordFile, "--pskhint", credentials.Hint, "--priority", InteropSuites.GnuTlsPriority(suite),
        };
        if (extraArguments is not null)
        {
            arguments.AddRange(extraArguments);
        }
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
