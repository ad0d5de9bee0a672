using System.Net;
using System.Net.Sockets;
using Org.BouncyCastle.Tls;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// BouncyCastle's <see cref="DatagramTransport"/> over a connected UDP <see cref="Socket"/>: one Receive is
/// one datagram, one Send one datagram. Blocking waits are cut into short slices so that
/// <see cref="Close"/> from another thread ends them promptly with an <see cref="IOException"/>, which is
/// how the BouncyCastle drivers cancel a blocking handshake or receive.
/// </summary>
/// <remarks>
/// Given a peer address, the socket stays unconnected so the peer can move (RFC 9146 §6): sends go to
/// <see cref="Peer"/>, and datagrams from elsewhere are ignored — as a connected socket would — until
/// <see cref="AcceptAnySource"/> lets them through for BouncyCastle to authenticate; <see cref="LastSource"/> then
/// says where the datagram being processed came from, and the owner moves <see cref="Peer"/> there once BouncyCastle
/// reports a valid, newest record with the connection's CID.
/// </remarks>
internal sealed class UdpDatagramTransport : DatagramTransport
{
    /// <summary>IPv4 + UDP headers, subtracted from the MTU to get the datagram size limit.</summary>
    private const int IpUdpOverhead = 20 + 8;
    private const int SliceMillis = 50;

    private readonly Socket _socket;
    private readonly int _sendLimit;
    private volatile bool _closed; // Set by Close on any thread; read by Receive/Send on the BC thread.
    private volatile EndPoint? _peer; // Written on the BC thread, read by tests.

    public UdpDatagramTransport(Socket socket, int mtu, EndPoint? peer = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mtu, 256);
        _socket = socket;
        _sendLimit = mtu - IpUdpOverhead;
        _peer = peer;
    }

    /// <summary>Where sends go on an unconnected socket; null for a connected one.</summary>
    public EndPoint? Peer
    {
        get => _peer;
        set => _peer = value;
    }

    /// <summary>Whether datagrams from addresses other than <see cref="Peer"/> are handed to BouncyCastle.</summary>
    public bool AcceptAnySource { get; set; }

    /// <summary>The source of the last datagram Receive returned (unconnected sockets only).</summary>
    public EndPoint? LastSource { get; private set; }

    /// <summary>Datagrams from other addresses dropped while <see cref="AcceptAnySource"/> was false.</summary>
    public int IgnoredStrangers { get; private set; }

    public int GetReceiveLimit() => ushort.MaxValue;

    public int GetSendLimit() => _sendLimit;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    /// <remarks>A <paramref name="waitMillis"/> of zero waits forever (BouncyCastle's convention); -1 is a timeout.</remarks>
    public int Receive(Span<byte> buffer, int waitMillis)
    {
        var deadline = waitMillis == 0 ? long.MaxValue : Environment.TickCount64 + waitMillis;
        while (true)
        {
            ThrowIfClosed();
            var remaining = deadline - Environment.TickCount64;
            if (remaining <= 0)
            {
                return -1;
            }

            try
            {
                if (!_socket.Poll(TimeSpan.FromMilliseconds(Math.Min(remaining, SliceMillis)), SelectMode.SelectRead))
                {
                    continue;
                }

                if (_peer is not { } peer)
                {
                    return _socket.Receive(buffer, SocketFlags.None);
                }
                EndPoint from = new IPEndPoint(peer.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
                var received = _socket.ReceiveFrom(buffer, SocketFlags.None, ref from);
                if (!from.Equals(peer) && !AcceptAnySource)
                {
                    IgnoredStrangers++;
                    continue;
                }
                LastSource = from;
                return received;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
            {
                // ICMP port unreachable for an earlier send: on UDP that is a lost datagram, not an error.
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                throw new IOException("UDP transport closed.", e);
            }
        }
    }

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> buffer)
    {
        ThrowIfClosed();
        try
        {
            if (_peer is { } peer)
            {
                _socket.SendTo(buffer, SocketFlags.None, peer);
            }
            else
            {
                _socket.Send(buffer, SocketFlags.None);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.ConnectionReset)
        {
            // The peer's port is closed; UDP gives no delivery promise, so drop it like the network would.
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            throw new IOException("UDP transport closed.", e);
        }
    }

    public void Close()
    {
        _closed = true;
        _socket.Dispose();
    }

    private void ThrowIfClosed()
    {
        if (_closed)
        {
            throw new IOException("UDP transport closed.");
        }
    }
}
