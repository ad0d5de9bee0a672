using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Stress;

/// <summary>Relay counters of a trial, both directions added.</summary>
internal readonly record struct RelayCounts(int Received, int Dropped, int TooLarge, int Duplicated, int Reordered)
{
    public static RelayCounts Of(LossyUdpRelay relay) => new(
        relay.ClientToServer.Received + relay.ServerToClient.Received,
        relay.ClientToServer.Dropped + relay.ServerToClient.Dropped,
        relay.ClientToServer.TooLarge + relay.ServerToClient.TooLarge,
        relay.ClientToServer.Duplicated + relay.ServerToClient.Duplicated,
        relay.ClientToServer.Reordered + relay.ServerToClient.Reordered);

    public static RelayCounts operator +(RelayCounts a, RelayCounts b) => new(
        a.Received + b.Received, a.Dropped + b.Dropped, a.TooLarge + b.TooLarge, a.Duplicated + b.Duplicated, a.Reordered + b.Reordered);
}
