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
}
