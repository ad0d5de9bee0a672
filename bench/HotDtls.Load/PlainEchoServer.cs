using System.Net;
using System.Net.Sockets;

namespace HotDtls.Load;

/// <summary>
/// The ceiling's self-test target: a plain UDP echo on 127.0.0.1, one thread, blocking receive and send with a
/// reused <see cref="SocketAddress"/> (no allocation per datagram). It shares this process and its CPUs with the
/// generator, so what the self-test measures is a floor of the generator's ceiling, never a server figure.
/// </summary>
internal sealed class PlainEchoServer : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private const int SolSocket = 1;
    private const int SoRcvBufForce = 33;
    private readonly Thread _thread;

    public PlainEchoServer()
    {
        // Every session's window may land at once (16 × 8 × 1200 B outgrows the default 208 KiB): a larger receive
        // buffer keeps the self-test from losing its first burst. SO_RCVBUFFORCE passes net.core.rmem_max where allowed.
        const int Bytes = 8 << 20;
        try
        {
            _socket.SetRawSocketOption(SolSocket, SoRcvBufForce, BitConverter.GetBytes(Bytes));
        }
        catch (SocketException)
        {
            _socket.ReceiveBufferSize = Bytes;
        }
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        _thread = new Thread(Loop) { IsBackground = true, Name = "self-test-echo" };
        _thread.Start();
    }

    public IPEndPoint EndPoint { get; }

    private void Loop()
    {
        var buffer = new byte[65536];
        var peer = new SocketAddress(AddressFamily.InterNetwork);
        try
        {
            while (true)
            {
                var length = _socket.ReceiveFrom(buffer, SocketFlags.None, peer);
                _socket.SendTo(buffer.AsSpan(0, length), SocketFlags.None, peer);
            }
        }
        catch (SocketException)
        {
            // Closed by Dispose (or a peer's ICMP error): the self-test is over.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        _thread.Join();
    }
}
