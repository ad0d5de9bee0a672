using System.Diagnostics.Metrics;
using System.Net;
using HotDtls.Connection;
using HotDtls.Diagnostics;
using HotDtls.Handshake;
using HotDtls.Records;
using static HotDtls.Diagnostics.MetricNames;

namespace HotDtls.Server;

/// <summary>
/// One server's instruments on the <c>HotDtls</c> meter (docs/_fragments/metrics.md). What the engines already count
/// — datagrams, bytes, drops, cookies, handshakes started, sessions — is read by observable instruments when a listener
/// collects (the pull model): the datagram path does exactly what it did without metrics. Only rare events that need
/// tags per event — a handshake ending (suite or error, duration) and an alert — are pushed
/// (<see cref="DtlsInstruments"/>), each guarded by its instrument's <c>Enabled</c>.
/// </summary>
/// <remarks>
/// Every measurement carries the server's role, address and port, so two servers in one process stay apart (a meter
/// from an <see cref="IMeterFactory"/> is shared by everything that asks for the same name). Once disposed the
/// observable callbacks report nothing and hold no engine: a meter that outlives the server (the factory's) keeps
/// only this small object alive.
/// </remarks>
internal sealed class ServerMetrics : IDisposable
{
    private readonly DtlsInstruments _instruments;
    private readonly KeyValuePair<string, object?> _role;
    private readonly KeyValuePair<string, object?> _address;
    private readonly KeyValuePair<string, object?> _port;
    // The engines the observable callbacks read; null once disposed. Written by Dispose, read by the collecting thread:
    // volatile so a collection after Dispose sees null and reads no engine.
    private volatile ServerEngine[]? _engines;

    /// <param name="meterFactory">Where the meter comes from (owned by the factory), or null for a meter of our own.</param>
    /// <param name="endPoint">The server's bound address: the <c>server.address</c> and <c>server.port</c> tags.</param>
    /// <param name="time">The clock the handshakes were stamped with.</param>
    /// <param name="cluster">The server is a cluster node: its forwarding is measured too.</param>
    public ServerMetrics(IMeterFactory? meterFactory, IPEndPoint endPoint, TimeProvider time, bool cluster = false)
    {
        _instruments = new DtlsInstruments(meterFactory, MetricNames.Server, endPoint, time);
        (_role, _address, _port) = (_instruments.Role, _instruments.Address, _instruments.Port);
        var meter = _instruments.Meter;
        meter.CreateObservableCounter(Datagrams, ObserveDatagrams, "{datagram}",
            "DTLS datagrams received from and sent to the socket (every datagram, handshake or data).");
        meter.CreateObservableCounter(Bytes, ObserveBytes, "By", "Bytes of those datagrams (UDP payload).");
        meter.CreateObservableCounter(DeliveredDatagrams, () => Observe(static s => s.DatagramsDelivered),
            "{datagram}", "Decrypted application-data records handed to the application's handler.");
        meter.CreateObservableCounter(DroppedRecords, ObserveDrops, "{record}",
            "Records and handshake fragments discarded silently (RFC 6347 §4.1.2.7), by reason.");
        meter.CreateObservableCounter(HelloVerifyRequests, () => Observe(static s => s.HelloVerifyRequestsSent),
            "{message}", "HelloVerifyRequests (cookie challenges) sent to peers without a valid cookie.");
        meter.CreateObservableCounter(StartedHandshakes, () => Observe(static s => s.HandshakesStarted),
            "{handshake}", "Handshakes begun after a valid cookie.");
        meter.CreateObservableCounter(EvictedHandshakes, () => Observe(static s => s.HandshakesEvicted),
            "{handshake}", "Half-open handshakes pushed out, oldest first, to make room for new ones.");
        meter.CreateObservableUpDownCounter(ActiveSessions, () => Observe(static s => s.Sessions),
            "{session}", "Peers with state now: handshaking or established (as kestrel.active_connections).");
        meter.CreateObservableUpDownCounter(ActiveHandshakes, () => Observe(static s => s.HandshakesInProgress),
            "{handshake}", "Handshakes in progress now (half-open: cookie verified, not finished).");
        if (cluster)
        {
            meter.CreateObservableCounter(ClusterDatagrams, ObserveCluster, "{datagram}",
                "Cluster: CID records forwarded to the node that owns their session, not forwarded (node down or unknown), and answers sent back through the node that forwarded the client's record.");
        }
    }

    /// <summary>The meter (for tests that listen to this server's instruments only).</summary>
    internal Meter Meter => _instruments.Meter;

    /// <summary>Starts reporting what <paramref name="engines"/> count (the server's receive loops).</summary>
    public void Observe(ServerEngine[] engines)
    {
        ArgumentNullException.ThrowIfNull(engines);
        _engines = engines;
    }

    /// <summary>A handshake ended (see <see cref="IConnectionObserver.OnHandshakeEnded"/>). Called under an engine's lock.</summary>
    public void OnHandshakeEnded(DtlsConnection connection, long startedTimestamp, DtlsCloseReason? closeReason, DtlsError error)
    {
        if (!_instruments.HandshakesObserved)
        {
            return;
        }
        if (closeReason is { } reason)
        {
            _instruments.HandshakeFailed(HandshakeErrorType.Of(reason, error), startedTimestamp);
        }
        else
        {
            _instruments.HandshakeCompleted(connection.NegotiatedSuite, connection.IsResumed, startedTimestamp);
        }
    }

    /// <summary>An alert sent or received (see <see cref="IConnectionObserver.OnAlert"/>).</summary>
    public void OnAlert(AlertLevel level, AlertDescription description, bool sent)
        => _instruments.Alert((byte)level, description, sent);

    /// <summary>
    /// The engines' counters summed, or null once disposed. Each call takes each engine's lock once — per instrument
    /// per collection (a listener collects every second or so), never per datagram.
    /// </summary>
    private DtlsServerStatistics? Snapshot()
    {
        if (_engines is not { } engines)
        {
            return null;
        }
        var total = default(DtlsServerStatistics);
        foreach (var engine in engines)
        {
            total = total.Add(engine.GetStatistics());
        }
        return total;
    }

    private Measurement<long>[] Observe(Func<DtlsServerStatistics, long> read)
        => Snapshot() is { } statistics ? [new(read(statistics), _role, _address, _port)] : [];

    private Measurement<long>[] ObserveDatagrams() => Snapshot() is { } s
        ? [Directed(s.DatagramsReceived, Receive), Directed(s.DatagramsSent, Transmit)]
        : [];

    private Measurement<long>[] ObserveBytes() => Snapshot() is { } s
        ? [Directed(s.BytesReceived, Receive), Directed(s.BytesSent, Transmit)]
        : [];

    // The node-to-node channel the server started (null: none, or not yet, or disposed). Read by the collecting thread.
    private volatile HotDtls.Cluster.ClusterChannel? _channel;

    /// <summary>Starts reporting the node-to-node channel's frames (a cluster node with a channel).</summary>
    public void ObserveChannel(HotDtls.Cluster.ClusterChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        if (_channel is null)
        {
            _channel = channel;
            _instruments.Meter.CreateObservableCounter(ClusterChannelFrames, ObserveChannelFrames, "{frame}",
                "Cluster: node-to-node channel frames sent (or refused: node down, unknown, too large, stopped) and received (delivered, heartbeats, or dropped by reason).");
        }
    }

    private List<Measurement<long>> ObserveChannelFrames()
    {
        var result = new List<Measurement<long>>(20);
        if (_engines is null || _channel is not { } channel)
        {
            return result;
        }
        var s = channel.Statistics;
        Frame(result, Transmit, "forward", s.ForwardsSent);
        Frame(result, Transmit, "reply", s.RepliesSent);
        Frame(result, Transmit, "heartbeat", s.HeartbeatsSent);
        Frame(result, Transmit, "refused_node_down", s.RefusedNodeDown);
        Frame(result, Transmit, "refused_unknown_node", s.RefusedUnknownNode);
        Frame(result, Transmit, "refused_too_large", s.RefusedTooLarge);
        Frame(result, Transmit, "refused_stopped", s.RefusedStopped);
        Frame(result, Receive, "forward", s.ForwardsDelivered);
        Frame(result, Receive, "reply", s.RepliesDelivered);
        Frame(result, Receive, "heartbeat", s.HeartbeatsReceived);
        Frame(result, Receive, "malformed", s.Malformed);
        Frame(result, Receive, "oversized", s.Oversized);
        Frame(result, Receive, "bad_mac", s.BadMac);
        Frame(result, Receive, "replayed", s.Replayed);
        Frame(result, Receive, "not_for_me", s.NotForMe);
        Frame(result, Receive, "unknown_sender", s.UnknownSender);
        Frame(result, Receive, "not_owner", s.NotOwner);
        return result;
    }

    private void Frame(List<Measurement<long>> result, string direction, string outcome, long value)
        => result.Add(new(value, _role, _address, _port, new(DirectionTag, direction), new(ClusterFrameOutcomeTag, outcome)));

    private Measurement<long>[] ObserveCluster() => Snapshot() is { } s
        ?
        [
            new(s.DatagramsForwarded, _role, _address, _port, new(ClusterRouteTag, "forwarded")),
            new(s.DatagramsNotForwarded, _role, _address, _port, new(ClusterRouteTag, "not_forwarded")),
            new(s.DatagramsSentThroughNodes, _role, _address, _port, new(ClusterRouteTag, "sent_through_node")),
        ]
        : [];

    private Measurement<long> Directed(long value, string direction)
        => new(value, _role, _address, _port, new(DirectionTag, direction));

    private List<Measurement<long>> ObserveDrops()
    {
        var result = new List<Measurement<long>>();
        if (_engines is not { } engines)
        {
            return result;
        }
        Span<long> totals = stackalloc long[DropCounts.Length];
        foreach (var engine in engines)
        {
            engine.AddDropCounts(totals);
        }
        for (var i = 0; i < totals.Length; i++)
        {
            // Reasons that never happened are left out: a drop reason appears with its first drop.
            if (totals[i] > 0)
            {
                result.Add(new(totals[i], _role, _address, _port,
                    new(DropReasonTag, SnakeCase(((DropReason)i).ToString()))));
            }
        }
        return result;
    }

    public void Dispose()
    {
        _engines = null;
        _instruments.Dispose();
    }
}
