using HdrHistogram;

namespace HotDtls.Load;

/// <summary>
/// Latencies of one worker thread, in nanoseconds, in an HdrHistogram (3 significant digits, up to 100 s): recording
/// allocates nothing. Each thread owns one; <see cref="Merge"/> adds them up once the run is over.
/// </summary>
internal sealed class LatencyStats
{
    /// <summary>Longest latency kept; a longer one is recorded as this (a DTLS handshake gives up well before).</summary>
    public const long HighestNanoseconds = 100_000_000_000;

    private readonly LongHistogram _histogram = new(HighestNanoseconds, 3);

    public long Count => _histogram.TotalCount;

    public void RecordNanoseconds(long nanoseconds)
        => _histogram.RecordValue(Math.Clamp(nanoseconds, 1, HighestNanoseconds));

    public void RecordTicks(long ticks) => RecordNanoseconds(Clock.ToNanoseconds(ticks));

    public void Add(LatencyStats other) => _histogram.Add(other._histogram);

    public static LatencyStats Merge(IEnumerable<LatencyStats> parts)
    {
        var total = new LatencyStats();
        foreach (var part in parts)
        {
            total.Add(part);
        }
        return total;
    }

    /// <summary>The figures a report prints, in microseconds; all zero when nothing was recorded.</summary>
    public LatencySummary Summarize()
    {
        if (_histogram.TotalCount == 0)
        {
            return default;
        }
        return new LatencySummary(
            _histogram.TotalCount,
            Micro(_histogram.GetValueAtPercentile(50)),
            Micro(_histogram.GetValueAtPercentile(99)),
            Micro(_histogram.GetValueAtPercentile(99.9)),
            Micro(_histogram.GetMaxValue()),
            _histogram.GetMean() / 1000.0);
    }

    private static double Micro(long nanoseconds) => nanoseconds / 1000.0;
}

/// <summary>Percentiles of a latency distribution, in microseconds.</summary>
internal readonly record struct LatencySummary(long Count, double P50Us, double P99Us, double P999Us, double MaxUs, double MeanUs);
