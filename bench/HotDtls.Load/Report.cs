using System.Globalization;
using System.Text;
using System.Text.Json;

namespace HotDtls.Load;

/// <summary>
/// A run's result as ordered (key, label, value) entries: printed for people (label, value, unit) and as one JSON
/// object for scripts (key: value). Numbers keep their units in the key, e.g. <c>rtt_p99_us</c>.
/// </summary>
internal sealed class Report
{
    private readonly List<Entry> _entries = [];

    private readonly record struct Entry(string Key, string Label, object? Value, string Unit, int Decimals);

    public void Add(string key, string label, string? value) => _entries.Add(new Entry(key, label, value, "", 0));

    public void Add(string key, string label, long value, string unit = "") => _entries.Add(new Entry(key, label, value, unit, 0));

    public void Add(string key, string label, double value, string unit = "", int decimals = 1)
        => _entries.Add(new Entry(key, label, double.IsFinite(value) ? value : null, unit, decimals));

    public void Add(string key, string label, bool value) => _entries.Add(new Entry(key, label, value, "", 0));

    public void AddLatency(string prefix, string label, LatencySummary summary)
    {
        Add($"{prefix}_count", $"{label} samples", summary.Count);
        Add($"{prefix}_p50_us", $"{label} p50", summary.P50Us, "µs");
        Add($"{prefix}_p99_us", $"{label} p99", summary.P99Us, "µs");
        Add($"{prefix}_p999_us", $"{label} p99.9", summary.P999Us, "µs");
        Add($"{prefix}_max_us", $"{label} max", summary.MaxUs, "µs");
        Add($"{prefix}_mean_us", $"{label} mean", summary.MeanUs, "µs");
    }

    public object? this[string key] => _entries.Find(e => e.Key == key).Value;

    public string ToText()
    {
        var width = 0;
        foreach (var entry in _entries)
        {
            width = Math.Max(width, entry.Label.Length);
        }
        var text = new StringBuilder();
        foreach (var entry in _entries)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {entry.Label.PadRight(width)}  {Format(entry)}");
            if (entry.Unit.Length > 0 && entry.Value is not null)
            {
                text.Append(' ').Append(entry.Unit);
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    private static string Format(Entry entry) => entry.Value switch
    {
        null => "n/a",
        double d => d.ToString("N" + entry.Decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
        long l => l.ToString("N0", CultureInfo.InvariantCulture),
        bool b => b ? "yes" : "no",
        var other => Convert.ToString(other, CultureInfo.InvariantCulture) ?? "",
    };

    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            foreach (var entry in _entries)
            {
                switch (entry.Value)
                {
                    case null:
                        json.WriteNull(entry.Key);
                        break;
                    case double d:
                        json.WriteNumber(entry.Key, Math.Round(d, Math.Max(entry.Decimals, 3)));
                        break;
                    case long l:
                        json.WriteNumber(entry.Key, l);
                        break;
                    case bool b:
                        json.WriteBoolean(entry.Key, b);
                        break;
                    default:
                        json.WriteString(entry.Key, Convert.ToString(entry.Value, CultureInfo.InvariantCulture));
                        break;
                }
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
