using System.Net;
using HotDtls.Cluster;
using HotDtls.Connection;
using HotDtls.Cookies;
using HotDtls.Crypto;
using HotDtls.Diagnostics;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;

namespace HotDtls.Server;

/// <summary>
/// The server with no socket: datagrams in (<see cref="ProcessDatagram"/>), time in (<see cref="OnTick"/>), datagrams
/// out through an <see cref="IDatagramSender"/>. The receive loops, the tests and the fuzzers all drive this one entry
/// point. It routes each record — to a peer's connection (<see cref="PeerTable"/>) or, for a ClientHello from a peer
/// without one, to the stateless <see cref="HelloGate"/>; what its connections report goes to its
/// <see cref="ServerObserver"/> (table, timers, counters, log, the application's handler).
/// </summary>
/// <remarks>
/// Before a peer returns a valid cookie nothing about it is stored (RFC 6347 §4.2.1). One lock serialises the engine:
/// the receive loop holds it per datagram, uncontended; sends from other threads and timers take it too.
/// </remarks>
internal sealed partial class ServerEngine : IDatagramSender, IDatagramSendFeedback, IDisposable
{
    /// <summary>How often timers are checked; retransmissions fire within this of their due time.</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(50);

    private readonly Lock _gate = new();
    private readonly ServerObserver _observer;
    private readonly bool _handlerWantsCiphertext;
    private readonly IDatagramSender _sender;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly HelloGate _hellos;
    private readonly PeerTable _peers;
    private readonly SessionTimers _timers;
    private readonly ConnectionServices _services;
    // Records that waited for an async PSK lookup are copied here before they are processed: the handshake context
    // that kept them may go back to the pool while they are.
    private readonly byte[] _deferred = new byte[HandshakeContext.MaxDeferredBytes];
    // RFC 9146: the CIDs this engine's connections issued (null when the server issues none or only empty ones).
    private readonly ConnectionIdTable? _connectionIds;
    private readonly int _loopIndex;
    // The cache this engine made for itself (no shared one was given): disposed with the engine.
    private readonly SessionCache? _ownedSessionCache;
    private readonly SessionTicketProtector? _ownedTickets;
    // A cluster node: CID records naming another node are forwarded, and peers reached through a node are answered through it.
    private readonly bool _isClusterNode;
    // The client's own address of a via-address being sent to (used under _gate).
    private readonly SocketAddress _viaClient;
    private bool _disposed;

    /// <summary>
    /// An engine for the peers of one receive loop. <paramref name="shareOf"/> engines (loops) share the options'
    /// session and handshake caps, each taking its share rounded up, and <paramref name="sessionCache"/>, the
    /// session-ID cache (null: with <see cref="DtlsServerOptions.EnableSessionResumption"/> on, the engine makes and
    /// owns one of its own).
    /// </summary>
    public ServerEngine(DtlsServerOptions options, DtlsServerHandler handler, IDatagramSender sender, ILogger logger,
        IRandomSource random, int shareOf = 1, SessionCache? sessionCache = null, SessionTicketProtector? tickets = null,
        int loopIndex = 0, KeyLogWriter? keyLog = null, ClusterKeyRing? clusterKeys = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(loopIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(loopIndex, byte.MaxValue);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(random);
        var maxSessions = (options.MaxSessions + shareOf - 1) / shareOf;
        var maxHandshakes = (options.MaxHandshakesInProgress + shareOf - 1) / shareOf;
        _handlerWantsCiphertext = handler.ObservesProtectedDatagrams;
        _sender = sender;
        _logger = logger;
        _time = options.TimeProvider;
        var now = NowMs();
        _hellos = new HelloGate(_time, options.CookieSecretRotation, options.MaxHandshakeMessageLength, random, clusterKeys);
        _peers = new PeerTable(maxSessions, maxHandshakes);
        _timers = new SessionTimers(options, now);
        _observer = new ServerObserver(handler, logger, _time, _peers, _timers) { Random = random };
        // At most this engine's share of MaxHandshakesInProgress contexts wait in the pool; beyond it they are freed.
        var pool = new DefaultObjectPoolProvider { MaximumRetained = maxHandshakes }
            .Create(new HandshakeContextPolicy(options));
        var identityHint = options.PskIdentityHint is null ? null : System.Text.Encoding.UTF8.GetBytes(options.PskIdentityHint);
        if (sessionCache is null && options.EnableSessionResumption)
        {
            sessionCache = _ownedSessionCache = new SessionCache(options.MaxCachedSessions, options.SessionLifetime);
        }
        if (tickets is null && options.EnableSessionTickets)
        {
            tickets = _ownedTickets = CreateTicketProtector(options, random, clusterKeys);
        }
        _services = new ConnectionServices(options, _gate, this, new byte[DatagramReader.MaxCiphertextLength + 1024], _observer,
            random, pool, identityHint, new StandInKey(random))
        {
            SessionCache = sessionCache,
            Tickets = tickets,
            KeyLog = keyLog,
        };
        _loopIndex = loopIndex;
        _isClusterNode = options.Cluster is not null;
        _viaClient = ViaAddress.NewClientBuffer();
        if (options.ConnectionIdLength is > 0 and var length)
        {
            _connectionIds = new ConnectionIdTable(length, options.EffectiveConnectionIdNode, (byte)loopIndex, random);
            _services.ConnectionIds = _connectionIds;
        }
    }

    /// <summary>
    /// Every loop's engine, this one at its loop index, when the server runs several: a CID record that reached the
    /// wrong loop (the kernel picks a socket by address, and the address changed) is handed to its owner.
    /// </summary>
    internal ServerEngine[]? Siblings { get; set; }

    /// <summary>CIDs issued and in use (for tests).</summary>
    internal int ConnectionIdsInUse
    {
        get
        {
            lock (_gate)
            {
                return _connectionIds?.Count ?? 0;
            }
        }
    }

    /// <summary>Datagrams this engine passed to the loop owning their CID (for tests and figures).</summary>
    internal long DatagramsHandedOff => Interlocked.Read(ref _handedOff);

    private long _handedOff;

    /// <summary>
    /// The ticket protector of <paramref name="options"/>: a cluster's shared keys, its configured keys, or random ones
    /// that rotate.
    /// </summary>
    internal static SessionTicketProtector CreateTicketProtector(DtlsServerOptions options, IRandomSource random,
        ClusterKeyRing? clusterKeys = null)
        => new(clusterKeys is not null ? clusterKeys.Keys.SessionTicketKeys : [.. options.SessionTicketKeys],
            options.SessionTicketKeyRotation, options.SessionLifetime, options.TimeProvider, random);

    /// <summary>The ticket protector this engine uses (shared with the server's other loops), or null.</summary>
    internal SessionTicketProtector? Tickets => _services.Tickets;

    /// <summary>The session-ID cache this engine resumes from (shared with the server's other loops), or null.</summary>
    internal SessionCache? SessionCache => _services.SessionCache;

    /// <summary>Partial ClientHellos waiting for their other fragments (bounded for all peers together).</summary>
    internal int PendingHelloFragments
    {
        get
        {
            lock (_gate)
            {
                return _hellos.PendingFragments;
            }
        }
    }

    /// <summary>Whether <paramref name="peer"/> has any state here (a handshake or a session).</summary>
    internal bool HasState(SocketAddress peer)
    {
        lock (_gate)
        {
            return _peers.Contains(peer);
        }
    }

    /// <summary>
    /// The most handshake bytes any one connection (or successor) holds for reassembly: the per-peer memory a
    /// stranger can make the server keep, which the fuzzing harness holds to <see cref="DtlsOptions.MaxReassemblyBytes"/>.
    /// </summary>
    internal int MaxBufferedHandshakeBytes()
    {
        lock (_gate)
        {
            return _peers.MaxBufferedHandshakeBytes();
        }
    }

    /// <summary>Counters and gauges, read under the lock.</summary>
    public DtlsServerStatistics GetStatistics()
    {
        lock (_gate)
        {
            return _observer.Counters.ToStatistics(_peers.Count, _peers.HandshakesInProgress, _services.DatagramsWithheld);
        }
    }

    /// <summary>Adds this engine's dropped records to <paramref name="totals"/>, one slot per <see cref="DropReason"/>, read under the lock.</summary>
    internal void AddDropCounts(Span<long> totals)
    {
        lock (_gate)
        {
            ReadOnlySpan<long> counts = _observer.Counters.DroppedByReason;
            for (var i = 0; i < counts.Length && i < totals.Length; i++)
            {
                totals[i] += counts[i];
            }
        }
    }

    /// <summary>
    /// The server's instruments, told of handshake ends and alerts (null: no metrics). Set before the engine's loop
    /// starts, so the loop's thread sees it without a barrier of its own.
    /// </summary>
    internal ServerMetrics? Metrics
    {
        set => _observer.Metrics = value;
    }

    private long NowMs() => _time.GetMonotonicMilliseconds();

    /// <summary>
    /// Processes one received datagram from <paramref name="from"/>. <paramref name="datagram"/> is decrypted in
    /// place. <paramref name="from"/> may be a reused buffer: it is copied before anything keeps it.
    /// </summary>
    public void ProcessDatagram(SocketAddress from, Span<byte> datagram)
    {
        if (OtherNode(datagram) is var node && node != 0)
        {
            ForwardToNode(node, from, datagram);
            return;
        }
        if (Siblings is { } siblings && OwnerLoop(datagram) is var owner && owner >= 0 && owner != _loopIndex
            && owner < siblings.Length)
        {
            // A CID record for another loop's session (its peer moved, and the kernel hashed the new address here).
            // Not under this engine's lock: the owner takes its own, and no engine ever holds two.
            // The counter is read by tests and figures only: ordered with nothing.
            Interlocked.Increment(ref _handedOff);
            siblings[owner].ProcessDatagram(from, datagram);
            return;
        }
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _observer.Counters.DatagramsReceived++;
            _observer.Counters.BytesReceived += datagram.Length;
            _hellos.BeginDatagram();
            _observer.BeginDatagram(from, datagram.Length);
            var now = NowMs();
            _peers.TryGet(from, out var entry);
            if (_handlerWantsCiphertext && entry is { IsEstablished: true, Session: { } observed })
            {
                _observer.CallHandler(HandlerCall.ProtectedDatagram, observed, datagram, default);
            }
            var reader = new DatagramReader(datagram, _connectionIds?.Length ?? 0);
            while (reader.TryReadRecord(out var header, out var offset))
            {
                var body = datagram.Slice(offset, header.Length);
                ReadOnlySpan<byte> connectionId = default;
                ServerConnection? target;
                if (header.Type == ContentType.Tls12Cid)
                {
                    // RFC 9146 §6: a tls12_cid record finds its session by CID, whatever address it came from.
                    connectionId = DatagramReader.ConnectionIdOf(datagram, header, offset);
                    if (!_connectionIds!.TryFind(connectionId, out target))
                    {
                        _observer.Counters.UnknownConnectionIdRecords++;
                        _observer.Drop(from, DropReason.UnknownConnectionId);
                        continue;
                    }
                }
                else
                {
                    target = Route(from, ref entry, header, body, datagram.Length, now);
                    if (target is null)
                    {
                        continue;
                    }
                }
                var result = target.ProcessRecord(header, connectionId, body, now);
                if (!target.IsEstablished)
                {
                    // A handshake's next timer moved (or it closed); an established session's timer re-reads its
                    // LastReceiveMs when it fires, so the steady-state path never touches the wheel.
                    _timers.Schedule(target, now);
                }
                if (result == RecordResult.Defer)
                {
                    target.Defer(datagram[(offset + header.Length)..]);
                    _ = AwaitPskAsync(target);
                    break;
                }
                if (result == RecordResult.Stop)
                {
                    break;
                }
            }
            _observer.EndDatagram();
            if (reader.Malformed)
            {
                _observer.Counters.CountDrop(DropReason.MalformedRecord);
            }
        }
    }

    /// <summary>
    /// The receive loop that owns a datagram whose first record is a tls12_cid record of this server's layout (the loop
    /// byte of the CID, <see cref="ConnectionIdTable"/>), or -1 for any other datagram.
    /// </summary>
    private int OwnerLoop(ReadOnlySpan<byte> datagram)
    {
        const int LoopByteOffset = 11 + 1;
        if (_connectionIds is not { } table || datagram.Length < RecordHeader.Size + table.Length
            || datagram[0] != (byte)ContentType.Tls12Cid || datagram[11] != table.Node)
        {
            return -1;
        }
        return datagram[LoopByteOffset];
    }

    /// <summary>
    /// Picks the connection a record belongs to, or handles it statelessly (a ClientHello) and returns null.
    /// <paramref name="entry"/> is the address's entry, updated when a hello starts a handshake.
    /// </summary>
    private ServerConnection? Route(SocketAddress from, ref ServerConnection? entry, in RecordHeader header,
        Span<byte> body, int datagramLength, long now)
    {
        var isClientHello = header.Type == ContentType.Handshake && header.Epoch == 0
            && !body.IsEmpty && body[0] == (byte)HandshakeType.ClientHello;
        if (isClientHello)
        {
            // A retransmission of the ClientHello that started a handshake goes to that handshake (it repeats
            // flight 4: HOSTILE 28); any other ClientHello goes through the cookie check.
            if (entry is not null && HasSameRandom(entry, body))
            {
                return entry;
            }
            if (entry?.Successor is { } successor && HasSameRandom(successor, body))
            {
                return successor;
            }
            entry = OnClientHello(from, entry, header, body, datagramLength, now);
            return null;
        }
        if (entry is null)
        {
            // ClientKeyExchange, Finished, ChangeCipherSpec… from a stranger: no state, no answer (HOSTILE 29).
            _observer.Drop(from, DropReason.NoSession);
            return null;
        }
        // RFC 6347 §4.2.8: while a new handshake from the same address runs, the old association keeps its
        // application data; the new handshake gets the epoch-0 records and the protected Finished.
        if (entry.Successor is { IsClosed: false } next && (header.Epoch == 0 || header.Type == ContentType.Handshake))
        {
            return next;
        }
        return entry;
    }

    private static bool HasSameRandom(DtlsConnection connection, ReadOnlySpan<byte> body)
    {
        // ClientHello body offset 2 (after client_version) holds the 32-byte random.
        const int randomOffset = HandshakeHeader.Size + 2;
        return body.Length >= randomOffset + KeySchedule.RandomLength
            && connection.HasClientRandom(body.Slice(randomOffset, KeySchedule.RandomLength));
    }

    /// <summary>Retransmissions, handshake deadlines, idle expiry and cipher release. Called every <see cref="TickInterval"/>.</summary>
    public void OnTick()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            var now = NowMs();
            var released = _timers.Fire(now);
            if (released > 0)
            {
                _observer.Counters.CiphersReleased += released;
                _timers.TrimIfWorthIt(_observer.Counters.CiphersReleased);
            }
            _hellos.OnTick(now);
            _services.SessionCache?.Expire(now);
        }
    }

    /// <summary>Sends close_notify to every established peer and forgets all state. Returns how many were told.</summary>
    public int CloseAll()
    {
        lock (_gate)
        {
            var count = 0;
            foreach (var connection in _peers.Snapshot())
            {
                if (connection.IsEstablished)
                {
                    count++;
                }
                connection.CloseGracefully(DtlsCloseReason.LocalClose);
            }
            return count;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _services.IsShutDown = true;
            foreach (var connection in _peers.Snapshot())
            {
                connection.Dispose();
            }
            _peers.Clear();
            _hellos.Dispose();
            _ownedSessionCache?.Dispose();
            _ownedTickets?.Dispose();
            (_services.HandshakePool as IDisposable)?.Dispose();
        }
    }

    // The socket's EMSGSIZE feedback, passed through to the connection that just sent (none for a batching sender).
    bool IDatagramSendFeedback.TakeMessageTooLarge() => _sender is IDatagramSendFeedback feedback && feedback.TakeMessageTooLarge();

    // Connections send through the engine so that bytes out are counted in one place (flood figures compare
    // them with bytes in). Always called under _gate: by the engine itself or by a connection it is driving.
    void IDatagramSender.Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        _observer.Counters.DatagramsSent++;
        _observer.Counters.BytesSent += datagram.Length;
        if (_isClusterNode && ViaAddress.TryRead(peer, _viaClient, out var node))
        {
            // A client another node forwarded: the balancer expects the answer from that node (docs/scaling.md).
            if (Forwarder is { } forwarder && forwarder.TrySendReply(node, _viaClient, datagram))
            {
                _observer.Counters.DatagramsSentThroughNodes++;
            }
            return;
        }
        _sender.Send(datagram, peer);
    }
}
