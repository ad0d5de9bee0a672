using System.Diagnostics;

namespace HotDtls.Stress;

/// <summary>
/// Issue 3, flood: (a) a million spoofed cookieless ClientHellos must create no state, keep memory flat and never
/// make the server send more bytes than it received; (b) thousands of cookie-valid, abandoned handshakes must stay
/// under MaxHandshakesInProgress by evicting the oldest, leaving established sessions alone; (c) meanwhile an honest
/// client connects and echoes. The server runs in this process on 127.0.0.1.
/// </summary>
internal static class FloodCommand
{
    private const string Usage = """
        usage: flood [--count N] [--abandoned N] [--cap N] [--senders N] [--short] [--json]
          --count N      spoofed cookieless ClientHellos in phase (a) (default 1000000; --short 100000)
          --abandoned N  cookie-valid handshakes abandoned in phase (b) (default 10000; --short 2000)
          --cap N        the server's MaxHandshakesInProgress for the run (default 1000; --short 200)
          --senders N    flooder threads, each with its own rotating sockets (default 2)
          --json         print the report as one JSON object
        """;

    // Tolerances of the "memory flat" checks of phase (a), against a baseline taken after a warm-up flood.
    private const long ManagedTolerance = 2 * 1024 * 1024;
    private const long RssToleranceFloor = 32 * 1024 * 1024;
    private const double RssToleranceFraction = 0.10;
    private const long NativeTolerance = 8 * 1024 * 1024;
    private const double HonestDeliveryFloor = 0.90;
    private const int ResidentSessions = 20;
    private static readonly TimeSpan s_echoInterval = TimeSpan.FromMilliseconds(20);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = StressArgs.Parse(args, ["--short", "--json", "--help"], ["--count", "--abandoned", "--cap", "--senders"], out var error);
        if (options is null || options.Has("--help"))
        {
            Console.Error.WriteLine(error is null ? Usage : $"flood: {error}\n{Usage}");
            return 2;
        }
        var isShort = options.Has("--short");
        var count = options.Long("--count", isShort ? 100_000 : 1_000_000);
        var abandoned = options.Long("--abandoned", isShort ? 2_000 : 10_000);
        var cap = (int)options.Long("--cap", isShort ? 200 : 1_000);
        var senders = (int)Math.Max(1, options.Long("--senders", 2));
        var json = options.Has("--json");

        var report = new StressReport("flood");
        report.Section("setup");
        report.Add("server", "in-process DtlsServer on 127.0.0.1, echo handler, seed PSK");
        report.Add("MaxHandshakesInProgress", cap);
        report.Add("processors", Environment.ProcessorCount);
        report.Add("GC", System.Runtime.GCSettings.IsServerGC ? "server" : "workstation");

        await using var server = await StressServer.StartAsync(o => o.MaxHandshakesInProgress = cap).ConfigureAwait(false);
        await SpoofedPhaseAsync(server, report, count, senders).ConfigureAwait(false);
        await AbandonedPhaseAsync(server, report, abandoned, cap).ConfigureAwait(false);
        return report.Print(json);
    }

    private static async Task SpoofedPhaseAsync(StressServer server, StressReport report, long count, int senders)
    {
        Progress($"(a) warm-up, then {count:N0} spoofed cookieless ClientHellos from {senders} sender threads");
        // Warm-up: the same flood and one honest client, so that JIT, socket buffers, pools and the GC's budgets
        // are in place before the baseline; growth after that would be state kept for the flood.
        await new FloodSpoofer().RunAsync(server.EndPoint, Math.Max(10_000, count / 10), senders, seed: 1).ConfigureAwait(false);
        var warmup = new StressHonestClient();
        using (var warmupStop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
        {
            await warmup.RunAsync(server.EndPoint, "warm-up", s_echoInterval, warmupStop.Token).ConfigureAwait(false);
        }
        await server.WaitQuietAsync(300, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        var before = server.Statistics;
        var memoryBefore = StressMemory.Measure();

        var spoofer = new FloodSpoofer();
        var clock = Stopwatch.StartNew();
        var flood = spoofer.RunAsync(server.EndPoint, count, senders, seed: 1000);
        var honest = new StressHonestClient();
        var (honestTask, stop) = await StartHonestDuringAsync(server, honest, "honest (a)", () => spoofer.Sent, count, flood).ConfigureAwait(false);
        await flood.ConfigureAwait(false);
        var floodSeconds = clock.Elapsed.TotalSeconds;
        var peakRss = StressMemory.CurrentRss();
        var echoesDuringFlood = (honest.Sent, honest.Received);
        await FinishHonestAsync(honest, honestTask, stop).ConfigureAwait(false);
        await server.WaitQuietAsync(300, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        var after = server.Statistics;
        var memoryAfter = StressMemory.Measure();

        var received = after.DatagramsReceived - before.DatagramsReceived;
        var bytesIn = after.BytesReceived - before.BytesReceived;
        var bytesOut = after.BytesSent - before.BytesSent;
        var started = after.HandshakesStarted - before.HandshakesStarted;
        // The honest client always starts one handshake once its cookie gets through, finished or not.
        var honestStarted = Math.Min(started, 1);
        var honestLeft = honest.Connected ? 0 : (int)honestStarted;
        var hvr = after.HelloVerifyRequestsSent - before.HelloVerifyRequestsSent;

        report.Section("(a) spoofed cookieless ClientHellos");
        report.Add("flooder datagrams sent", spoofer.Sent);
        report.Add("flooder send errors", spoofer.SendErrors);
        report.Add("flooder distinct sources (address, port)", spoofer.Sources);
        report.Add("flood duration (s)", floodSeconds);
        report.Add("flood rate (datagrams/s)", spoofer.Sent / floodSeconds);
        report.Add("server DatagramsReceived", received);
        report.Add("dropped before the server read them", Math.Max(0, spoofer.Sent - received));
        report.Add("server HelloVerifyRequestsSent", hvr);
        report.Add("server BytesReceived", bytesIn);
        report.Add("server BytesSent", bytesOut);
        report.Add("bytes out / bytes in", bytesIn == 0 ? 0.0 : (double)bytesOut / bytesIn);
        report.Add("server HandshakesStarted (incl. honest)", started);
        report.Add("server Sessions / HandshakesInProgress after", $"{after.Sessions} / {after.HandshakesInProgress}");
        report.Add("server RecordsDropped", after.RecordsDropped - before.RecordsDropped);
        AddMemory(report, memoryBefore, memoryAfter, peakRss);
        AddHonest(report, honest, echoesDuringFlood);

        report.Check("(a) no state from spoofed hellos", started - honestStarted == 0 && after.Sessions - honestLeft == 0 && after.HandshakesInProgress - honestLeft == 0,
            $"{started - honestStarted} handshakes started besides the honest client's; {after.Sessions} sessions and {after.HandshakesInProgress} handshakes left ({honestLeft} of them the honest client's unfinished one)");
        report.Check("(a) every received hello answered at most once", hvr > 0 && hvr <= received,
            $"{hvr:N0} HelloVerifyRequests for {received:N0} datagrams");
        report.Check("(a) bytes out <= bytes in", bytesOut <= bytesIn, $"{bytesOut:N0} out, {bytesIn:N0} in");
        var managedGrowth = memoryAfter.ManagedBytes - memoryBefore.ManagedBytes;
        report.Check("(a) managed heap flat", managedGrowth <= ManagedTolerance,
            $"{Signed(managedGrowth)} after a full GC (tolerance {StressMemory.Mib(ManagedTolerance)})");
        var rssTolerance = Math.Max(RssToleranceFloor, (long)(memoryBefore.RssBytes * RssToleranceFraction));
        var rssGrowth = memoryAfter.RssBytes - memoryBefore.RssBytes;
        report.Check("(a) RSS flat", memoryBefore.RssBytes == 0 || rssGrowth <= rssTolerance,
            $"{Signed(rssGrowth)} (tolerance max({StressMemory.Mib(RssToleranceFloor)}, {RssToleranceFraction:P0} of baseline) = {StressMemory.Mib(rssTolerance)})");
        // Most RSS growth is the GC keeping freed segments committed (the flooder's discarded sockets are garbage in
        // this process); what lies outside the GC's committed memory would be native state, and must stay flat.
        var nativeGrowth = rssGrowth - (memoryAfter.GcCommittedBytes - memoryBefore.GcCommittedBytes);
        report.Check("(a) RSS outside the GC heap flat", memoryBefore.RssBytes == 0 || nativeGrowth <= NativeTolerance,
            $"{Signed(nativeGrowth)} (RSS growth minus GC committed growth; tolerance {StressMemory.Mib(NativeTolerance)})");
        // The flood overloads the server's one socket, so the kernel drops the honest client's datagrams at the same
        // rate as the flood's and its handshake waits on retransmission back-off (1, 2, 4, 8 s): a delivery floor
        // would test the machine. The check is that it completes its handshake and is echoed.
        report.Check("(a) honest client served", honest.Connected && honest.Error is null && honest.Received > 0,
            honest.Connected
                ? $"handshake {honest.HandshakeMs:0} ms; {echoesDuringFlood.Received}/{echoesDuringFlood.Sent} echoes under the flood, while the server read {(double)received / Math.Max(1, spoofer.Sent):P0} of the flood's datagrams"
                : $"no handshake: {honest.Error}");
    }

    private static async Task AbandonedPhaseAsync(StressServer server, StressReport report, long count, int cap)
    {
        Progress($"(b) {ResidentSessions} established sessions, then {count:N0} cookie-valid handshakes abandoned (cap {cap})");
        var residents = new List<DtlsClient>();
        for (var i = 0; i < ResidentSessions; i++)
        {
            residents.Add(await DtlsClient.ConnectAsync(server.EndPoint, StressServer.ClientOptions($"resident {i}")).ConfigureAwait(false));
        }
        var before = server.Statistics;
        var memoryBefore = StressMemory.Measure();

        var abandoner = new FloodAbandoner();
        var maxInProgress = 0;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                maxInProgress = Math.Max(maxInProgress, server.Statistics.HandshakesInProgress);
                await Task.Delay(5, CancellationToken.None).ConfigureAwait(false);
            }
        });
        var clock = Stopwatch.StartNew();
        // Blocking request/response workers: more of them than cores, as each spends most time waiting.
        var flood = abandoner.RunAsync(server.EndPoint, count, workers: 8, seed: 2000);
        var honest = new StressHonestClient();
        var (honestTask, stop) = await StartHonestDuringAsync(server, honest, "honest (b)",
            () => abandoner.Abandoned + abandoner.Failed, count, flood).ConfigureAwait(false);
        await flood.ConfigureAwait(false);
        var floodSeconds = clock.Elapsed.TotalSeconds;
        var peakRss = StressMemory.CurrentRss();
        var echoesDuringFlood = (honest.Sent, honest.Received);
        await FinishHonestAsync(honest, honestTask, stop).ConfigureAwait(false);
        await sampling.CancelAsync().ConfigureAwait(false);
        await sampler.ConfigureAwait(false);
        var after = server.Statistics;
        maxInProgress = Math.Max(maxInProgress, after.HandshakesInProgress);
        var memoryAfter = StressMemory.Measure();

        var residentsAlive = 0;
        var echo = new byte[] { 1, 2, 3 };
        var buffer = new byte[64];
        foreach (var resident in residents)
        {
            try
            {
                resident.Send(echo);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                if (resident.IsEstablished && await resident.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false) == echo.Length)
                {
                    residentsAlive++;
                }
            }
            catch (Exception exception) when (exception is DtlsException or OperationCanceledException)
            {
                Progress($"resident {resident.LocalEndPoint}: {exception.Message}");
            }
        }
        foreach (var resident in residents)
        {
            await resident.DisposeAsync().ConfigureAwait(false);
        }

        var started = after.HandshakesStarted - before.HandshakesStarted;
        var evicted = after.HandshakesEvicted - before.HandshakesEvicted;
        var failed = after.HandshakesFailed - before.HandshakesFailed;
        report.Section("(b) cookie-valid handshakes abandoned after flight 4");
        report.Add("abandoned (HVR and flight 4 seen)", abandoner.Abandoned);
        report.Add("gave up (no HVR or no flight 4 after 4 sends)", abandoner.Failed);
        report.Add("duration (s)", floodSeconds);
        report.Add("rate (abandoned handshakes/s)", abandoner.Abandoned / floodSeconds);
        report.Add("server DatagramsReceived", after.DatagramsReceived - before.DatagramsReceived);
        report.Add("server HelloVerifyRequestsSent", after.HelloVerifyRequestsSent - before.HelloVerifyRequestsSent);
        report.Add("server HandshakesStarted (incl. honest)", started);
        report.Add("server HandshakesEvicted", evicted);
        report.Add("server HandshakesFailed (timeouts)", failed);
        report.Add("server HandshakesInProgress: max sampled / end", $"{maxInProgress} / {after.HandshakesInProgress}");
        report.Add("bytes out / bytes in", (double)(after.BytesSent - before.BytesSent) / Math.Max(1, after.BytesReceived - before.BytesReceived));
        report.Add("established sessions before / echoing after", $"{ResidentSessions} / {residentsAlive}");
        report.Add("server Sessions at end (before residents left)", after.Sessions);
        AddMemory(report, memoryBefore, memoryAfter, peakRss);
        if (after.HandshakesInProgress > 0)
        {
            report.Add("managed bytes per half-open handshake (approx.)",
                (memoryAfter.ManagedBytes - memoryBefore.ManagedBytes) / after.HandshakesInProgress);
        }
        AddHonest(report, honest, echoesDuringFlood);

        report.Check("(b) half-open table under its cap", maxInProgress <= cap, $"max {maxInProgress} sampled every 5 ms, cap {cap}");
        report.Check("(b) every abandoned handshake was started", started >= abandoner.Abandoned, $"{started:N0} started, {abandoner.Abandoned:N0} abandoned");
        var mustHaveLeft = abandoner.Abandoned - cap;
        report.Check("(b) the oldest are evicted", evicted + failed >= mustHaveLeft && evicted > 0,
            $"{evicted:N0} evicted + {failed:N0} timed out >= {mustHaveLeft:N0} (abandoned - cap)");
        report.Check("(b) established sessions untouched", residentsAlive == ResidentSessions,
            $"{residentsAlive} of {ResidentSessions} still echo");
        report.Check("(b) the flood got through", abandoner.Abandoned >= count * 9 / 10,
            $"{abandoner.Abandoned:N0} of {count:N0} reached flight 4");
        CheckHonest(report, "(b)", honest);
    }

    /// <summary>Starts the honest client once the flood is 5% under way, so its handshake meets the flood.</summary>
    private static async Task<(Task Task, CancellationTokenSource Stop)> StartHonestDuringAsync(StressServer server,
        StressHonestClient honest, string identity, Func<long> progress, long total, Task flood)
    {
        while (progress() < total / 20 && !flood.IsCompleted)
        {
            await Task.Delay(5).ConfigureAwait(false);
        }
        var stop = new CancellationTokenSource();
        return (honest.RunAsync(server.EndPoint, identity, s_echoInterval, stop.Token), stop);
    }

    /// <summary>
    /// Lets the honest client send at least a few echoes even when a short flood ended before its handshake did
    /// (then its figures describe the flood's tail), and stops it.
    /// </summary>
    private static async Task FinishHonestAsync(StressHonestClient honest, Task task, CancellationTokenSource stop)
    {
        var limit = Stopwatch.StartNew();
        while (!task.IsCompleted && honest.Sent < 10 && limit.Elapsed < TimeSpan.FromSeconds(40))
        {
            await Task.Delay(20).ConfigureAwait(false);
        }
        await stop.CancelAsync().ConfigureAwait(false);
        await task.ConfigureAwait(false);
        stop.Dispose();
    }

    private static void AddMemory(StressReport report, StressMemory before, StressMemory after, long peakRss)
    {
        report.Add("managed heap before / after (full GC)", $"{StressMemory.Mib(before.ManagedBytes)} / {StressMemory.Mib(after.ManagedBytes)}");
        report.Add("GC heap size before / after", $"{StressMemory.Mib(before.GcHeapBytes)} / {StressMemory.Mib(after.GcHeapBytes)}");
        report.Add("GC committed before / after", $"{StressMemory.Mib(before.GcCommittedBytes)} / {StressMemory.Mib(after.GcCommittedBytes)}");
        report.Add("RSS before / at flood end / after", $"{StressMemory.Mib(before.RssBytes)} / {StressMemory.Mib(peakRss)} / {StressMemory.Mib(after.RssBytes)}");
    }

    private static void AddHonest(StressReport report, StressHonestClient honest, (long Sent, long Received) echoesDuringFlood)
    {
        report.Add("honest client handshake (ms)", honest.Connected ? honest.HandshakeMs : double.NaN);
        report.Add("honest echoes sent / received", $"{honest.Sent} / {honest.Received}");
        // A short flood can end before the honest handshake does; then most echoes measure the flood's tail.
        report.Add("honest echoes sent / received while the flood ran", $"{echoesDuringFlood.Sent} / {echoesDuringFlood.Received}");
        report.Add("honest echo delivery", honest.Delivery);
        report.Add("honest echo RTT p50 / p99 / max (ms)",
            $"{honest.RoundTripPercentileMs(50):0.00} / {honest.RoundTripPercentileMs(99):0.00} / {honest.RoundTripPercentileMs(100):0.00}");
        if (honest.Error is not null)
        {
            report.Add("honest client error", honest.Error);
        }
    }

    // Phase (b) does not overload the server, so the honest client must see (almost) every echo.
    private static void CheckHonest(StressReport report, string phase, StressHonestClient honest)
        => report.Check($"{phase} honest client served", honest.Connected && honest.Error is null && honest.Sent > 0 && honest.Delivery >= HonestDeliveryFloor,
            honest.Connected
                ? $"handshake {honest.HandshakeMs:0} ms, {honest.Received}/{honest.Sent} echoes (floor {HonestDeliveryFloor:P0})"
                : $"no handshake: {honest.Error}");

    private static string Signed(long bytes) => (bytes >= 0 ? "+" : "-") + StressMemory.Mib(Math.Abs(bytes));

    private static void Progress(string text) => Console.Error.WriteLine($"[flood {DateTime.Now:HH:mm:ss}] {text}");
}
