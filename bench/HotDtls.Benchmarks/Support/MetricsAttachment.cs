using System.Diagnostics.Metrics;
using System.Net;
using HotDtls.Server;

namespace HotDtls.Benchmarks.Support;

/// <summary>How a benchmark's engine is instrumented.</summary>
public enum MetricsMode
{
    /// <summary>No meter at all (as before metrics existed).</summary>
    None,

    /// <summary>The server's meter and instruments exist, nobody listens: the state of most deployed servers.</summary>
    Idle,

    /// <summary>A listener has enabled every instrument (as dotnet-counters or OpenTelemetry would).</summary>
    Listening,
}

/// <summary>A server's metrics attached to an in-memory engine, and the listener when <see cref="MetricsMode.Listening"/>.</summary>
internal sealed class MetricsAttachment : IDisposable
{
    private readonly ServerMetrics? _metrics;
    private readonly MeterListener? _listener;

    public MetricsAttachment(ServerEngine engine, MetricsMode mode)
    {
        if (mode == MetricsMode.None)
        {
            return;
        }
        _metrics = new ServerMetrics(meterFactory: null, new IPEndPoint(IPAddress.Loopback, 22334), TimeProvider.System);
        _metrics.Observe([engine]);
        engine.Metrics = _metrics;
        if (mode == MetricsMode.Listening)
        {
            var meter = _metrics.Meter;
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (instrument.Meter == meter)
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Total += value);
            _listener.SetMeasurementEventCallback<int>((_, value, _, _) => Total += value);
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) => Total += (long)value);
            _listener.Start();
        }
    }

    /// <summary>The sum of every measurement heard (kept so the callbacks do observable work).</summary>
    public long Total { get; private set; }

    /// <summary>One collection of the observable instruments, as a listener makes once per interval.</summary>
    public void Collect() => _listener?.RecordObservableInstruments();

    public void Dispose()
    {
        _listener?.Dispose();
        _metrics?.Dispose();
    }
}
