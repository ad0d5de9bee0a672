using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;

namespace HotDtls.Bench.Baselines.BouncyCastleEcho;

/// <summary>
/// One peer: a <see cref="DatagramTransport"/> whose receive side is a queue the server's receive thread fills,
/// whose send side is the shared socket's SendTo, and a dedicated thread that runs BouncyCastle's handshake and
/// then echoes every application-data record.
/// </summary>
internal sealed class PeerConnection : DatagramTransport
{
    /// <summary>Datagrams waiting for the peer thread; more are dropped, as a full socket buffer would.</summary>
    private const int QueueCapacity = 1024;

    /// <summary>As HotDtls's default IdleTimeout: an established peer silent this long is closed.</summary>
    private const int IdleTimeoutMillis = 5 * 60 * 1000;

    /// <summary>Thread stack: BouncyCastle's handshake is shallow; the default 8 MiB reservation is not needed.</summary>
    private const int StackSize = 256 * 1024;

    private readonly EchoServer _server;
    private readonly TlsCrypto _crypto;
    private readonly DtlsRequest _request;
    private readonly BlockingCollection<(byte[] Buffer, int Length)> _queue = new(QueueCapacity);
    private readonly Thread _thread;
    private volatile DtlsTransport? _dtls; // set by the peer thread after the handshake; read by Stop's thread
    private volatile bool _closed;         // set by Close (BouncyCastle, either thread) or Abandon; read by Receive

    public PeerConnection(EchoServer server, SocketAddress address, TlsCrypto crypto, DtlsRequest request)
    {
        _server = server;
        Address = address;
        _crypto = crypto;
        _request = request;
        _thread = new Thread(Run, StackSize) { Name = "bc-peer", IsBackground = true };
    }

    public SocketAddress Address { get; }

    public bool IsEstablished => _dtls is not null;

    public void Start() => _thread.Start();

    /// <summary>From the receive thread: a copy of the datagram for the peer thread.</summary>
    public void Enqueue(ReadOnlySpan<byte> datagram)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(datagram.Length, 1));
        datagram.CopyTo(buffer); 
        try
        {
            if (_queue.TryAdd((buffer, datagram.Length)))
            {
                return;
            }
        }
        catch (InvalidOperationException)
        {
            // Adding completed: the connection is ending.
        }
        ArrayPool<byte>.Shared.Return(buffer);
    }

    /// <summary>Server stopping: close_notify if established (sent from this thread), then wake the peer thread.</summary>
    /// <returns>Whether a close_notify was sent.</returns>
    public bool Shutdown()
    {
        var dtls = _dtls;
        var established = dtls is not null && !_closed;
        if (established)
        {
            dtls!.Close(); // sends close_notify, then calls our Close
        }
        Abandon();
        return established;
    }

    /// <summary>Ends the connection without a word: its thread wakes, finds the transport closed and exits.</summary>
    public void Abandon()
    {
        _closed = true;
        _queue.CompleteAdding();
    }

    public void Join(TimeSpan timeout) => _thread.Join(timeout);

    private void Run()
    {
        try
        {
            var dtls = new DtlsServerProtocol().Accept(new EchoPskServer(_crypto), this, _request);
            _dtls = dtls;
            var buffer = new byte[dtls.GetReceiveLimit()];
            var lastReceived = Environment.TickCount64;
            while (true)
            {
                var received = dtls.Receive(buffer.AsSpan(), IdleTimeoutMillis);
                if (received >= 0)
                {
                    dtls.Send(buffer.AsSpan(0, received));
                    lastReceived = Environment.TickCount64;
                }
                else if (Environment.TickCount64 - lastReceived >= IdleTimeoutMillis)
                {
                    dtls.Close(); // idle: close_notify and forget
                    break;
                }
                // else: a corrupt record was dropped (-1 before the timeout); keep waiting.
            }
        }
        catch (IOException)
        {
            // close_notify or a fatal alert received, handshake failure or timeout, or the server stopping.
        }
        finally
        {
            _closed = true;
            _queue.CompleteAdding();
            _server.Forget(this);
            while (_queue.TryTake(out var item))
            {
                ArrayPool<byte>.Shared.Return(item.Buffer);
            }
        }
    }

    // ---- DatagramTransport, used by BouncyCastle on the peer thread (Send and Close also by Stop's thread) ----

    public int GetReceiveLimit() => EchoServer.Mtu - 28;

    public int GetSendLimit() => EchoServer.Mtu - 28;

    public int Receive(byte[] buf, int off, int len, int waitMillis) => Receive(buf.AsSpan(off, len), waitMillis);

    /// <remarks>
    /// BouncyCastle's conventions: −1 when <paramref name="waitMillis"/> passes with nothing; a
    /// <paramref name="waitMillis"/> of 0 waits without limit. A closed transport throws <see cref="IOException"/>.
    /// </remarks>
    public int Receive(Span<byte> buffer, int waitMillis)
    {
        if (_closed)
        {
            throw new IOException("Connection closed.");
        }
        if (!_queue.TryTake(out var item, waitMillis > 0 ? waitMillis : Timeout.Infinite))
        {
            return _closed ? throw new IOException("Connection closed.") : -1;
        }
        var length = Math.Min(item.Length, buffer.Length); 
        item.Buffer.AsSpan(0, length).CopyTo(buffer);
        ArrayPool<byte>.Shared.Return(item.Buffer);
        return length;
    }

    public void Send(byte[] buf, int off, int len) => Send(buf.AsSpan(off, len));

    public void Send(ReadOnlySpan<byte> buffer)
    {
        if (!_closed)
        {
            _server.SendTo(buffer, Address);
        }
    }

    /// <summary>Called by BouncyCastle after close_notify (sent or received) or a fatal alert.</summary>
    public void Close() => _closed = true;
}
