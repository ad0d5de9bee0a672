using System.Diagnostics;

namespace HotDtls.Stress;

/// <summary>
/// Issue 3, soak: minutes of client churn (handshakes, close_notify, clients that vanish and are expired, clients
/// that reboot and come back from the same address and port) against one in-process server on 127.0.0.1 with a
/// short IdleTimeout. At the end, once idle expiry has run, no session or handshake may be left and the managed heap
/// must be back at its baseline.
/// </summary>
internal static class SoakCommand
{
    private const string Usage = """
        usage: soak [--duration SECONDS] [--workers N] [--idle-timeout SECONDS] [--short] [--json]
          --duration S      how long the churn runs (default 600; --short 40)
          --workers N       concurrent client slots (default 8)
          --idle-timeout S  the server's IdleTimeout (default 3)
          --json            print the report as one JSON object
        """;

    // Managed heap after the run, after a full GC, may exceed the post-warm-up baseline by this much.
    private const long ManagedTolerance = 4 * 1024 * 1024;
    private const double EchoDeliveryFloor = 0.999;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = StressArgs.Parse(args, ["--short", "--json", "--help"], ["--duration", "--workers", "--idle-timeout"], out var error);
        if (options is null || options.Has("--help"))
        {
            Console.Error.WriteLine(error is null ? Usage : $"soak: {error}\n{Usage}");
            return 2;
        }
        var duration = TimeSpan.FromSeconds(options.Long("--duration", options.Has("--short") ? 40 : 600));
        var workers = (int)Math.Clamp(options.Long("--workers", 8), 1, 1000);
        var idleTimeout = TimeSpan.FromSeconds(Math.Max(1, options.Long("--idle-timeout", 3)));

        var report = new StressReport("soak");
        report.Section("setup");
        report.Add("server", "in-process DtlsServer on 127.0.0.1, echo handler, seed PSK");
        report.Add("duration (s)", duration.TotalSeconds);
        report.Add("workers", workers);
        report.Add("server IdleTimeout (s)", idleTimeout.TotalSeconds);
        report.Add("mix", "50% connect+echo+close_notify, 25% connect+echo+vanish (idle expiry), 25% reboot from the same address and port");

        await using var server = await StressServer.StartAsync(o => o.IdleTimeout = idleTimeout).ConfigureAwait(false);
        var handler = server.Handler;

        // Warm-up: each life once, then idle expiry, so the baseline has JIT, pools and timers in place.
        var warmup = new SoakTally();
        var warmupWorker = new SoakWorker(server.EndPoint, warmup, workers, seed: 1);
        for (var life = 0; life < 4; life++)
        {
            await warmupWorker.RunOnceAsync(life).ConfigureAwait(false);
        }
        var drainLimit = idleTimeout + TimeSpan.FromSeconds(35); // idle expiry, or a handshake's 30 s timeout
        await WaitDrainedAsync(server, drainLimit).ConfigureAwait(false);
        var before = server.Statistics;
        var closedBefore = Closes(handler);
        var memoryBefore = StressMemory.Measure();
        Progress($"baseline: managed {StressMemory.Mib(memoryBefore.ManagedBytes)}, RSS {StressMemory.Mib(memoryBefore.RssBytes)}; churning for {duration.TotalSeconds:0} s");

        var tally = new SoakTally();
        var clock = Stopwatch.StartNew();
        var deadline = DateTime.UtcNow + duration;
        var tasks = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            tasks[i] = new SoakWorker(server.EndPoint, tally, i, seed: 100 + i).RunAsync(deadline);
        }
        var all = Task.WhenAll(tasks);
        long peakRss = 0;
        var peakSessions = 0;
        var lastProgress = TimeSpan.Zero;
        while (!all.IsCompleted)
        {
            await Task.WhenAny(all, Task.Delay(500)).ConfigureAwait(false);
            peakRss = Math.Max(peakRss, StressMemory.CurrentRss());
            var statistics = server.Statistics;
            peakSessions = Math.Max(peakSessions, statistics.Sessions);
            if (clock.Elapsed - lastProgress >= TimeSpan.FromSeconds(15))
            {
                lastProgress = clock.Elapsed;
                Progress($"{clock.Elapsed.TotalSeconds:0} s: {tally.Handshakes:N0} handshakes, {tally.EchoesReceived:N0} echoes, "
                    + $"{tally.Reboots:N0} reboots, {statistics.Sessions} sessions, RSS {StressMemory.Mib(StressMemory.CurrentRss())}");
            }
        }
        await all.ConfigureAwait(false);
        var churnSeconds = clock.Elapsed.TotalSeconds;
        var atStop = server.Statistics;
        var drainClock = Stopwatch.StartNew();
        var drained = await WaitDrainedAsync(server, drainLimit).ConfigureAwait(false);
        var drainSeconds = drainClock.Elapsed.TotalSeconds;
        var after = server.Statistics;
        var memoryAfter = StressMemory.Measure();
        var closed = Closes(handler);
        long Delta(DtlsCloseReason reason) => closed[(int)reason] - closedBefore[(int)reason];

        var completed = after.HandshakesCompleted - before.HandshakesCompleted;
        var failed = after.HandshakesFailed - before.HandshakesFailed;
        report.Section("clients");
        report.Add("handshakes completed (client side)", tally.Handshakes);
        report.Add("handshake failures (client side)", tally.HandshakeFailures);
        report.Add("echoes sent / received", $"{tally.EchoesSent} / {tally.EchoesReceived}");
        report.Add("close_notify sent (disposed clients)", tally.CloseNotifies);
        report.Add("vanished (left to idle expiry)", tally.Abandons);
        report.Add("reboots (same address and port, new handshake)", tally.Reboots);
        report.Add("reboot port taken by another socket", tally.RebootBindConflicts);
        report.Add("handshakes / s", tally.Handshakes / churnSeconds);
        report.Add("echoes / s", tally.EchoesReceived / churnSeconds);
        if (tally.FirstError is { } first)
        {
            report.Add("first client error", first);
        }
        report.Section("server");
        report.Add("HandshakesStarted / Completed / Failed", $"{after.HandshakesStarted - before.HandshakesStarted} / {completed} / {failed}");
        report.Add("HandshakesEvicted", after.HandshakesEvicted - before.HandshakesEvicted);
        report.Add("closed: close_notify (PeerClosed)", Delta(DtlsCloseReason.PeerClosed));
        report.Add("closed: IdleTimeout", Delta(DtlsCloseReason.IdleTimeout));
        report.Add("closed: Replaced (reboot)", Delta(DtlsCloseReason.Replaced));
        report.Add("closed: other reasons", OtherCloses(closed, closedBefore));
        report.Add("RecordsDropped", after.RecordsDropped - before.RecordsDropped);
        report.Add("Sessions: peak / at stop / after drain", $"{peakSessions} / {atStop.Sessions} / {after.Sessions}");
        report.Add("HandshakesInProgress after drain", after.HandshakesInProgress);
        report.Add("drain time (s)", drainSeconds);
        report.Section("memory");
        report.Add("managed heap before / after (full GC)", $"{StressMemory.Mib(memoryBefore.ManagedBytes)} / {StressMemory.Mib(memoryAfter.ManagedBytes)}");
        report.Add("GC committed before / after", $"{StressMemory.Mib(memoryBefore.GcCommittedBytes)} / {StressMemory.Mib(memoryAfter.GcCommittedBytes)}");
        report.Add("RSS before / peak / after", $"{StressMemory.Mib(memoryBefore.RssBytes)} / {StressMemory.Mib(Math.Max(peakRss, memoryAfter.RssBytes))} / {StressMemory.Mib(memoryAfter.RssBytes)}");

        report.Check("no leaked sessions", drained && after.Sessions == 0 && after.HandshakesInProgress == 0,
            $"{after.Sessions} sessions, {after.HandshakesInProgress} handshakes {drainSeconds:0.0} s after the churn stopped");
        var growth = memoryAfter.ManagedBytes - memoryBefore.ManagedBytes;
        report.Check("managed heap back to baseline", growth <= ManagedTolerance,
            $"{(growth >= 0 ? "+" : "-")}{StressMemory.Mib(Math.Abs(growth))} after a full GC (tolerance {StressMemory.Mib(ManagedTolerance)})");
        report.Check("every handshake completed", tally.HandshakeFailures == 0 && failed == 0 && completed == tally.Handshakes,
            $"{tally.HandshakeFailures} client failures, {failed} server failures, {completed:N0} server completions for {tally.Handshakes:N0} client ones");
        var delivery = tally.EchoesSent == 0 ? 0 : (double)tally.EchoesReceived / tally.EchoesSent;
        report.Check("echoes delivered", delivery >= EchoDeliveryFloor, $"{delivery:P3} (floor {EchoDeliveryFloor:P1})");
        report.Check("close_notify ends sessions", Delta(DtlsCloseReason.PeerClosed) == tally.CloseNotifies,
            $"{Delta(DtlsCloseReason.PeerClosed):N0} PeerClosed for {tally.CloseNotifies:N0} disposed clients");
        report.Check("vanished clients expire", Delta(DtlsCloseReason.IdleTimeout) == tally.Abandons,
            $"{Delta(DtlsCloseReason.IdleTimeout):N0} IdleTimeout for {tally.Abandons:N0} vanished clients");
        report.Check("reboots replace the old session", Delta(DtlsCloseReason.Replaced) == tally.Reboots && tally.Reboots > 0,
            $"{Delta(DtlsCloseReason.Replaced):N0} Replaced for {tally.Reboots:N0} reboots");
        return report.Print(options.Has("--json"));
    }

    /// <summary>Polls until the server holds nothing (idle expiry runs once a second), or the limit passes.</summary>
    private static async Task<bool> WaitDrainedAsync(StressServer server, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            var statistics = server.Statistics;
            if (statistics.Sessions == 0 && statistics.HandshakesInProgress == 0)
            {
                return true;
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
        return false;
    }

    private static long[] Closes(StressServer.EchoHandler handler)
    {
        var reasons = Enum.GetValues<DtlsCloseReason>();
        var counts = new long[reasons.Length];
        foreach (var reason in reasons)
        {
            counts[(int)reason] = handler.Closed(reason);
        }
        return counts;
    }

    private static long OtherCloses(long[] now, long[] before)
    {
        long other = 0;
        foreach (var reason in Enum.GetValues<DtlsCloseReason>())
        {
            if (reason is not (DtlsCloseReason.PeerClosed or DtlsCloseReason.IdleTimeout or DtlsCloseReason.Replaced))
            {
                other += now[(int)reason] - before[(int)reason];
            }
        }
        return other;
    }

    private static void Progress(string text) => Console.Error.WriteLine($"[soak {DateTime.Now:HH:mm:ss}] {text}");
}
