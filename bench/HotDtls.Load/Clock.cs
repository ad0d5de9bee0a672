using System.Diagnostics;

namespace HotDtls.Load;

/// <summary>
/// The generator's one clock: <see cref="Stopwatch"/> ticks (nanoseconds on Linux), monotonic and cheap to read.
/// Everything that is timed (windows, pacing, timers) takes "now" as a plain <see cref="long"/>, so tests pass their own.
/// </summary>
internal static class Clock
{
    public static readonly long TicksPerSecond = Stopwatch.Frequency;

    public static long Now => Stopwatch.GetTimestamp();

    public static long FromMilliseconds(double ms) => (long)(ms * TicksPerSecond / 1000.0);

    public static long FromSeconds(double seconds) => (long)(seconds * TicksPerSecond);

    /// <summary>Milliseconds for HotDtls's connection timers, which count in whole milliseconds.</summary>
    public static long ToMilliseconds(long ticks) => ticks / (TicksPerSecond / 1000);

    public static long ToNanoseconds(long ticks) => (long)(ticks * (1e9 / TicksPerSecond));

    public static double ToSeconds(long ticks) => (double)ticks / TicksPerSecond;
}
