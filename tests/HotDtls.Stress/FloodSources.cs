using System.Net;
using System.Net.Sockets;

namespace HotDtls.Stress;

/// <summary>
/// Sockets bound to random loopback addresses: on Linux every 127.0.0.0/8 address is local, so a flooder on one
/// machine can send from millions of (address, port) pairs. This is the loopback stand-in for source spoofing; the
/// server cannot tell the difference, and the replies it sends simply go unread.
/// </summary>
internal static class FloodSources
{
    public static Socket Open(Random random)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            // 127.1-254.x.1-254: avoids 127.0.0.1 (the server and honest clients) and the .0/.255 edges.
            var address = new IPAddress(new byte[] { 127, (byte)random.Next(1, 255), (byte)random.Next(0, 256), (byte)random.Next(1, 255) });
            socket.Bind(new IPEndPoint(address, 0));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
