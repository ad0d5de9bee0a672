using System.Net;
using System.Net.Sockets;
using Org.BouncyCastle.Tls;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>Sends a DtlsVerifier's HelloVerifyRequest to one unconnected peer, counting them.</summary>
internal sealed class SendToDatagramSender(Socket socket, EndPoint remote, int mtu) : DatagramSender
{
    public int Sent { get; private set; }

    public int GetSendLimit() => mtu - 28;

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> buffer)
    {
        socket.SendTo(buffer, SocketFlags.None, remote);
        Sent++;
    }
}
