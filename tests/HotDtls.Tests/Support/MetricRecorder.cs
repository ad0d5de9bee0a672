using System.Diagnostics.Metrics;

namespace HotDtls.Tests.Support;

/// <summary>
/// Listens to one <see cref="Meter"/> instance only (other tests' servers publish on meters of the same name, in
/// parallel) and keeps every measurement with its tags.
/// </summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<Recorded> _recorded = [];
    private readonly Lock _gate = new();

    public MetricRecorder(Meter meter)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter == meter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    public sealed record Recorded(Instrument Instrument, double Value, Dictionary<string, object?> Tags)
    {
        public string Name => Instrument.Name;

        public object? this[string tag] => Tags.GetValueOrDefault(tag);
    }

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }
        lock (_gate)
        {
            _recorded.Add(new(instrument, value, copy));
        }
    }

    /// <summary>Every measurement of <paramref name="name"/> pushed so far (or observed by <see cref="Observe"/>).</summary>
    public List<Recorded> Of(string name)
    {
        lock (_gate)
        {
            return _recorded.FindAll(r => r.Name == name);
        }
    }

    /// <summary>Runs the observable instruments' callbacks now and returns what they reported for <paramref name="name"/>.</summary>
    public List<Recorded> Observe(string name)
    {
        lock (_gate)
        {
            _recorded.RemoveAll(r => r.Instrument.IsObservable);
        }
        _listener.RecordObservableInstruments();
        return Of(name);
    }

    /// <summary>The one observed value of <paramref name="name"/> whose tag <paramref name="tag"/> is <paramref name="value"/> (0 if none).</summary>
    public double Observed(string name, string? tag = null, object? value = null)
    {
        var matching = Observe(name).FindAll(r => tag is null || Equals(r[tag], value));
        Assert.True(matching.Count <= 1, $"{name} reported {matching.Count} measurements for {tag}={value}");
        return matching.Count == 0 ? 0 : matching[0].Value;
    }

    public void Dispose() => _listener.Dispose();
}
