using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

namespace HotDtls.Bench.Baselines.BouncyCastleEcho;

/// <summary>
/// One UDP socket, demultiplexed by peer address: BouncyCastle's DTLS API is blocking and per connection
/// (<see cref="DatagramTransport"/>), so each verified peer gets a <see cref="PeerConnection"/> — a transport fed
/// by a queue and a thread running <see cref="DtlsServerProtocol"/> — the idiomatic way to serve many clients.
/// </summary>
/// <remarks>
/// <code>
///  receive thread: ReceiveFrom ──► table[address] ──hit──► copy into the peer's queue ──► peer thread:
///                                       │ miss                                             DtlsTransport.Receive
///                                       ▼                                                  DtlsTransport.Send ──► SendTo
///                               DtlsVerifier.VerifyRequest (stateless cookie; HelloVerifyRequest sent)
///                                       │ valid cookie: new PeerConnection with the DtlsRequest
/// </code>
/// A ClientHello in epoch 0 from an address whose handshake is done is a new connection (RFC 6347 §4.2.8,
/// the client restarted): with a valid cookie it replaces the old one.
/// </remarks>
internal sealed class EchoServer : IDisposable
{
    /// <summary>Ethernet. As BouncyCastle's own UdpTransport: datagrams up to MTU − 28 (IPv4 and UDP headers).</summary>
    public const int Mtu = 1500;

    /// <summary>As HotDtls's default MaxSessions: ClientHellos beyond this many peers are dropped.</summary>
    private const int MaxPeers = 100_000;

    /// <summary>Larger than any UDP payload (65507), so a datagram is never truncated by the socket.</summary>
    private const int ReceiveBufferSize = 65536;

    private readonly Socket _socket;
    private readonly BcTlsCrypto _crypto = new(new SecureRandom());
    private readonly DtlsVerifier _verifier;
    private readonly ConcurrentDictionary<SocketAddress, PeerConnection> _peers = new();
    private readonly Thread _receiver;
    private volatile bool _stopping; // set by Stop; read by the receive thread, which then admits no new peer

    private EchoServer(Socket socket)
    {
        _socket = socket;
        _verifier = new DtlsVerifier(_crypto);
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _receiver = new Thread(ReceiveLoop) { Name = "bc-receive", IsBackground = true };
        _receiver.Start();
    }

    public IPEndPoint LocalEndPoint { get; }

    public static EchoServer Start(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(endPoint);
            return new EchoServer(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends close_notify to every established peer, ends every peer thread, then the receive thread.</summary>
    /// <returns>How many peers were established.</returns>
    public int Stop()
    {
        _stopping = true;
        var peers = _peers.Values.ToArray();
        var closed = 0;
        foreach (var peer in peers)
        {
            closed += peer.Shutdown() ? 1 : 0;
        }
        foreach (var peer in peers)
        {
            peer.Join(TimeSpan.FromSeconds(2));
        }
        _socket.Close(); // ends the blocking ReceiveFrom
        _receiver.Join();
        return closed;
    }

    public void Dispose() => _socket.Dispose();

    /// <summary>Called by a peer's thread when it ends; removes it unless a newer connection took its address.</summary>
    internal void Forget(PeerConnection peer) => _peers.TryRemove(KeyValuePair.Create(peer.Address, peer));

    internal void SendTo(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, peer);
        }
        catch (SocketException)
        {
            // The send buffer is full or the peer is unreachable: dropped, as UDP may.
        }
        catch (ObjectDisposedException)
        {
            // Stopping.
        }
    }

    private void ReceiveLoop()
    {
        // byte[] rather than pooled: BouncyCastle's verifier takes arrays. One buffer, reused.
        var buffer = new byte[ReceiveBufferSize];
        var from = new SocketAddress(_socket.AddressFamily);
        var sender = new HelloVerifyRequestSender(this);
        while (true)
        {
            int length;
            try
            {
                length = _socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException) when (!_stopping)
            {
                continue; // an ICMP error reported on the socket: UDP carries on
            }
            catch (SocketException)
            {
                return;
            }

            if (_peers.TryGetValue(from, out var peer)
                && !(peer.IsEstablished && IsEpoch0ClientHello(buffer.AsSpan(0, length))))
            {
                peer.Enqueue(buffer.AsSpan(0, length));
                continue;
            }
            if (_stopping || (peer is null && _peers.Count >= MaxPeers))
            {
                continue;
            }

            // Stateless until the cookie is right: the cookie is an HMAC over this "client ID" and the hello.
            var clientId = from.Buffer.Span[..from.Size].ToArray();
            sender.Peer = from;
            var request = _verifier.VerifyRequest(clientId, buffer, 0, length, sender);
            if (request is null)
            {
                continue;
            }
            peer?.Abandon(); // the client restarted; its old connection is gone
            var address = new SocketAddress(from.Family, from.Size);
            from.Buffer.Span[..from.Size].CopyTo(address.Buffer.Span);
            var connection = new PeerConnection(this, address, _crypto, request);
            _peers[address] = connection;
            connection.Start();
        }
    }

    /// <summary>
    /// RFC 6347 §4.1 record header: ContentType(1) ProtocolVersion(2) epoch(2) sequence_number(6) length(2);
    /// then HandshakeType(1). content_type 22 = handshake, msg_type 1 = client_hello.
    /// </summary>
    private static bool IsEpoch0ClientHello(ReadOnlySpan<byte> d) =>
        d.Length > 13 && d[0] == 22 && d[3] == 0 && d[4] == 0 && d[13] == 1;

    /// <summary>Sends the verifier's HelloVerifyRequest to the address being checked.</summary>
    private sealed class HelloVerifyRequestSender(EchoServer server) : DatagramSender
    {
        public SocketAddress? Peer { get; set; }

        public int GetSendLimit() => Mtu - 28;

        public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

        public void Send(ReadOnlySpan<byte> buffer) => server.SendTo(buffer, Peer!);
    }
}
