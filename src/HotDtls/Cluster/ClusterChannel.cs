using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using HotDtls.Diagnostics;
using HotDtls.Records;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;

namespace HotDtls.Cluster;

/// <summary>
/// The authenticated node-to-node channel of a cluster node: forwards a client's Connection ID record to the node that
/// owns the session, carries that node's answers back to the node the client talks to, and tells every other node this
/// one is alive. One UDP socket, one receive thread, one heartbeat timer; frames are <see cref="ClusterFrameReader"/>'s.
/// </summary>
/// <remarks>
/// Receive rules: a frame is dropped, counted under one reason and never answered or forwarded unless it is well formed
/// (Malformed), within size (Oversized), addressed to this node (NotForMe) by a configured other node (UnknownSender),
/// not seen before (Replayed: a 64-frame window per sender, checked before the MAC and slid only after it verifies, the
/// order of RFC 6347 §4.1.2.6) and MACed under a channel key (BadMac). The UDP source address is not compared with the
/// sender's configured endpoint: behind NAT, in Kubernetes or with several interfaces a node's frames legitimately come
/// from another address, and the MAC and the replay window are what authenticate a frame.
/// <para>
/// Amplification: nothing is ever sent in answer to a received frame. Each <see cref="TryForward"/> or
/// <see cref="TrySendReply"/> sends at most one frame of at most datagram + <see cref="ClusterFrame.MaxOverhead"/> bytes;
/// heartbeats are timer-driven.
/// </para>
/// </remarks>
internal sealed partial class ClusterChannel : IClusterForwarder, IDisposable
{
    private const int NodeCount = 256;
    private const long NeverHeard = long.MinValue;
    private const int MaxSendContexts = 16;

    private readonly byte _nodeId;
    private readonly byte[] _otherNodes;
    private readonly SocketAddress?[] _nodeAddresses = new SocketAddress?[NodeCount];
    private readonly ClusterKeyRing _keys;
    private readonly TimeProvider _time;
    private readonly TimeSpan _heartbeatInterval;
    private readonly TimeSpan _nodeTimeout;
    private readonly long _nodeTimeoutMs;
    private readonly IClusterDelivery _delivery;
    private readonly ILogger _logger;

    // Written by the receive path, read by any sender: Volatile, a lone 64-bit value with nothing else to order.
    private readonly long[] _lastHeardMs = new long[NodeCount];

    // 1 while a node is reported up: Interlocked, so "up" and "down" are each logged once per transition.
    private readonly int[] _reportedUp = new int[NodeCount];

    // The receive path's state, under _receiveLock: the replay windows, the verifying HMACs, the client addresses.
    private readonly Lock _receiveLock = new();
    private readonly ReplayWindow[] _windows = new ReplayWindow[NodeCount];
    private readonly ClusterFrameMac _receiveMac;
    private readonly SocketAddress _clientV4 = new(AddressFamily.InterNetwork);
    private readonly SocketAddress _clientV6 = new(AddressFamily.InterNetworkV6);

    // Send buffers and signing HMACs, one per concurrent sender: taken and put back with Interlocked.Exchange.
    private readonly ClusterSendContext?[] _sendContexts;

    private long _sequence;
    private IDatagramSender? _sender;
    private Socket? _socket;
    private Thread? _thread;
    private ITimer? _timer;
    private int _disposed;

    private long _framesSent, _framesReceived, _forwardsSent, _forwardsDelivered, _repliesSent, _repliesDelivered;
    private long _heartbeatsSent, _heartbeatsReceived, _refusedNodeDown, _refusedUnknownNode, _refusedTooLarge, _refusedStopped;
    private long _malformed, _oversized, _badMac, _replayed, _notForMe, _unknownSender, _notOwner;

    /// <summary>
    /// A channel for node <paramref name="nodeId"/>; <paramref name="nodes"/> are the other nodes' channel endpoints (an
    /// entry for <paramref name="nodeId"/> itself is skipped). Nothing is sent or received before <see cref="Start"/>.
    /// </summary>
    public ClusterChannel(byte nodeId, IReadOnlyDictionary<byte, IPEndPoint> nodes, ClusterKeyRing keys, TimeProvider time,
        TimeSpan heartbeatInterval, TimeSpan nodeTimeout, IClusterDelivery delivery, ILogger logger)
        : this(nodeId, nodes, keys, time, heartbeatInterval, nodeTimeout, delivery, logger, sender: null)
    {
    }

    /// <summary>A channel that sends through <paramref name="sender"/> instead of its socket (tests and fuzzers).</summary>
    internal ClusterChannel(byte nodeId, IReadOnlyDictionary<byte, IPEndPoint> nodes, ClusterKeyRing keys, TimeProvider time,
        TimeSpan heartbeatInterval, TimeSpan nodeTimeout, IClusterDelivery delivery, ILogger logger, IDatagramSender? sender)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(delivery);
        ArgumentNullException.ThrowIfNull(logger);
        if (nodeId == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(nodeId), nodeId, "A cluster node id is 1 to 255.");
        }
        if (heartbeatInterval <= TimeSpan.Zero || nodeTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(heartbeatInterval), "The heartbeat interval and the node timeout must be positive.");
        }
        _nodeId = nodeId;
        var others = new List<byte>();
        foreach (var (id, endPoint) in nodes)
        {
            if (id == nodeId)
            {
                continue;
            }
            if (id == 0 || endPoint is null)
            {
                throw new ArgumentException("Cluster nodes are ids 1 to 255, each with an endpoint.", nameof(nodes));
            }
            _nodeAddresses[id] = endPoint.Serialize();
            others.Add(id);
        }
        others.Sort();
        _otherNodes = [.. others];
        _keys = keys;
        _time = time;
        _heartbeatInterval = heartbeatInterval;
        _nodeTimeout = nodeTimeout;
        _nodeTimeoutMs = (long)nodeTimeout.TotalMilliseconds;
        _delivery = delivery;
        _logger = logger;
        _sender = sender;
        _receiveMac = new ClusterFrameMac(keys);
        _sendContexts = new ClusterSendContext?[Math.Clamp(2 * Environment.ProcessorCount, 4, MaxSendContexts)];
        Array.Fill(_lastHeardMs, NeverHeard);
        // A restarted node's frames must be newer than anything it sent before: sequence numbers start at the start
        // time in microseconds (one frame per microsecond, sustained, would be needed to catch up with the clock).
        _sequence = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / (TimeSpan.TicksPerMillisecond / 1000);
    }

    /// <summary>The address the channel's socket is bound to (after <see cref="Start"/>).</summary>
    public IPEndPoint LocalEndPoint { get; private set; } = new(IPAddress.None, 0);

    /// <summary>This node's id.</summary>
    public byte NodeId => _nodeId;

    /// <summary>The counters so far.</summary>
    public ClusterChannelStatistics Statistics => new()
    {
        FramesSent = Interlocked.Read(ref _framesSent),
        FramesReceived = Interlocked.Read(ref _framesReceived),
        ForwardsSent = Interlocked.Read(ref _forwardsSent),
        ForwardsDelivered = Interlocked.Read(ref _forwardsDelivered),
        RepliesSent = Interlocked.Read(ref _repliesSent),
        RepliesDelivered = Interlocked.Read(ref _repliesDelivered),
        HeartbeatsSent = Interlocked.Read(ref _heartbeatsSent),
        HeartbeatsReceived = Interlocked.Read(ref _heartbeatsReceived),
        RefusedNodeDown = Interlocked.Read(ref _refusedNodeDown),
        RefusedUnknownNode = Interlocked.Read(ref _refusedUnknownNode),
        RefusedTooLarge = Interlocked.Read(ref _refusedTooLarge),
        RefusedStopped = Interlocked.Read(ref _refusedStopped),
        Malformed = Interlocked.Read(ref _malformed),
        Oversized = Interlocked.Read(ref _oversized),
        BadMac = Interlocked.Read(ref _badMac),
        Replayed = Interlocked.Read(ref _replayed),
        NotForMe = Interlocked.Read(ref _notForMe),
        UnknownSender = Interlocked.Read(ref _unknownSender),
        NotOwner = Interlocked.Read(ref _notOwner),
    };

    /// <summary>
    /// Binds the channel's UDP socket to <paramref name="listen"/>, starts the receive thread and the heartbeat timer
    /// (the first heartbeat goes out at once, so the other nodes see this one up without waiting an interval).
    /// </summary>
    /// <exception cref="DtlsException">The socket cannot be bound (the message says why and what to do).</exception>
    public void Start(IPEndPoint listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_socket is not null)
        {
            throw new InvalidOperationException("The node-to-node channel is already started.");
        }
        var socket = Bind(listen);
        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        // Published after the socket is bound: a sender that sees it can send.
        Volatile.Write(ref _sender, _sender ?? new SocketDatagramSender(socket, _logger));
        _thread = new Thread(static state => ((ClusterChannel)state!).RunReceiveLoop())
        {
            IsBackground = true,
            Name = $"HotDtls cluster channel {_nodeId}",
        };
        _thread.Start(this);
        _timer = _time.CreateTimer(static state => ((ClusterChannel)state!).SendHeartbeats(), this, TimeSpan.Zero, _heartbeatInterval);
        Log.ClusterChannelListening(_logger, _nodeId, LocalEndPoint);
    }

    /// <summary>Whether an authenticated frame came from <paramref name="node"/> less than the node timeout ago.</summary>
    public bool IsLive(byte node)
    {
        var heard = Volatile.Read(ref _lastHeardMs[node]);
        return heard != NeverHeard && _time.GetMonotonicMilliseconds() - heard < _nodeTimeoutMs;
    }

    /// <summary>
    /// Sends the client's <paramref name="datagram"/> to <paramref name="owner"/>, the node that owns its Connection ID.
    /// False (and counted) when the owner is not a configured other node, is not live, the datagram is larger than
    /// <see cref="ClusterFrame.MaxDatagram"/>, or the channel is stopped. Thread-safe; allocates nothing.
    /// </summary>
    public bool TryForward(byte owner, SocketAddress client, ReadOnlySpan<byte> datagram)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (!CanSend(owner, datagram.Length) || !Send(ClusterFrameType.Forward, owner, client, datagram))
        {
            return false;
        }
        Interlocked.Increment(ref _forwardsSent);
        return true;
    }

    /// <summary>
    /// Sends <paramref name="datagram"/> for <paramref name="client"/> to node <paramref name="via"/>, which forwarded
    /// the client's records here and sends it on from its DTLS socket. Same refusals as <see cref="TryForward"/>.
    /// </summary>
    public bool TrySendReply(byte via, SocketAddress client, ReadOnlySpan<byte> datagram)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (!CanSend(via, datagram.Length) || !Send(ClusterFrameType.Reply, via, client, datagram))
        {
            return false;
        }
        Interlocked.Increment(ref _repliesSent);
        return true;
    }

    /// <summary>Sends a heartbeat to every other node, live or not, and reports nodes that have gone quiet (the timer's work).</summary>
    public void SendHeartbeats()
    {
        if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _sender) is null)
        {
            return;
        }
        foreach (var node in _otherNodes)
        {
            if (Send(ClusterFrameType.Heartbeat, node, client: null, []))
            {
                Interlocked.Increment(ref _heartbeatsSent);
            }
            if (!IsLive(node) && Interlocked.CompareExchange(ref _reportedUp[node], 0, 1) == 1)
            {
                Log.ClusterNodeDown(_logger, node, _nodeTimeout);
            }
        }
    }

    /// <summary>
    /// The receive path: checks <paramref name="frame"/> (from UDP source <paramref name="from"/>) and hands an
    /// authenticated Forward or Reply to the delivery. Every other frame is dropped and counted; nothing is ever sent
    /// from here. Never throws for any input (the delivery's own exceptions pass through).
    /// </summary>
    public void ProcessFrame(SocketAddress from, Span<byte> frame)
    {
        ArgumentNullException.ThrowIfNull(from);
        Interlocked.Increment(ref _framesReceived);
        if (frame.Length > ClusterFrame.MaxFrameLength)
        {
            Interlocked.Increment(ref _oversized);
            return;
        }
        if (!ClusterFrameReader.TryRead(frame, out var reader))
        {
            Interlocked.Increment(ref _malformed);
            return;
        }
        if (reader.PayloadLength > ClusterFrame.MaxDatagram)
        {
            Interlocked.Increment(ref _oversized);
            return;
        }
        if (reader.Receiver != _nodeId)
        {
            Interlocked.Increment(ref _notForMe);
            return;
        }
        var sender = reader.Sender;
        if (sender == _nodeId || _nodeAddresses[sender] is null)
        {
            Interlocked.Increment(ref _unknownSender);
            return;
        }
        lock (_receiveLock)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }
            // RFC 6347 §4.1.2.6: duplicates are rejected before the MAC, and "the receive window is updated only if the
            // MAC verification succeeds", so a forged frame cannot slide it.
            ref var window = ref _windows[sender];
            var sequence = reader.Sequence;
            if (!window.CanAccept(sequence))
            {
                Interlocked.Increment(ref _replayed);
                return;
            }
            if (!_receiveMac.Verify(reader.Authenticated, reader.Mac))
            {
                Interlocked.Increment(ref _badMac);
                return;
            }
            window.Accept(sequence);
            MarkHeard(sender, from);
            LearnAddress(sender, from);
            switch (reader.Type)
            {
                case ClusterFrameType.Heartbeat:
                    Interlocked.Increment(ref _heartbeatsReceived);
                    break;
                case ClusterFrameType.Forward:
                    // Never forwarded on when not ours: two nodes that each think the other owns a CID would otherwise
                    // bounce its records between them for ever.
                    if (_delivery.DeliverForwarded(sender, ClientAddress(reader), frame.Slice(reader.PayloadOffset, reader.PayloadLength)))
                    {
                        Interlocked.Increment(ref _forwardsDelivered);
                    }
                    else
                    {
                        Interlocked.Increment(ref _notOwner);
                    }
                    break;
                default:
                    _delivery.DeliverReply(ClientAddress(reader), reader.Payload);
                    Interlocked.Increment(ref _repliesDelivered);
                    break;
            }
        }
    }

    /// <summary>Stops the timer and the receive thread and closes the socket; idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _timer?.Dispose();
        // Closing the socket is what wakes the thread blocked in ReceiveFrom.
        _socket?.Dispose();
        if (_thread is { } thread && thread != Thread.CurrentThread)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }
        lock (_receiveLock)
        {
            _receiveMac.Dispose();
        }
        for (var i = 0; i < _sendContexts.Length; i++)
        {
            Interlocked.Exchange(ref _sendContexts[i], null)?.Mac.Dispose();
        }
    }

    private bool CanSend(byte node, int length)
    {
        if (Volatile.Read(ref _disposed) != 0 || Volatile.Read(ref _sender) is null)
        {
            Interlocked.Increment(ref _refusedStopped);
            return false;
        }
        if (_nodeAddresses[node] is null)
        {
            Interlocked.Increment(ref _refusedUnknownNode);
            return false;
        }
        if (length > ClusterFrame.MaxDatagram)
        {
            Interlocked.Increment(ref _refusedTooLarge);
            return false;
        }
        if (!IsLive(node))
        {
            Interlocked.Increment(ref _refusedNodeDown);
            return false;
        }
        return true;
    }

    private bool Send(ClusterFrameType type, byte receiver, SocketAddress? client, ReadOnlySpan<byte> payload)
    {
        var family = ClusterFrame.FamilyNone;
        ushort port = 0;
        Span<byte> address = stackalloc byte[16];
        var addressLength = 0;
        if (client is not null && !TryReadClient(client, out family, out port, address, out addressLength))
        {
            return false; // Not an IP client: nothing a DTLS socket received.
        }
        var sender = Volatile.Read(ref _sender)!;
        var context = RentSendContext();
        try
        {
            var sequence = (ulong)Interlocked.Increment(ref _sequence);
            var length = ClusterFrame.WriteUnsigned(context.Buffer, type, _nodeId, receiver, sequence, family, port,
                address[..addressLength], payload);
            context.Mac.Sign(context.Buffer.AsSpan(0, length), context.Buffer.AsSpan(length, ClusterFrame.MacLength));
            sender.Send(context.Buffer.AsSpan(0, length + ClusterFrame.MacLength), _nodeAddresses[receiver]!);
        }
        finally
        {
            ReturnSendContext(context);
        }
        Interlocked.Increment(ref _framesSent);
        return true;
    }

    private ClusterSendContext RentSendContext()
    {
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < _sendContexts.Length; i++)
        {
            if (Interlocked.Exchange(ref _sendContexts[(start + i) % _sendContexts.Length], null) is { } context)
            {
                return context;
            }
        }
        // More concurrent senders than slots (or the first sends): a new context, kept if a slot is free on return.
        return new ClusterSendContext(_keys);
    }

    private void ReturnSendContext(ClusterSendContext context)
    {
        var start = Environment.CurrentManagedThreadId;
        for (var i = 0; i < _sendContexts.Length; i++)
        {
            if (Interlocked.CompareExchange(ref _sendContexts[(start + i) % _sendContexts.Length], context, null) is null)
            {
                return;
            }
        }
        context.Mac.Dispose();
    }

    /// <summary>
    /// A node whose authenticated, fresh frame came from another address than the one frames to it go to has moved (a
    /// restarted pod gets a new IP): frames go to where it sends from from now on. Only a frame that passed the MAC and
    /// the replay window moves it, so only a holder of the channel key can — the same trust as everything else here.
    /// Called under the receive lock; senders read the slot without it (a reference swap).
    /// </summary>
    private void LearnAddress(byte node, SocketAddress from)
    {
        var known = Volatile.Read(ref _nodeAddresses[node]);
#pragma warning disable RS0030 // Addresses, not secrets: the comparison's time says nothing worth hiding.
        if (known is null || known.Size == from.Size && known.Buffer.Span[..known.Size].SequenceEqual(from.Buffer.Span[..from.Size]))
#pragma warning restore RS0030
        {
            return;
        }
        var moved = new SocketAddress(from.Family, from.Size);
        from.Buffer.Span[..from.Size].CopyTo(moved.Buffer.Span);
        Volatile.Write(ref _nodeAddresses[node], moved);
        Log.ClusterNodeAddressChanged(_logger, node, moved.ToEndPoint(), known.ToEndPoint());
    }

    private void MarkHeard(byte node, SocketAddress from)
    {
        Volatile.Write(ref _lastHeardMs[node], _time.GetMonotonicMilliseconds());
        if (Interlocked.Exchange(ref _reportedUp[node], 1) == 0)
        {
            Log.ClusterNodeUp(_logger, node, from.ToEndPoint());
        }
    }

}
