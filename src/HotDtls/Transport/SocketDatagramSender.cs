using System.Net.Sockets;
using System.Net;
using HotDtls.Diagnostics;
using Microsoft.Extensions.Logging;

namespace HotDtls.Transport;

/// <summary>Sends datagrams synchronously on the server's socket: from the receive loop this costs one system call.</summary>
internal sealed class SocketDatagramSender(Socket socket, ILogger logger) : IDatagramSender
{
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        try
        {
            socket.SendTo(datagram, SocketFlags.None, peer);
        }
        catch (SocketException exception)
        {
            // UDP send failures (no buffer space, unreachable) are losses like any other: the protocol retransmits.
            Log.SendFailed(logger, peer.ToEndPoint(), exception.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            // The server is stopping.
        }
    }
}
