using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using static HotDtls.Diagnostics.MetricNames;

namespace HotDtls.Diagnostics;

/// <summary>
/// The <c>HotDtls</c> meter of one server or client, the tags that say whose it is (<c>dtls.role</c>,
/// <c>server.address</c>, <c>server.port</c>), and the instruments pushed per event: handshake ends and alerts. These
/// events are rare — a handful per association — and each is recorded only when its instrument is
/// <see cref="Instrument.Enabled"/>, so with nobody listening it costs one branch. Counts the engines keep anyway are
/// published by observable instruments on <see cref="Meter"/> (the server's <c>ServerMetrics</c>).
/// </summary>
internal sealed class DtlsInstruments : IDisposable
{
    private static readonly string s_version = typeof(DtlsInstruments).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    private readonly bool _ownsMeter;
    private readonly TimeProvider _time;
    private readonly Counter<long> _completed;
    private readonly Counter<long> _failed;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _alerts;

    /// <param name="meterFactory">Where the meter comes from (owned by the factory), or null for a meter of our own.</param>
    /// <param name="role"><see cref="MetricNames.Server"/> or <see cref="MetricNames.Client"/>.</param>
    /// <param name="server">The server's address: the server's own bound one, or the one a client talks to.</param>
    /// <param name="time">The clock handshakes are stamped with.</param>
    public DtlsInstruments(IMeterFactory? meterFactory, string role, IPEndPoint server, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        Role = new(RoleTag, role);
        Address = new(ServerAddressTag, server.Address.ToString());
        Port = new(ServerPortTag, server.Port);
        var options = new MeterOptions(MeterName) { Version = s_version };
        _ownsMeter = meterFactory is null;
        Meter = meterFactory?.Create(options) ?? new Meter(options);
        _completed = Meter.CreateCounter<long>(CompletedHandshakes, "{handshake}",
            "Handshakes that established a session, by cipher suite and whether it was a resumption.");
        _failed = Meter.CreateCounter<long>(FailedHandshakes, "{handshake}",
            "Handshakes that ended without a session, by error.type (the failure, or why the handshake was closed).");
        _duration = Meter.CreateHistogram(HandshakeDuration, "s",
            "From the first handshake message (server: the cookie-verified ClientHello) to the end of the handshake.",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = HandshakeDurationBuckets });
        _alerts = Meter.CreateCounter<long>(Alerts, "{alert}",
            "Alerts sent and authentic alerts received, by direction, level and description.");
    }

    public Meter Meter { get; }

    public KeyValuePair<string, object?> Role { get; }

    public KeyValuePair<string, object?> Address { get; }

    public KeyValuePair<string, object?> Port { get; }

    /// <summary>
    /// Whether anyone listens to the handshake instruments: callers check it before they work out the tags (an
    /// <c>error.type</c> name), so a server nobody watches does not even do that per handshake.
    /// </summary>
    public bool HandshakesObserved => _completed.Enabled || _failed.Enabled || _duration.Enabled;

    /// <summary>A handshake begun at <paramref name="startedTimestamp"/> (of the clock given) established a session.</summary>
    public void HandshakeCompleted(CipherSuite? suite, bool resumed, long startedTimestamp)
    {
        if (!_completed.Enabled && !_duration.Enabled)
        {
            return;
        }
        var tags = new TagList { Role, Address, Port, { CipherSuiteTag, suite?.ToString() } };
        if (_completed.Enabled)
        {
            var completed = tags;
            completed.Add(ResumedTag, resumed);
            _completed.Add(1, completed);
        }
        RecordDuration(startedTimestamp, tags);
    }

    /// <summary>A handshake begun at <paramref name="startedTimestamp"/> ended without a session, for <paramref name="errorType"/>.</summary>
    public void HandshakeFailed(string errorType, long startedTimestamp)
    {
        if (!_failed.Enabled && !_duration.Enabled)
        {
            return;
        }
        var tags = new TagList { Role, Address, Port, { ErrorTypeTag, errorType } };
        if (_failed.Enabled)
        {
            _failed.Add(1, tags);
        }
        RecordDuration(startedTimestamp, tags);
    }

    private void RecordDuration(long startedTimestamp, in TagList tags)
    {
        if (_duration.Enabled && startedTimestamp != 0)
        {
            _duration.Record(_time.GetElapsedTime(startedTimestamp).TotalSeconds, tags);
        }
    }

    /// <summary>An alert of <paramref name="level"/> (the wire byte: 1 warning, 2 fatal) went out, or an authentic one came in.</summary>
    public void Alert(byte level, AlertDescription description, bool sent)
    {
        if (!_alerts.Enabled)
        {
            return;
        }
        var tags = new TagList
        {
            Role, Address, Port,
            { DirectionTag, sent ? Transmit : Receive },
            { AlertLevelTag, level switch { 1 => "warning", 2 => "fatal", _ => "unknown" } },
            { AlertDescriptionTag, SnakeCase(description.ToString()) },
        };
        _alerts.Add(1, tags);
    }

    /// <summary>Disposes the meter if it is ours (a factory's meter is the factory's to dispose).</summary>
    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }
}
