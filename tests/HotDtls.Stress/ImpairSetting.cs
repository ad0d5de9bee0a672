using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Stress;

/// <summary>One row group of the impairment table: what the relay does, and the MTU both peers are told.</summary>
/// <param name="Name">Short name for the table and for <c>--only</c>.</param>
/// <param name="Relay">The relay's impairments (the seed is set per trial).</param>
/// <param name="Mtu">
/// Passed to the HotDtls server and client (<see cref="DtlsOptions.Mtu"/>) and to s_client (<c>-mtu</c>, which
/// OpenSSL takes as the link MTU and subtracts 28 bytes of IPv4 and UDP header from).
/// </param>
internal sealed record ImpairSetting(string Name, LossyUdpRelayOptions Relay, int Mtu = DtlsOptions.DefaultMtu)
{
    /// <summary>The settings of the full table, in order.</summary>
    public static IReadOnlyList<ImpairSetting> All { get; } =
    [
        new("none", new LossyUdpRelayOptions()),
        new("drop 10%", new LossyUdpRelayOptions { DropProbability = 0.1 }),
        new("drop 20%", new LossyUdpRelayOptions { DropProbability = 0.2 }),
        new("drop 30%", new LossyUdpRelayOptions { DropProbability = 0.3 }),
        new("drop 40%", new LossyUdpRelayOptions { DropProbability = 0.4 }),
        new("drop 50%", new LossyUdpRelayOptions { DropProbability = 0.5 }),
        new("dup 10%", new LossyUdpRelayOptions { DuplicateProbability = 0.1 }),
        new("reorder 20%", new LossyUdpRelayOptions { ReorderProbability = 0.2 }),
        new("delay 50±20 ms", new LossyUdpRelayOptions { Delay = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(20) }),
        new("MTU 256", new LossyUdpRelayOptions { MaxDatagramSize = 256 }, Mtu: 256),
        new("combined", new LossyUdpRelayOptions
        {
            DropProbability = 0.1,
            DuplicateProbability = 0.05,
            ReorderProbability = 0.1,
            Delay = TimeSpan.FromMilliseconds(30),
            Jitter = TimeSpan.FromMilliseconds(10),
            MaxDatagramSize = 256,
        }, Mtu: 256),
    ];

    /// <summary>What the relay does, in words, for the table's legend.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (Relay.DropProbability > 0)
        {
            parts.Add($"drop {Relay.DropProbability * 100:F0}%");
        }
        if (Relay.DuplicateProbability > 0)
        {
            parts.Add($"duplicate {Relay.DuplicateProbability * 100:F0}%");
        }
        if (Relay.ReorderProbability > 0)
        {
            parts.Add($"reorder {Relay.ReorderProbability * 100:F0}% (hold ≤ {Relay.MaxHoldTime.TotalMilliseconds:F0} ms)");
        }
        if (Relay.Delay > TimeSpan.Zero || Relay.Jitter > TimeSpan.Zero)
        {
            parts.Add($"delay {Relay.Delay.TotalMilliseconds:F0} ± {Relay.Jitter.TotalMilliseconds:F0} ms");
        }
        if (Relay.MaxDatagramSize is { } max)
        {
            parts.Add($"datagrams > {max} B dropped, peers' MTU {Mtu}");
        }
        return parts.Count == 0 ? "relay forwards everything" : string.Join(", ", parts) + " (each direction)";
    }
}
