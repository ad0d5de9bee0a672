using HotDtls.Records;

namespace HotDtls.Tests.Records;

public sealed class ReplayWindowTests
{
    [Fact]
    public void Fresh_window_accepts_zero()
    {
        ReplayWindow window = default;
        Assert.True(window.CanAccept(0));
        window.Accept(0);
        Assert.False(window.CanAccept(0));
        Assert.True(window.CanAccept(1));
    }

    [Fact]
    public void Fresh_window_accepts_a_first_record_far_from_zero()
    {
        ReplayWindow window = default;
        Assert.True(window.CanAccept(RecordHeader.MaxSequenceNumber));
        window.Accept(RecordHeader.MaxSequenceNumber);
        Assert.False(window.CanAccept(RecordHeader.MaxSequenceNumber));
        Assert.True(window.CanAccept(RecordHeader.MaxSequenceNumber - 1));
        Assert.False(window.CanAccept(0));
    }

    [Fact]
    public void Duplicates_are_rejected()
    {
        ReplayWindow window = default;
        for (ulong s = 0; s < 10; s++)
        {
            Assert.True(window.CanAccept(s));
            window.Accept(s);
        }

        for (ulong s = 0; s < 10; s++)
        {
            Assert.False(window.CanAccept(s));
        }
    }

    [Fact]
    public void Jump_by_a_factor_of_1000_is_accepted()
    {
        ReplayWindow window = default;
        window.Accept(5);
        Assert.True(window.CanAccept(5000));
        window.Accept(5000);
        Assert.True(window.CanAccept(5_000_000));
        window.Accept(5_000_000);
        Assert.False(window.CanAccept(5000));
        Assert.False(window.CanAccept(5_000_000));
    }

    [Fact]
    public void Out_of_order_within_the_window_is_accepted_once()
    {
        ReplayWindow window = default;
        window.Accept(100);
        foreach (ulong s in new ulong[] { 99, 50, 70, 37, 98 })
        {
            Assert.True(window.CanAccept(s));
            window.Accept(s);
            Assert.False(window.CanAccept(s));
        }

        Assert.True(window.CanAccept(97));
        Assert.False(window.CanAccept(100));
    }

    [Fact]
    public void Left_edge_is_highest_minus_63()
    {
        ReplayWindow window = default;
        window.Accept(1000);

        Assert.True(window.CanAccept(1000 - (ReplayWindow.Size - 1)));
        Assert.False(window.CanAccept(1000 - ReplayWindow.Size));

        window.Accept(1000 - (ReplayWindow.Size - 1));
        Assert.False(window.CanAccept(1000 - (ReplayWindow.Size - 1)));
    }

    [Fact]
    public void Sliding_keeps_what_was_seen_inside_the_window()
    {
        ReplayWindow window = default;
        window.Accept(10);
        window.Accept(8);
        window.Accept(40);

        Assert.False(window.CanAccept(10));
        Assert.False(window.CanAccept(8));
        Assert.True(window.CanAccept(9));
        Assert.True(window.CanAccept(39));

        window.Accept(72); // 72 - 63 = 9: 8 falls off the left, 9 and 10 are still inside
        Assert.False(window.CanAccept(8));
        Assert.True(window.CanAccept(9));
        Assert.False(window.CanAccept(10));
        Assert.False(window.CanAccept(40));
    }

    [Fact]
    public void CanAccept_does_not_mutate()
    {
        ReplayWindow window = default;
        window.Accept(10);
        ReplayWindow copy = window;

        Assert.True(window.CanAccept(500));
        Assert.True(window.CanAccept(9));
        Assert.True(window.CanAccept(500));
        Assert.True(window.CanAccept(9));
        Assert.Equal(copy, window);
    }

    [Fact]
    public void Huge_jump_then_an_old_sequence_is_rejected()
    {
        ReplayWindow window = default;
        window.Accept(3);
        window.Accept(RecordHeader.MaxSequenceNumber);

        Assert.False(window.CanAccept(4));
        Assert.False(window.CanAccept(3));
        Assert.False(window.CanAccept(RecordHeader.MaxSequenceNumber - ReplayWindow.Size));
        Assert.True(window.CanAccept(RecordHeader.MaxSequenceNumber - (ReplayWindow.Size - 1)));
    }

    [Fact]
    public void Accepting_a_sequence_left_of_the_window_changes_nothing()
    {
        ReplayWindow window = default;
        window.Accept(1000);
        ReplayWindow copy = window;

        window.Accept(1);

        Assert.Equal(copy, window);
    }

    [Fact]
    public void Reset_forgets_everything()
    {
        ReplayWindow window = default;
        window.Accept(0);
        window.Accept(1000);

        window.Reset();

        Assert.True(window.CanAccept(0));
        Assert.True(window.CanAccept(1000));
        Assert.Equal(default, window);
    }
}
