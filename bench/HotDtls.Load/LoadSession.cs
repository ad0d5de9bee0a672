using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using HotDtls.Client;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Load;

/// <summary>What a worker hears from its sessions while it drains their sockets.</summary>
internal interface ISessionEvents
{
    /// <summary>A datagram's plaintext came back (decrypted, or plain UDP), at <paramref name="now"/>.</summary>
    void OnReply(LoadSession session, ReadOnlySpan<byte> payload, long now);
}

/// <summary>
/// One client association: its own connected UDP socket (so the kernel demultiplexes replies by port and the server
/// sees a distinct peer), HotDtls's client state machine on top unless the run is plain UDP, and the window of
/// datagrams in flight. Owned by one worker thread; nothing here is thread-safe or needs to be.
/// </summary>
internal sealed class LoadSession : IDatagramSender, IClientEvents, IDisposable
{
    private Socket _socket;
    private int _fd;
    private static long s_sessions;
    private MessageBatch? _batch;
    private readonly ISessionEvents _events;
    private readonly ClientEngine? _engine;
    private readonly IPEndPoint _server;

    /// <param name="source">Where to send from, exactly (address and port); null: the kernel picks the port.</param>
    public LoadSession(int slot, IPEndPoint server, SocketAddress serverAddress, DtlsClientOptions? dtls, byte[] scratch,
        ISessionEvents events, long now, IPEndPoint? source = null)
    {
        Slot = slot;
        _events = events;
        _server = server;
        StartedAt = now;
        _socket = OpenSocket(server, source);
        _fd = (int)_socket.Handle;
        if (dtls is null)
        {
            IsEstablished = true;
        }
        else
        {
            _engine = new ClientEngine(dtls, serverAddress, this, this, SystemRandomSource.Instance, scratch);
        }
    }

    /// <summary>A non-blocking UDP socket connected to <paramref name="server"/>, sending from <paramref name="source"/> if given.</summary>
    private static Socket OpenSocket(IPEndPoint server, IPEndPoint? source)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (source is not null)
            {
                socket.Bind(source);
            }
            else if (IPAddress.IsLoopback(server.Address) && server.AddressFamily == AddressFamily.InterNetwork)
            {
                // One loopback source address has ≈ 28k ephemeral ports: hold mode's 100k sessions need several.
                // Every 127/8 address is local on Linux, so session n sends from 127.2.0.(1 + n / 20000).
                var n = Interlocked.Increment(ref s_sessions) - 1;
                socket.Bind(new IPEndPoint(new IPAddress([127, 2, (byte)(n / 20000 / 250), (byte)(1 + (n / 20000 % 250))]), 0));
            }
            socket.Connect(server);
            socket.Blocking = false;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Moves the session to a new socket, as a NAT rebinding or a device changing network would: the DTLS session
    /// (keys, epoch, sequence numbers, CID) stays, only the source address or port changes (RFC 9146 §6). The new
    /// socket is opened before the old one is closed, so the kernel cannot hand back the same port. The caller
    /// watches the new <see cref="Socket"/> (closing the old one took it out of the worker's epoll set).
    /// </summary>
    public void MoveToNewSocket()
    {
        var moved = OpenSocket(_server, null);
        _socket.Dispose();
        _socket = moved;
        _fd = (int)moved.Handle;
        Refused = false; // the old socket's ICMP reports said nothing of the new one
    }

    public int Slot { get; }

    public Socket Socket => _socket;

    /// <summary>When this session's handshake began (or the plain socket was opened).</summary>
    public long StartedAt { get; }

    public bool IsEstablished { get; private set; }

    public bool IsClosed { get; private set; }

    public DtlsCloseReason? CloseReason { get; private set; }

    /// <summary>The server answered with ICMP port unreachable: nothing listens there.</summary>
    public bool Refused { get; private set; }

    /// <summary>Datagrams handed to the socket, handshake flights and retransmissions included.</summary>
    public long DatagramsSent { get; private set; }

    public long SendErrors { get; private set; }

    public InFlightWindow? Window { get; set; }

    /// <summary>When the next keep-alive is due (hold mode).</summary>
    public long NextKeepAliveAt { get; set; }

    /// <summary>Whether the handshake resumed a saved session (the abbreviated handshake; --resume).</summary>
    public bool IsResumed => _engine?.IsResumed ?? false;

    /// <summary>The established session, to resume in a later handshake (null without one to save).</summary>
    public DtlsSavedSession? SaveSession() => _engine?.SaveSession();

    /// <summary>Whether this session's records carry a CID the server issued (RFC 9146; --cid).</summary>
    public bool UsesConnectionId => _engine?.SendsConnectionId ?? false;

    /// <summary>The negotiated suite, once established over DTLS.</summary>
    public CipherSuite? Suite => _engine?.NegotiatedSuite;

    /// <summary>When the handshake's timers next have work; <see cref="long.MaxValue"/> when none.</summary>
    public long NextTimerMs => _engine?.NextTimerMs ?? long.MaxValue;

    /// <summary>Sends flight 1 (DTLS); nothing for plain UDP.</summary>
    public void Start(long now) => _engine?.Start();

    /// <summary>Runs the handshake timers; returns how many datagrams they resent.</summary>
    public long OnTimer(long now)
    {
        if (_engine is null)
        {
            return 0;
        }
        var before = DatagramsSent;
        _engine.OnTick();
        return IsClosed ? 0 : DatagramsSent - before;
    }

    /// <summary>Sends one datagram of application data; false if the session cannot send.</summary>
    public bool SendPayload(ReadOnlySpan<byte> payload)
    {
        if (_engine is not null)
        {
            return _engine.TrySend(payload);
        }
        Send(payload, null!);
        return true;
    }

    /// <summary>
    /// Receives at most <paramref name="maxDatagrams"/> datagrams (fewer if the socket empties), handing each one's
    /// records to the state machine. The worker's epoll is level-triggered, so what is left is reported again on the next
    /// wait: reading one datagram per event spares the receive that would only say "empty", a system call per datagram,
    /// while one wait still serves every ready session.
    /// </summary>
    public void Drain(byte[] buffer, int maxDatagrams)
    {
        for (var received = 0; received < maxDatagrams && !IsClosed; received++)
        {
            var length = _socket.Receive(buffer, SocketFlags.None, out var error);
            if (error != SocketError.Success)
            {
                if (error == SocketError.ConnectionRefused)
                {
                    Refused = true;
                }
                return; // WouldBlock: drained. Anything else (a truncated datagram) is a loss the window counts.
            }
            Process(buffer.AsSpan(0, length), Clock.Now);
        }
    }

    /// <summary>
    /// Receives up to <paramref name="maxDatagrams"/> datagrams with one <c>recvmmsg</c> and hands each to the state
    /// machine, in arrival order; they share one arrival time, taken when the call returns.
    /// </summary>
    public void Drain(MessageBatch batch, int maxDatagrams)
    {
        if (IsClosed)
        {
            return;
        }
        var count = batch.Receive(_fd, maxDatagrams);
        if (count < 0)
        {
            if (-count == Native.EConnRefused)
            {
                Refused = true;
            }
            return; // anything else: a loss the window counts
        }
        var now = Clock.Now;
        for (var i = 0; i < count && !IsClosed; i++)
        {
            if (!batch.Truncated(i))
            {
                Process(batch.Datagram(i), now); // a cut datagram is a loss the window counts, as with recv
            }
        }
    }

    private void Process(Span<byte> datagram, long now)
    {
        if (_engine is null)
        {
            _events.OnReply(this, datagram, now);
            return;
        }
        _replyAt = now;
        _engine.ProcessDatagram(datagram);
    }

    /// <summary>Whether sends are being queued in a batch (between <see cref="BeginBatch"/> and <see cref="FlushBatch"/>).</summary>
    public bool Batching => _batch is not null;

    /// <summary>From now on, every datagram this session sends is queued in <paramref name="batch"/> until <see cref="FlushBatch"/>.</summary>
    public void BeginBatch(MessageBatch batch)
    {
        Debug.Assert(_batch is null, "one batch at a time");
        batch.Clear(); // left over only if a worker failed between begin and flush
        _batch = batch;
    }

    /// <summary>Sends what the batch holds with <c>sendmmsg</c>, and sends directly again from now on.</summary>
    public void FlushBatch()
    {
        if (_batch is { } batch)
        {
            SendQueued(batch);
            _batch = null;
        }
    }

    private void SendQueued(MessageBatch batch)
    {
        if (batch.Count == 0)
        {
            return;
        }
        var failed = batch.Send(_fd, out var errno);
        if (failed > 0)
        {
            SendErrors += failed;
            if (errno == Native.EConnRefused)
            {
                Refused = true;
            }
        }
    }

    private long _replyAt;

    /// <summary>Sends close_notify if established, and stops; the socket stays open until <see cref="Dispose"/>.</summary>
    public void CloseGracefully()
    {
        _engine?.Close();
        IsClosed = true;
    }

    // IDatagramSender: the socket is connected, so the peer address is already known to the kernel.
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        DatagramsSent++;
        if (_batch is { } batch)
        {
            if (!batch.TryAdd(datagram))
            {
                SendQueued(batch); // full: this burst takes one more sendmmsg
                batch.TryAdd(datagram);
            }
            return;
        }
        _socket.Send(datagram, SocketFlags.None, out var error);
        if (error != SocketError.Success)
        {
            SendErrors++;
            if (error == SocketError.ConnectionRefused)
            {
                Refused = true;
            }
        }
    }

    void IClientEvents.OnEstablished() => IsEstablished = true;

    void IClientEvents.OnApplicationData(ReadOnlySpan<byte> plaintext) => _events.OnReply(this, plaintext, _replyAt);

    void IClientEvents.OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        IsClosed = true;
        CloseReason ??= reason;
    }

    void IClientEvents.OnDropped(DropReason reason)
    {
    }

    public void Dispose()
    {
        _engine?.Dispose();
        _socket.Dispose();
    }
}
