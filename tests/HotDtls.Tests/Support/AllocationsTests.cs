namespace HotDtls.Tests.Support;

public sealed class AllocationsTests
{
    private static object? s_sink;

    [Fact]
    public void A_batch_that_allocates_in_every_run_is_reported()
    {
        var allocated = Allocations.Least(_ => s_sink = new byte[1000]);

        Assert.True(allocated >= 1000, $"{allocated} bytes");
    }

    [Fact]
    public void An_allocation_in_one_run_only_does_not_count()
    {
        var runs = 0;
        var allocated = Allocations.Least(run =>
        {
            runs++;
            if (run == 0)
            {
                s_sink = new byte[1000];
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(2, runs);
    }
}
