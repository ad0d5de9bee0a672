using System.Diagnostics;
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
/// tags per event — a handshake ending (suite or error, duration) and an alert — are pushed, each guarded by its
/// instrument's <c>Enabled</c>, so with nobody listening they cost one branch.
/// </summary>
/// <remarks>
/// Every measurement carries the server's role, address and port, so two servers in one process stay apart (a meter
/// from an <see cref="IMeterFactory"/> is shared by everything that asks for the same name). Once disposed the
/// observable callbacks report nothing and hold no engine: a meter that outlives the server (the factory's) keeps
/// only this small object alive.
/// </remarks>
internal sealed class ServerMetrics : IDisposable
{
    private static readonly string s_version = typeof(ServerMetrics).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    private readonly Meter _meter;
    private readonly bool _ownsMeter;
    private readonly TimeProvider _time;
    private readonly KeyValuePair<string, object?> _role = new(RoleTag, MetricNames.Server);
    private readonly KeyValuePair<string, object?> _address;
    private readonly KeyValuePair<string, object?> _port;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _alerts;
    // The engines the observable callbacks read; null once disposed. Written by Dispose, read by the collecting thread:
    // volatile so a collection after Dispose sees null and reads no engine.
    private volatile ServerEngine[]? _engines;

    /// <param name="meterFactory">Where the meter comes from (owned by the factory), or null for a meter of our own.</param>
    /// <param name="endPoint">The server's bound address: the <c>server.address</c> and <c>server.port</c> tags.</param>
    /// <param name="time">The clock the handshakes were stamped with.</param>
    public ServerMetrics(IMeterFactory? meterFactory, IPEndPoint endPoint, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _address = new(ServerAddressTag, endPoint.Address.ToString());
        _port = new(ServerPortTag, endPoint.Port);
        var options = new MeterOptions(MeterName) { Version = s_version };
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(options) ?? new Meter(options);

        _meter.CreateObservableCounter(Datagrams, ObserveDatagrams, "{datagram}",
            "DTLS datagrams received from and sent to the socket (every datagram, handshake or data).");
        _meter.CreateObservableCounter(Bytes, ObserveBytes, "By", "Bytes of those datagrams (UDP payload).");
        _meter.CreateObservableCounter(DeliveredDatagrams, () => Observe(static s => s.DatagramsDelivered),
            "{datagram}", "Decrypted application-data records handed to the application's handler.");
        _meter.CreateObservableCounter(DroppedRecords, ObserveDrops, "{record}",
            "Records and handshake fragments discarded silently (RFC 6347 §4.1.2.7), by reason.");
        _meter.CreateObservableCounter(HelloVerifyRequests, () => Observe(static s => s.HelloVerifyRequestsSent),
            "{message}", "HelloVerifyRequests (cookie challenges) sent to peers without a valid cookie.");
        _meter.CreateObservableCounter(StartedHandshakes, () => Observe(static s => s.HandshakesStarted),
            "{handshake}", "Handshakes begun after a valid cookie.");
        _meter.CreateObservableCounter(EvictedHandshakes, () => Observe(static s => s.HandshakesEvicted),
            "{handshake}", "Half-open handshakes pushed out, oldest first, to make room for new ones.");
        _meter.CreateObservableUpDownCounter(ActiveSessions, () => Observe(static s => s.Sessions),
            "{session}", "Peers with state now: handshaking or established (as kestrel.active_connections).");
        _meter.CreateObservableUpDownCounter(ActiveHandshakes, () => Observe(static s => s.HandshakesInProgress),
            "{handshake}", "Handshakes in progress now (half-open: cookie verified, not finished).");
        _completed = _meter.CreateCounter<long>(CompletedHandshakes, "{handshake}",
            "Handshakes that established a session, by cipher suite and whether it was a resumption.");
        _failed = _meter.CreateCounter<long>(FailedHandshakes, "{handshake}",
            "Handshakes that ended without a session, by error.type (the failure, or why the handshake was closed).");
        _duration = _meter.CreateHistogram(HandshakeDuration, "s",
            "From the cookie-verified ClientHello to the end of the handshake.", tags: null,
            new InstrumentAdvice<double> { HistogramBucketBoundaries = HandshakeDurationBuckets });
        _alerts = _meter.CreateCounter<long>(Alerts, "{alert}",
            "Alerts sent and authentic alerts received, by direction, level and description.");
    }

    /// <summary>The meter (for tests that listen to this server's instruments only).</summary>
    internal Meter Meter => _meter;

    /// <summary>Starts reporting what <paramref name="engines"/> count (the server's receive loops).</summary>
    public void Observe(ServerEngine[] engines)
    {
        ArgumentNullException.ThrowIfNull(engines);
        _engines = engines;
    }

    /// <summary>A handshake ended (see <see cref="IConnectionObserver.OnHandshakeEnded"/>). Called under an engine's lock.</summary>
    public void OnHandshakeEnded(DtlsConnection connection, long startedTimestamp, DtlsCloseReason? closeReason, DtlsError error)
    {
        var tags = new TagList { _role, _address, _port };
        if (closeReason is null)
        {
            tags.Add(CipherSuiteTag, connection.NegotiatedSuite?.ToString());
            if (_completed.Enabled)
            {
                var completed = tags;
                completed.Add(ResumedTag, connection.IsResumed);
                _completed.Add(1, completed);
            }
        }
        else
        {
            // A failure names its error (decrypt_error's cause: finished_mismatch, …); any other end of an unfinished
            // handshake names why it was closed (handshake_timeout, evicted, peer_alert, replaced, local_close).
            var type = closeReason == DtlsCloseReason.HandshakeFailed && error != DtlsError.None
                ? SnakeCase(error.ToString())
                : SnakeCase(closeReason.Value.ToString());
            tags.Add(ErrorTypeTag, type);
            if (_failed.Enabled)
            {
                _failed.Add(1, tags);
            }
        }
        if (_duration.Enabled && startedTimestamp != 0)
        {
            _duration.Record(_time.GetElapsedTime(startedTimestamp).TotalSeconds, tags);
        }
    }

    /// <summary>An alert sent or received (see <see cref="IConnectionObserver.OnAlert"/>).</summary>
    public void OnAlert(AlertLevel level, AlertDescription description, bool sent)
    {
        if (!_alerts.Enabled)
        {
            return;
        }
        var tags = new TagList
        {
            _role, _address, _port,
            { DirectionTag, sent ? Transmit : Receive },
            { AlertLevelTag, SnakeCase(level.ToString()) },
            { AlertDescriptionTag, SnakeCase(description.ToString()) },
        };
        _alerts.Add(1, tags);
    }

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
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
