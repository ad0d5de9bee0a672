namespace HotDtls.Fuzz;

/// <summary>A clock that moves only when the input says so (the engine's timers count in its milliseconds).</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    // Not zero: a clock at zero hides arithmetic that only goes wrong when "now" is large.
    private long _ticks = TimeSpan.FromDays(3).Ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero).AddTicks(_ticks);

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
