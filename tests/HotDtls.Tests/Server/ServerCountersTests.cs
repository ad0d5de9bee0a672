using HotDtls.Handshake;
using HotDtls.Server;

namespace HotDtls.Tests.Server;

public sealed class ServerCountersTests
{
    [Fact]
    public void The_drop_counts_have_one_slot_per_reason()
    {
        var reasons = Enum.GetValues<DropReason>();
        Assert.Equal(DropCounts.Length, reasons.Length);
        Assert.All(reasons, reason => Assert.InRange((int)reason, 0, DropCounts.Length - 1));
    }

    [Fact]
    public void A_drop_counts_in_the_total_and_under_its_reason()
    {
        var counters = default(ServerCounters);
        counters.CountDrop(DropReason.Replayed);
        counters.CountDrop(DropReason.Replayed);
        counters.CountDrop(DropReason.NoSession);

        Assert.Equal(3, counters.RecordsDropped);
        Assert.Equal(2, counters.DroppedByReason[(int)DropReason.Replayed]);
        Assert.Equal(1, counters.DroppedByReason[(int)DropReason.NoSession]);
        Assert.Equal(0, counters.DroppedByReason[(int)DropReason.BadCookie]);
    }
}
