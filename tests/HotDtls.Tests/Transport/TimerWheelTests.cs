using HotDtls.Transport;

namespace HotDtls.Tests.Transport;

public sealed class TimerWheelTests
{
    /// <summary>The smallest owner: only its links (a server connection holds the same links inline).</summary>
    private sealed class Owner : ITimerOwner<Owner>
    {
        private TimerLinks<Owner> _links;

        public ref TimerLinks<Owner> TimerLinks => ref _links;

        public bool IsScheduled => _links.IsScheduled;
    }

    private static Owner Entry() => new();

    private static List<Owner> Collect(TimerWheel<Owner> wheel, long now)
    {
        var due = new List<Owner>();
        wheel.CollectDue(now, due);
        return due;
    }

    [Fact]
    public void Entries_come_out_when_due_and_not_before()
    {
        var wheel = new TimerWheel<Owner>(nowMs: 1_000);
        var early = Entry();
        var late = Entry();
        wheel.Schedule(early, 1_120);
        wheel.Schedule(late, 2_000);
        Assert.Equal(2, wheel.Count);

        Assert.Empty(Collect(wheel, 1_100));
        Assert.Equal([early], Collect(wheel, 1_120));
        Assert.False(early.IsScheduled);
        Assert.Empty(Collect(wheel, 1_999));
        Assert.Equal([late], Collect(wheel, 2_500));
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void Rescheduling_moves_an_entry_and_cancelling_removes_it()
    {
        var wheel = new TimerWheel<Owner>(0);
        var entry = Entry();
        var other = Entry();
        wheel.Schedule(entry, 500);
        wheel.Schedule(other, 500);
        wheel.Schedule(entry, 5_000);
        wheel.Cancel(other);

        Assert.Empty(Collect(wheel, 4_999));
        Assert.Equal([entry], Collect(wheel, 5_000));
        Assert.False(other.IsScheduled);
    }

    [Fact]
    public void Entries_past_one_round_wait_for_their_round()
    {
        // 4096 slots of 50 ms: an entry 10 minutes out shares its slot with nearer ones and is skipped until due.
        var wheel = new TimerWheel<Owner>(0);
        var far = Entry();
        wheel.Schedule(far, 600_000);

        for (long now = 0; now < 600_000; now += 50)
        {
            Assert.Empty(Collect(wheel, now));
        }
        Assert.Equal([far], Collect(wheel, 600_000));
    }

    [Fact]
    public void An_entry_already_due_or_scheduled_into_the_current_slot_is_found_by_the_next_collection()
    {
        var wheel = new TimerWheel<Owner>(0);
        Collect(wheel, 1_010);
        var overdue = Entry();
        var sameSlot = Entry();
        wheel.Schedule(overdue, 10);
        wheel.Schedule(sameSlot, 1_020);

        Assert.Equal([overdue], Collect(wheel, 1_015));
        Assert.Equal([sameSlot], Collect(wheel, 1_020));
    }

    [Fact]
    public void A_long_pause_collects_everything_due_once()
    {
        var wheel = new TimerWheel<Owner>(0);
        var entries = new List<Owner>();
        for (var i = 0; i < 1000; i++)
        {
            var entry = Entry();
            entries.Add(entry);
            wheel.Schedule(entry, 1 + (i * 997 % 400_000));
        }

        var due = Collect(wheel, 10_000_000);

        Assert.Equal(1000, due.Count);
        Assert.Equal(1000, due.Distinct().Count());
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void Never_due_means_not_scheduled()
    {
        var wheel = new TimerWheel<Owner>(0);
        var entry = Entry();
        wheel.Schedule(entry, 100);

        wheel.Schedule(entry, long.MaxValue);

        Assert.False(entry.IsScheduled);
        Assert.Equal(0, wheel.Count);
    }

    [Fact]
    public void Cancelling_from_the_middle_head_or_tail_of_a_slot_keeps_the_others_linked()
    {
        var wheel = new TimerWheel<Owner>(0);
        var owners = new List<Owner>();
        for (var i = 0; i < 5; i++)
        {
            var owner = Entry();
            owners.Add(owner);
            // One slot: all five share it.
            wheel.Schedule(owner, 100 + i);
        }

        wheel.Cancel(owners[2]);
        wheel.Cancel(owners[4]);
        wheel.Cancel(owners[0]);

        Assert.Equal(2, wheel.Count);
        Assert.Equal(long.MaxValue, owners[0].TimerLinks.DueMs);
        Assert.Equal(103, owners[3].TimerLinks.DueMs);
        Assert.Equal([owners[1], owners[3]], Collect(wheel, 200).OrderBy(owners.IndexOf));
        Assert.Equal(0, wheel.Count);
    }
}
