namespace HotDtls.Transport;

internal static class TimeProviderExtensions
{
    /// <summary>A monotonic millisecond clock: all of HotDtls's timers count in these.</summary>
    public static long GetMonotonicMilliseconds(this TimeProvider time)
        => time.GetTimestamp() / (time.TimestampFrequency / 1000);
}
