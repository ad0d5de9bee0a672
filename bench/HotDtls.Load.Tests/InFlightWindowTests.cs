namespace HotDtls.Load.Tests;

/// <summary>The window with a hand-held clock: "now" is whatever number the test passes.</summary>
public class InFlightWindowTests
{
    [Fact]
    public void Capacity_is_a_power_of_two_and_bounds_the_ring()
    {
        var window = new InFlightWindow(5);
        Assert.Equal(8, window.Capacity);
        for (var i = 0; i < 8; i++)
        {
            Assert.True(window.TrySend(i, out var sequence));
            Assert.Equal((uint)i, sequence);
        }
        Assert.False(window.HasRoom);
        Assert.False(window.TrySend(9, out _));
        Assert.Equal(8, window.Outstanding);
    }

    [Fact]
    public void A_numbered_reply_answers_its_own_datagram_once()
    {
        var window = new InFlightWindow(4);
        window.TrySend(100, out _);
        window.TrySend(200, out var second);
        Assert.True(window.TryAnswer(second, out var sentAt));
        Assert.Equal(200, sentAt);
        Assert.False(window.TryAnswer(second, out _)); // duplicate
        Assert.False(window.TryAnswer(7, out _)); // never sent
        Assert.Equal(1, window.Outstanding);
        Assert.Equal(100, window.OldestSentAt);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_reply_payload_answers_by_its_number_or_else_the_oldest(bool carriesMagic)
    {
        const uint Magic = 0x48444C31;
        var window = new InFlightWindow(4);
        window.TrySend(10, out _);
        window.TrySend(20, out var second);
        var payload = new byte[12];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(payload, carriesMagic ? Magic : Magic + 1);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), second);

        Assert.True(window.TryAnswerReply(payload, Magic, out var sentAt));

        Assert.Equal(carriesMagic ? 20 : 10, sentAt);
        // Too short to carry a number: the oldest still open is answered.
        Assert.True(window.TryAnswerReply(new byte[3], Magic, out var rest));
        Assert.Equal(carriesMagic ? 10 : 20, rest);
    }

    [Fact]
    public void An_unnumbered_reply_answers_the_oldest_open_datagram()
    {
        var window = new InFlightWindow(4);
        window.TrySend(10, out _);
        window.TrySend(20, out var second);
        window.TrySend(30, out _);
        Assert.True(window.TryAnswer(second, out _));
        Assert.True(window.TryAnswerOldest(out var first));
        Assert.Equal(10, first);
        Assert.True(window.TryAnswerOldest(out var third)); // 20 was answered already: skipped
        Assert.Equal(30, third);
        Assert.False(window.TryAnswerOldest(out _));
        Assert.Equal(long.MaxValue, window.OldestSentAt);
    }

    [Fact]
    public void Timeouts_free_the_oldest_slots_and_count_only_inside_the_window()
    {
        var window = new InFlightWindow(8);
        window.TrySend(10, out _);   // warm-up: expires but is not counted
        window.TrySend(110, out _);
        window.TrySend(120, out var answered);
        window.TrySend(500, out _);
        window.TryAnswer(answered, out _);

        var counted = window.Expire(sentBefore: 200, countFrom: 100, out var expired);
        Assert.Equal(1, counted);
        Assert.Equal(2, expired);
        Assert.Equal(1, window.Outstanding);
        Assert.Equal(500, window.OldestSentAt);

        // A reply after its timeout is refused: it was already counted lost.
        Assert.False(window.TryAnswer(1, out _));
    }

    [Fact]
    public void The_ring_wraps_many_times_without_losing_track()
    {
        var window = new InFlightWindow(4);
        long now = 0;
        for (var round = 0; round < 1000; round++)
        {
            Assert.True(window.TrySend(++now, out var a));
            Assert.True(window.TrySend(++now, out var b));
            Assert.True(window.TryAnswer(b, out _));
            Assert.True(window.TryAnswer(a, out var sentAt));
            Assert.Equal(now - 1, sentAt);
        }
        Assert.Equal(0, window.Outstanding);
        Assert.Equal(2000u, window.NextSequence);
        Assert.True(window.HasRoom);
    }

    [Fact]
    public void A_closed_loop_refills_to_the_window_after_each_reply_or_timeout()
    {
        // What EchoWorker.Fill does: keep W open, with a ring of 2W.
        const int W = 3;
        var window = new InFlightWindow(2 * W);
        long now = 0;
        void Fill()
        {
            while (window.Outstanding < W && window.HasRoom && window.TrySend(now, out _))
            {
            }
        }
        Fill();
        Assert.Equal(3u, window.NextSequence);
        now = 5;
        window.TryAnswerOldest(out _);
        Fill();
        Assert.Equal((3, 4u), (window.Outstanding, window.NextSequence));
        now = 1003; // timeout 1000: the two sent at 0 have timed out, the one sent at 5 has not
        Assert.Equal(2, window.Expire(now - 1000, 0, out _));
        Fill();
        Assert.Equal((3, 6u), (window.Outstanding, window.NextSequence));
    }
}
