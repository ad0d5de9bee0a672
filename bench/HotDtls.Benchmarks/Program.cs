using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace HotDtls.Benchmarks;

/// <summary>
/// Runs the micro-benchmarks through BenchmarkDotNet's command line (<c>--filter</c>, <c>--job</c>, <c>--artifacts</c>…).
/// <c>--short</c> runs every benchmark once, in process, to check that all of them still run (CI); without a
/// <c>--filter</c> every benchmark runs rather than BenchmarkDotNet asking which on the console.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        var arguments = new List<string>(args);
        if (arguments.Remove("--short"))
        {
            // Dry: one launch, one iteration of one invocation, no pilot or warm-up. In process: no project to
            // generate and build per benchmark, so the whole set takes seconds, not minutes.
            arguments.AddRange(["--job", "Dry", "--inProcess"]);
        }
        if (!arguments.Exists(a => a is "--filter" or "-f" or "--list" or "--help" or "-h" or "--info" or "--version"))
        {
            arguments.AddRange(["--filter", "*"]);
        }

        // Suite names are long enum values: keep them whole in the tables rather than "TLS_P(...)HA256". Median and
        // Min beside the mean: this machine is shared, and other work only ever adds time, so they hold up better.
        var config = DefaultConfig.Instance
            .WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40))
            .AddColumn(StatisticColumn.Median, StatisticColumn.Min);
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. arguments], config).ToList();
        return Failed(summaries) ? 1 : 0;
    }

    /// <summary>Whether any benchmark failed to build, validate or run: CI must notice a benchmark that broke.</summary>
    private static bool Failed(List<Summary> summaries)
    {
        var failed = false;
        foreach (var summary in summaries)
        {
            if (summary.HasCriticalValidationErrors)
            {
                Console.Error.WriteLine($"{summary.Title}: critical validation errors");
                failed = true;
            }
            foreach (var report in summary.Reports)
            {
                if (!report.Success)
                {
                    Console.Error.WriteLine($"{report.BenchmarkCase.DisplayInfo}: failed");
                    failed = true;
                }
            }
            if (summary.Reports.Length != summary.BenchmarksCases.Length)
            {
                Console.Error.WriteLine($"{summary.Title}: {summary.BenchmarksCases.Length - summary.Reports.Length} benchmarks have no report");
                failed = true;
            }
        }
        return failed;
    }
}
