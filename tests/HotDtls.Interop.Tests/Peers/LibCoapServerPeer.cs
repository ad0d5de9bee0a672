using System.Globalization;
using System.Net;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// libcoap's example server, <c>coap-server-openssl</c> or <c>coap-server-gnutls</c>, with PSK on: CoAP on a port P of
/// 127.0.0.1 and CoAP over DTLS 1.2 on P + 1 (<see cref="EndPoint"/>). It answers <c>GET /.well-known/core</c> with
/// its resource list (2.05 Content, application/link-format), piggybacked on the ACK.
/// </summary>
/// <remarks>
/// It accepts any identity with <c>-k</c>'s key and sends <c>-h</c>'s identity hint; both DTLS libraries demand a
/// cookie (HelloVerifyRequest) first, so readiness is probed on the wire as for s_server. The suite is the DTLS
/// library's choice: OpenSSL follows the client's order, GnuTLS its own priority.
/// </remarks>
public sealed class LibCoapServerPeer : IAsyncDisposable
{
    private readonly PeerProcess _process;

    private LibCoapServerPeer(PeerProcess process, int dtlsPort)
    {
        _process = process;
        EndPoint = new IPEndPoint(IPAddress.Loopback, dtlsPort);
    }

    /// <summary>The DTLS (coaps) endpoint.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Command line, exit state and stderr, for failure messages.</summary>
    public string Diagnostics => _process.Diagnostics;

    /// <summary>Starts <paramref name="tool"/> (<c>coap-server-openssl</c> or <c>coap-server-gnutls</c>).</summary>
    public static LibCoapServerPeer Start(string tool, PeerCredentials? credentials = null)
    {
        credentials ??= LibCoapTool.Credentials;
        var port = FreePort.GetUdpPortPair();
        var arguments = new List<string>
        {
            "-A", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture),
            "-k", LibCoapTool.KeyText(credentials), "-h", credentials.Hint,
        };
        return new LibCoapServerPeer(PeerProcess.Start(LibCoapTool.Path(tool), tool, LibCoapTool.InstallAdvice, arguments,
            static _ => { }, chunked: true), port + 1);
    }

    /// <summary>Waits until the DTLS port answers a cookie-less ClientHello with a HelloVerifyRequest.</summary>
    public Task WaitUntilReadyAsync(CancellationToken cancellationToken)
        => ReadinessProbe.WaitForHelloVerifyRequestAsync(EndPoint, _process.Exited, _process.CommandLine.Split(' ')[0], () => Diagnostics,
            cancellationToken);

    /// <summary>Kills the server.</summary>
    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
