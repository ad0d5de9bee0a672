namespace HotDtls.Tests.Support;

/// <summary>
/// What code allocates on the calling thread, measured so that the runtime's own rare allocations do not count.
/// </summary>
/// <remarks>
/// A tier-up or on-stack replacement that happens during a measured loop can attribute a few KiB to the measuring
/// thread (seen once in CI: 4 304 bytes over a loop that allocates nothing; dotnet/runtime#63487,
/// BenchmarkDotNet#1542). Code that allocates does so in every run, so the least of several runs still shows it,
/// while a one-off runtime event shows up in one run only.
/// </remarks>
internal static class Allocations
{
    /// <summary>Runs of the batch measured at most.</summary>
    public const int Attempts = 5;

    /// <summary>
    /// The bytes allocated on this thread by the least-allocating of up to <see cref="Attempts"/> runs of
    /// <paramref name="batch"/> (it stops at the first run that allocates nothing). The batch must be repeatable;
    /// it gets the run's index.
    /// </summary>
    public static long Least(Action<int> batch)
    {
        long least = long.MaxValue;
        for (var attempt = 0; attempt < Attempts && least != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            batch(attempt);
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return least;
    }
}
