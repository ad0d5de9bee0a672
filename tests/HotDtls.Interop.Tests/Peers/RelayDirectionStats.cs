using System.Diagnostics;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>Counters for one direction of a <see cref="LossyUdpRelay"/>.</summary>
public sealed class RelayDirectionStats
{
    internal int _received;
    internal int _forwarded;
    internal int _dropped;
    internal int _tooLarge;
    internal int _duplicated;
    internal int _reordered;
    internal int _delayed;
    internal long _firstReceivedTimestamp;

    /// <summary>Datagrams that arrived at the relay.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Datagrams sent on (each at least once; duplicates not counted twice), counted when actually sent.</summary>
    public int Forwarded => Volatile.Read(ref _forwarded);

    /// <summary>Datagrams dropped as loss.</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Datagrams dropped for being larger than <see cref="LossyUdpRelayOptions.MaxDatagramSize"/>.</summary>
    public int TooLarge => Volatile.Read(ref _tooLarge);

    /// <summary>Datagrams sent a second time.</summary>
    public int Duplicated => Volatile.Read(ref _duplicated);

    /// <summary>Datagrams held back and released out of order (or after <see cref="LossyUdpRelayOptions.MaxHoldTime"/>).</summary>
    public int Reordered => Volatile.Read(ref _reordered);

    /// <summary>Datagrams put on the delay line (each once, duplicates not counted twice).</summary>
    public int Delayed => Volatile.Read(ref _delayed);

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the first datagram arrived, or 0 if none has.</summary>
    public long FirstReceivedTimestamp => Volatile.Read(ref _firstReceivedTimestamp);

    /// <inheritdoc/>
    public override string ToString() =>
        $"received {Received}, forwarded {Forwarded}, dropped {Dropped}, too large {TooLarge}, duplicated {Duplicated}, "
        + $"reordered {Reordered}, delayed {Delayed}";
}
