namespace HotDtls.Connection;

/// <summary>
/// The RFC 6347 §4.2.4.1 retransmission timer of one handshake, held inline in its <see cref="HandshakeContext"/>:
/// armed with the initial timeout when a flight that expects an answer goes out, doubled on each expiry up to the
/// maximum, stopped when the answer begins to arrive.
/// </summary>
/// <remarks>
/// "Implementations SHOULD use an initial timer value of 1 second [...] and double the value at each retransmission,
/// up to no less than the RFC 6298 maximum of 60 seconds." (RFC 6347 §4.2.4.1); both values are options.
/// </remarks>
internal struct RetransmitTimer
{
    /// <summary>When the flight is sent again (monotonic milliseconds); <see cref="long.MaxValue"/> while stopped.</summary>
    public long DueMs { get; private set; }

    /// <summary>The current period, doubled on each expiry.</summary>
    public long PeriodMs { get; private set; }

    public readonly bool IsArmed => DueMs != long.MaxValue;

    public static RetransmitTimer Stopped => new() { DueMs = long.MaxValue };

    public void Arm(long nowMs, long initialMs)
    {
        PeriodMs = initialMs;
        DueMs = nowMs + initialMs;
    }

    /// <summary>The timer fired and the flight was resent: wait twice as long (at most <paramref name="maxMs"/>).</summary>
    public void BackOff(long nowMs, long maxMs)
    {
        PeriodMs = Math.Min(PeriodMs * 2, maxMs);
        DueMs = nowMs + PeriodMs;
    }

    public void Stop() => DueMs = long.MaxValue;
}
