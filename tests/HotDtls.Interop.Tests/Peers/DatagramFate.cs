namespace HotDtls.Interop.Tests.Peers;

/// <summary>What the relay does with one datagram.</summary>
/// <param name="TooLarge">Larger than <see cref="LossyUdpRelayOptions.MaxDatagramSize"/>: dropped by the path.</param>
/// <param name="Drop">Dropped (loss).</param>
/// <param name="Duplicate">Sent twice.</param>
/// <param name="Reorder">Held back until the next datagram (or <see cref="LossyUdpRelayOptions.MaxHoldTime"/>).</param>
/// <param name="Delay">Delay before it (and its duplicate) is sent.</param>
public readonly record struct DatagramFate(bool TooLarge, bool Drop, bool Duplicate, bool Reorder, TimeSpan Delay);
