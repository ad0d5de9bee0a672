using System.Net;
using System.Net.Sockets;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>Picks loopback UDP ports for peers that must be told their port up front (OpenSSL).</summary>
public static class FreePort
{
    /// <summary>
    /// A UDP port on 127.0.0.1 that was free a moment ago: the kernel picks it for a socket bound to port 0,
    /// which is then closed. Another process may take it before the caller binds it; the kernel hands
    /// ephemeral ports out round-robin, so that is rare on a test machine.
    /// </summary>
    public static int GetUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>
    /// A port P on 127.0.0.1 with P and P + 1 free for UDP and TCP a moment ago, for a server that listens on both
    /// (libcoap's coap-server: CoAP on P, CoAP over DTLS on P + 1, and the TCP and TLS forms on the same numbers). The
    /// same caveat as <see cref="GetUdpPort"/>.
    /// </summary>
    public static int GetUdpPortPair()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = GetUdpPort();
            if (port < IPEndPoint.MaxPort && IsFree(port) && IsFree(port + 1))
            {
                return port;
            }
            if (attempt == 100)
            {
                throw new InvalidOperationException("No two consecutive free loopback ports found in 100 attempts.");
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPAddress.Loopback, port));
            using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            tcp.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
