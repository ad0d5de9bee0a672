namespace HotDtls.Interop.Tests.Peers;

/// <summary>How a <see cref="LossyUdpRelay"/> mistreats datagrams. Probabilities are per datagram, 0..1.</summary>
public sealed record LossyUdpRelayOptions
{
    /// <summary>Chance a datagram is dropped.</summary>
    public double DropProbability { get; init; }

    /// <summary>Chance a forwarded datagram is sent twice.</summary>
    public double DuplicateProbability { get; init; }

    /// <summary>Chance a datagram is held back and released after the next one in the same direction.</summary>
    public double ReorderProbability { get; init; }

    /// <summary>
    /// A held datagram is released after this long if no next datagram comes (so the last datagram of an
    /// exchange is delayed, not lost). Default 200 ms.
    /// </summary>
    public TimeSpan MaxHoldTime { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// One-way delay added to every forwarded datagram (after the reorder hold). With <see cref="Jitter"/> zero,
    /// order is kept: a path with a fixed delay is first in, first out.
    /// </summary>
    public TimeSpan Delay { get; init; }

    /// <summary>
    /// Each datagram's delay is drawn uniformly from <see cref="Delay"/> ± this (never below zero); datagrams
    /// whose delays differ by more than their spacing overtake each other, as on a real path.
    /// </summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>
    /// Largest datagram (UDP payload bytes) the path carries; larger ones are dropped, as by a link with a small
    /// MTU and no IP fragmentation, and counted in <see cref="RelayDirectionStats.TooLarge"/> rather than
    /// <see cref="RelayDirectionStats.Dropped"/>. Null (the default): no limit.
    /// </summary>
    public int? MaxDatagramSize { get; init; }

    /// <summary>
    /// Seed for the decisions. Each direction draws from its own <see cref="Random"/> (seed, seed + 1), so the
    /// n-th datagram in a direction always gets the same fate whatever the other direction does.
    /// </summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Called with one line per datagram (direction, index, time, DTLS records, fate), for diagnosing a run; null
    /// (the default) traces nothing. Called on the relay's receive loops, so keep it quick and thread-safe.
    /// </summary>
    public Action<string>? Trace { get; init; }

    /// <summary>
    /// Called with every datagram as it arrives at the relay, before its fate is decided (so dropped ones too), for
    /// tests that look at the wire: which records carry a Connection ID, and which one. Called on the relay's receive
    /// loops; the array is the relay's and must not be changed. Null (the default): nothing is called.
    /// </summary>
    public Action<RelayDirection, byte[]>? Tap { get; init; }

    /// <summary>
    /// NAT rebinding at a point the test fixes in advance: the first this-many datagrams from the client reach the
    /// server from the relay's first address, and the relay rebinds (<see cref="LossyUdpRelay.Rebind"/>) as the next
    /// one arrives, so it and all later ones come from a new port. Counts datagrams arriving at the relay, whatever
    /// their fate. Null (the default): only explicit <see cref="LossyUdpRelay.Rebind"/> calls rebind.
    /// </summary>
    public int? RebindAfterClientDatagrams { get; init; }

    /// <summary>
    /// After a rebinding, whether datagrams the server still sends to the old address reach the client (the NAT kept
    /// the old mapping too). False (the default): they are lost, as when the old mapping expired — the usual reason
    /// a NAT hands out a new port — and counted in <see cref="RelayUpstreamStats.LostAfterRetired"/>.
    /// </summary>
    public bool OldAddressKeepsWorking { get; init; }

    /// <summary>Throws for probabilities outside 0..1, negative times, a size limit below 1 or a rebinding point below 1.</summary>
    public void Validate()
    {
        RequireProbability(DropProbability, nameof(DropProbability));
        RequireProbability(DuplicateProbability, nameof(DuplicateProbability));
        RequireProbability(ReorderProbability, nameof(ReorderProbability));
        if (Delay < TimeSpan.Zero || Jitter < TimeSpan.Zero || MaxHoldTime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Delay), "Delay and Jitter must not be negative, MaxHoldTime must be positive.");
        }
        if (MaxDatagramSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDatagramSize), MaxDatagramSize, "MaxDatagramSize must be at least 1.");
        }
        if (RebindAfterClientDatagrams is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(RebindAfterClientDatagrams), RebindAfterClientDatagrams,
                "RebindAfterClientDatagrams must be at least 1 (the server must have seen the first address to notice a change).");
        }
    }

    private static void RequireProbability(double value, string name)
    {
        if (value is < 0 or > 1 || double.IsNaN(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between 0 and 1.");
        }
    }
}
