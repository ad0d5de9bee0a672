using System.Globalization;

namespace HotDtls.Stress;

/// <summary>
/// The process's memory at one moment. The server runs in this process, so these are the server's figures plus
/// the load generator's (which allocates little and keeps nothing between phases).
/// </summary>
internal readonly record struct StressMemory(long ManagedBytes, long GcHeapBytes, long GcCommittedBytes, long RssBytes, long PeakRssBytes)
{
    /// <summary>After a full, compacting collection: what is still reachable, not what the GC has yet to sweep.</summary>
    public static StressMemory Measure()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        var managed = GC.GetTotalMemory(forceFullCollection: true);
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        var (rss, peak) = ReadRss();
        return new StressMemory(managed, info.HeapSizeBytes, info.TotalCommittedBytes, rss, peak);
    }

    /// <summary>RSS now, without a collection (for sampling peaks while load runs).</summary>
    public static long CurrentRss() => ReadRss().Rss;

    // VmRSS and VmHWM from /proc/self/status (Linux); zero elsewhere, where the RSS check is skipped.
    private static (long Rss, long Peak) ReadRss()
    {
        const string Path = "/proc/self/status";
        if (!File.Exists(Path))
        {
            return (0, 0);
        }
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines(Path))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = Kilobytes(line);
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = Kilobytes(line);
            }
        }
        return (rss, peak);
    }

    private static long Kilobytes(string line)
    {
        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
    }

    public static string Mib(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB";
}
