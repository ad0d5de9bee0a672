using System.Net.Sockets;
using System.Net;
using HotDtls.Diagnostics;
using Microsoft.Extensions.Logging;

namespace HotDtls.Transport;

/// <summary>Sends datagrams synchronously on the server's socket: from the receive loop this costs one system call.</summary>
internal sealed class SocketDatagramSender(Socket socket, ILogger logger) : IDatagramSender, IDatagramSendFeedback
{
    // Set by a send refused with EMSGSIZE, taken by the connection that sent it; both under the engine's lock.
    private bool _messageTooLarge;

    public bool TakeMessageTooLarge()
    {
        var value = _messageTooLarge;
        _messageTooLarge = false;
        return value;
    }

    public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        try
        {
            socket.SendTo(datagram, SocketFlags.None, peer);
        }
        catch (SocketException exception)
        {
            _messageTooLarge |= exception.SocketErrorCode == SocketError.MessageSize;
            // UDP send failures (no buffer space, unreachable) are losses like any other: the protocol retransmits.
            Log.SendFailed(logger, peer.ToEndPoint(), exception.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            // The server is stopping.
        }
    }
}
