using System.Text.Json;

namespace HotDtls.Load.Tests;

public class StatsTests
{
    [Fact]
    public void Percentiles_come_from_the_merged_histograms_of_all_workers()
    {
        // Two workers: 1..900 µs on one, 901..1000 µs on the other.
        var a = new LatencyStats();
        var b = new LatencyStats();
        for (var us = 1; us <= 1000; us++)
        {
            (us <= 900 ? a : b).RecordNanoseconds(us * 1000L);
        }
        var summary = LatencyStats.Merge([a, b]).Summarize();
        Assert.Equal(1000, summary.Count);
        // HdrHistogram keeps 3 significant digits: each figure is within 0.1 % of the exact one.
        Assert.InRange(summary.P50Us, 500 * 0.999, 500 * 1.001);
        Assert.InRange(summary.P99Us, 990 * 0.999, 990 * 1.001);
        Assert.InRange(summary.P999Us, 999 * 0.999, 999 * 1.001);
        Assert.InRange(summary.MaxUs, 1000 * 0.999, 1000 * 1.001);
        Assert.InRange(summary.MeanUs, 500.5 * 0.999, 500.5 * 1.001);
    }

    [Fact]
    public void Nothing_recorded_summarises_to_zeros_and_outliers_are_clamped()
    {
        Assert.Equal(default, new LatencyStats().Summarize());
        var stats = new LatencyStats();
        stats.RecordNanoseconds(-5);
        stats.RecordNanoseconds(long.MaxValue);
        Assert.Equal(2, stats.Count);
        Assert.True(stats.Summarize().MaxUs >= LatencyStats.HighestNanoseconds / 1000.0 * 0.999);
    }

    [Fact]
    public void Work_is_shared_out_to_within_one()
    {
        for (var parts = 1; parts <= 7; parts++)
        {
            long sum = 0;
            for (var i = 0; i < parts; i++)
            {
                var share = Runner.Share(100, parts, i);
                Assert.InRange(share, 100 / parts, 100 / parts + 1);
                sum += share;
            }
            Assert.Equal(100, sum);
        }
    }

    [Fact]
    public void There_are_never_more_threads_than_sessions()
    {
        Assert.Equal(1, Runner.ThreadCount(LoadOptions.Parse(["echo", "--server", "h:1", "-k", "1", "--threads", "4"])));
        Assert.Equal(3, Runner.ThreadCount(LoadOptions.Parse(["echo", "--server", "h:1", "-k", "16", "--threads", "3"])));
        Assert.Equal(2, Runner.ThreadCount(LoadOptions.Parse(["handshake", "--server", "h:1", "-c", "2", "--threads", "8"])));
        Assert.Equal(2, Runner.ThreadCount(LoadOptions.Parse(["echo", "--server", "h:1", "--cpu", "0-1"])));
    }

    [Fact]
    public void The_json_report_keeps_order_types_and_turns_non_numbers_into_null()
    {
        var report = new Report();
        report.Add("mode", "mode", "echo");
        report.Add("sent", "sent", 12L);
        report.Add("rate", "rate", 1.23456, "", 1);
        report.Add("loss", "loss", double.NaN, "%");
        report.Add("plain", "plain", true);
        using var json = JsonDocument.Parse(report.ToJson());
        var root = json.RootElement;
        Assert.Equal(["mode", "sent", "rate", "loss", "plain"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("echo", root.GetProperty("mode").GetString());
        Assert.Equal(12, root.GetProperty("sent").GetInt64());
        Assert.Equal(1.235, root.GetProperty("rate").GetDouble());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("loss").ValueKind);
        Assert.True(root.GetProperty("plain").GetBoolean());
        Assert.Contains("n/a", report.ToText(), StringComparison.Ordinal);
    }
}
