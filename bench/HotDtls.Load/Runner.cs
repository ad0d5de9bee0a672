using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HotDtls.Load;

/// <summary>Runs one mode: sets up the workers, shows progress, waits, and builds the report.</summary>
internal static class Runner
{
    private delegate long CounterOf(WorkerCounters counters);

    public static int Run(LoadOptions options, TextWriter output)
    {
        using var selfTest = options.SelfTest ? new PlainEchoServer() : null;
        var server = selfTest?.EndPoint ?? Resolve(options);
        CheckHoldSockets(options, server);
        var dtls = options.Plain ? null : ClientOptions(options);
        var threads = ThreadCount(options);
        using var run = new RunContext(options, server, dtls, threads);
        var workers = CreateWorkers(run, threads);
        var progress = Progress.For(options);
        using var interrupt = new InterruptHandler(run);
        var report = new Report();
        report.Add("mode", "mode", options.Mode.ToString().ToLowerInvariant());
        if (options.Mode == LoadMode.Ceiling)
        {
            report.Add("note", "note", "GENERATOR CEILING: what this load generator can drive; not a figure of any server");
        }
        report.Add("server", "server", options.SelfTest ? $"in-process plain UDP echo {server}" : $"{options.ServerText} ({server})");
        report.Add("protocol", "protocol", options.Plain ? "plain UDP" : "DTLS 1.2 PSK");
        report.Add("threads", "generator threads", threads);
        try
        {
            switch (options.Mode)
            {
                case LoadMode.Handshake:
                    RunHandshakes(run, workers, progress, report);
                    break;
                case LoadMode.Hold:
                    RunHold(run, workers, progress, report);
                    break;
                case LoadMode.Rebind:
                    RunRebind(run, workers, progress, report);
                    break;
                case LoadMode.Failover:
                    RunFailover(run, workers, progress, report);
                    break;
                default:
                    RunEcho(run, workers, progress, report);
                    break;
            }
        }
        finally
        {
            run.Stop();
            foreach (var worker in workers)
            {
                worker.Join();
                worker.Dispose();
            }
            progress.Done();
        }
        if (run.Error is { } error)
        {
            report.Add("error", "error", error);
        }
        if (options.Json)
        {
            output.WriteLine(report.ToJson());
            Console.Error.Write(report.ToText());
        }
        else
        {
            output.Write(report.ToText());
        }
        if (run.Error is not null)
        {
            Console.Error.WriteLine($"HotDtls.Load: {run.Error}");
            return 1;
        }
        return 0;
    }

    private static IPEndPoint Resolve(LoadOptions options)
    {
        if (IPAddress.TryParse(options.Host, out var address))
        {
            return new IPEndPoint(address, options.Port);
        }
        try
        {
            var addresses = Dns.GetHostAddresses(options.Host!);
            var chosen = Array.Find(addresses, a => a.AddressFamily == AddressFamily.InterNetwork) ?? addresses.FirstOrDefault();
            return chosen is null
                ? throw new UsageException($"'{options.Host}' has no address.")
                : new IPEndPoint(chosen, options.Port);
        }
        catch (SocketException exception)
        {
            throw new UsageException($"cannot resolve '{options.Host}': {exception.Message}");
        }
    }

    /// <summary>Descriptors the process keeps for itself (runtime, epoll sets, standard streams) besides session sockets.</summary>
    internal const int ReservedDescriptors = 200;

    /// <summary>
    /// Hold with a socket per session needs that many descriptors: refused up front, not halfway. Released sockets
    /// send from 127.3.x.y, which only a loopback server can answer.
    /// </summary>
    internal static void CheckHoldSockets(LoadOptions options, IPEndPoint server)
    {
        if (options.Mode != LoadMode.Hold)
        {
            return;
        }
        if (options.ReleaseSockets)
        {
            if (server.AddressFamily != AddressFamily.InterNetwork || !IPAddress.IsLoopback(server.Address))
            {
                throw new UsageException($"--release-sockets sends from 127.3.x.y: it needs a server on 127.0.0.0/8, not {server}.");
            }
            return;
        }
        var limit = Native.OpenFileLimit();
        if (limit is { } l && options.Sessions > l - ReservedDescriptors)
        {
            throw new UsageException($"hold -k {options.Sessions} keeps a socket per session and may open {l} descriptors "
                + "(ulimit -n): raise the limit, or add --release-sockets to close each socket once its session is established.");
        }
    }

    /// <summary>A copy of <paramref name="options"/> (a worker's, to set a session to resume on it).</summary>
    internal static DtlsClientOptions CopyOf(DtlsClientOptions options)
    {
        var copy = new DtlsClientOptions
        {
            PskIdentity = options.PskIdentity,
            PskKey = options.PskKey,
            InitialRetransmitTimeout = options.InitialRetransmitTimeout,
            MaxRetransmitTimeout = options.MaxRetransmitTimeout,
            HandshakeTimeout = options.HandshakeTimeout,
            Mtu = options.Mtu,
            RequireExtendedMasterSecret = options.RequireExtendedMasterSecret,
            MaxHandshakeMessageLength = options.MaxHandshakeMessageLength,
            MaxReassemblyBytes = options.MaxReassemblyBytes,
            TimeProvider = options.TimeProvider,
            ConnectionIdLength = options.ConnectionIdLength,
            UseSessionTickets = options.UseSessionTickets,
        };
        copy.CipherSuites.Clear();
        foreach (var suite in options.CipherSuites)
        {
            copy.CipherSuites.Add(suite);
        }
        copy.NamedGroups.Clear();
        foreach (var group in options.NamedGroups)
        {
            copy.NamedGroups.Add(group);
        }
        return copy;
    }

    internal static DtlsClientOptions ClientOptions(LoadOptions options)
    {
        var dtls = new DtlsClientOptions
        {
            PskIdentity = options.Identity,
            PskKey = options.Key,
            InitialRetransmitTimeout = TimeSpan.FromMilliseconds(options.RetransmitMs),
            MaxRetransmitTimeout = TimeSpan.FromMilliseconds(Math.Max(options.RetransmitMs, 60_000)),
            HandshakeTimeout = TimeSpan.FromMilliseconds(options.HandshakeTimeoutMs),
        };
        dtls.CipherSuites.Clear();
        foreach (var suite in options.Suites)
        {
            dtls.CipherSuites.Add(suite);
        }
        if (options.Groups.Count > 0)
        {
            dtls.NamedGroups.Clear();
            foreach (var group in options.Groups)
            {
                dtls.NamedGroups.Add(group);
            }
        }
        if (options.ConnectionId)
        {
            dtls.ConnectionIdLength = 0;
        }
        // Tickets only where they are measured (--resume ticket): by session ID the server keeps the session in its
        // cache, and every other mode measures sessions as before resumption existed (a ticket the server keeps to
        // resend its last flight until the session has been quiet for a housekeeping period is not idle memory).
        // Failover measures what a ticket saves a client whose server died.
        dtls.UseSessionTickets = options.Resume == "ticket" || options.Mode == LoadMode.Failover;
        dtls.ValidateClient();
        return dtls;
    }

    /// <summary>--threads, else the CPUs this process may use; never more threads than sessions (or concurrent handshakes).</summary>
    internal static int ThreadCount(LoadOptions options)
    {
        var cpus = options.Cpus.Count > 0 ? options.Cpus.Count : Environment.ProcessorCount;
        var threads = options.Threads > 0 ? options.Threads : cpus;
        var units = options.Mode == LoadMode.Handshake ? options.Concurrency : options.Sessions;
        return Math.Max(1, Math.Min(threads, units));
    }

    /// <summary>Worker <paramref name="index"/>'s share of <paramref name="total"/> split over <paramref name="parts"/>: sizes differ by one at most.</summary>
    internal static long Share(long total, int parts, int index) => total / parts + (index < total % parts ? 1 : 0);

    private static Worker[] CreateWorkers(RunContext run, int threads)
    {
        var o = run.Options;
        var workers = new Worker[threads];
        for (var i = 0; i < threads; i++)
        {
            var sessions = (int)Share(o.Sessions, threads, i);
            var concurrency = (int)Share(o.Concurrency, threads, i);
            workers[i] = o.Mode switch
            {
                LoadMode.Handshake => new HandshakeWorker(run, i, concurrency, Share(o.Handshakes, threads, i)),
                LoadMode.Hold => new HoldWorker(run, i, sessions, concurrency, o.IntervalSeconds, o.Size, o.ReleaseSockets),
                LoadMode.Rebind => new RebindWorker(run, i, sessions, concurrency, o.Rebinds, o.IntervalMs, o.Size),
                LoadMode.Failover => new FailoverWorker(run, i, sessions, concurrency, o.IntervalMs, o.Size),
                _ => new EchoWorker(run, i, sessions, concurrency, o.Window, o.Size, o.Rate / threads, batched: !o.NoBatch),
            };
        }
        return workers;
    }

    private static long Sum(Worker[] workers, CounterOf counter)
    {
        long total = 0;
        foreach (var worker in workers)
        {
            total += counter(worker.Counters);
        }
        return total;
    }

    private static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static void RunHandshakes(RunContext run, Worker[] workers, Progress progress, Report report)
    {
        var o = run.Options;
        var start = Clock.Now;
        var from = start + Clock.FromSeconds(o.WarmupSeconds);
        run.Start(from, o.DurationSeconds is { } d ? from + Clock.FromSeconds(d) : long.MaxValue);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var server = new ServerCpu(o.Pid);
        foreach (var worker in workers)
        {
            worker.Start();
        }
        long last = 0;
        while (!run.ExitedHandle.WaitOne(server.WaitMilliseconds(from)))
        {
            if (server.MarkIfDue(from))
            {
                continue;
            }
            var done = Sum(workers, c => WorkerCounters.Read(ref c.TotalEstablished));
            progress.Show($"[{Clock.ToSeconds(Clock.Now - start),5:0}s] handshakes {N(done)} ({N(done - last)}/s)  in flight {Sum(workers, c => WorkerCounters.Read(ref c.InFlight))}  failed {Sum(workers, c => WorkerCounters.Read(ref c.Failed))}  retransmissions {Sum(workers, c => WorkerCounters.Read(ref c.Retransmissions))}");
            last = done;
        }
        var processCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds;
        server.MarkIfDue(from);
        var serverCpu = server.Elapsed();
        var end = workers.Max(w => w.LastCountedAt);
        var seconds = end > from ? Clock.ToSeconds(end - from) : 0;
        var established = Sum(workers, c => c.Established);
        var failed = Sum(workers, c => c.Failed);
        AddSuite(report, run, workers);
        report.Add("concurrency", "concurrent handshakes", o.Concurrency);
        report.Add("handshakes", "handshakes established", established);
        report.Add("failures", "handshakes failed", failed);
        report.Add("timeouts", "of which timed out", Sum(workers, c => c.TimedOut));
        report.Add("retransmissions", "flights retransmitted", Sum(workers, c => c.Retransmissions));
        if (o.Resume is not null)
        {
            report.Add("resume", "resumption by", o.Resume);
            report.Add("handshakes_resumed", "of which resumed (abbreviated)", Sum(workers, c => c.Resumed));
        }
        report.Add("seconds", "measured for", seconds, "s", 2);
        report.Add("handshakes_per_second", "handshakes/s", seconds > 0 ? established / seconds : double.NaN, "", 0);
        report.AddLatency("latency", "handshake latency", LatencyStats.Merge(workers.Select(w => w.Latency)).Summarize());
        AddCpu(report, workers, established, processCpu, "handshake");
        AddServerCpu(report, serverCpu, established, "handshake");
    }

    private static void RunEcho(RunContext run, Worker[] workers, Progress progress, Report report)
    {
        var o = run.Options;
        var start = Clock.Now;
        foreach (var worker in workers)
        {
            worker.Start();
        }
        WaitHandle[] readyOrExit = [run.ReadyHandle, run.ExitedHandle];
        while (WaitHandle.WaitAny(readyOrExit, 1000) == WaitHandle.WaitTimeout && !run.Stopping)
        {
            progress.Show($"[{Clock.ToSeconds(Clock.Now - start),5:0}s] establishing {Sum(workers, c => WorkerCounters.Read(ref c.TotalEstablished))}/{o.Sessions}");
        }
        if (run.Stopping)
        {
            return;
        }
        var setup = Clock.ToSeconds(Clock.Now - start);
        var now = Clock.Now;
        var from = now + Clock.FromSeconds(o.WarmupSeconds);
        var to = from + Clock.FromSeconds(o.DurationSeconds!.Value);
        var cpuBefore = TimeSpan.Zero;
        var cpuMarked = false;
        var server = new ServerCpu(o.Pid);
        run.Start(from, to);
        long last = 0;
        while (!run.ExitedHandle.WaitOne(server.WaitMilliseconds(from)))
        {
            server.MarkIfDue(from);
            if (!cpuMarked && Clock.Now >= from)
            {
                cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                cpuMarked = true;
            }
            var replies = Sum(workers, c => WorkerCounters.Read(ref c.TotalReplies));
            var phase = Clock.Now < from ? "warm-up" : Clock.Now < to ? "measuring" : "draining";
            progress.Show($"[{Clock.ToSeconds(Clock.Now - start),5:0}s] {phase}  {N(replies - last)} replies/s  sent {N(Sum(workers, c => WorkerCounters.Read(ref c.TotalSent)))}  lost {N(Sum(workers, c => WorkerCounters.Read(ref c.Lost)))}");
            last = replies;
        }
        var processCpu = cpuMarked ? (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMicroseconds : double.NaN;
        var serverCpu = server.Elapsed();
        var seconds = o.DurationSeconds.Value;
        var sent = Sum(workers, c => c.Sent);
        var received = Sum(workers, c => c.Received);
        var lost = Sum(workers, c => c.Lost);
        AddSuite(report, run, workers);
        report.Add("sessions", "sessions", o.Sessions);
        report.Add("setup_seconds", "sessions established in", setup, "s", 2);
        if (o.Rate > 0)
        {
            report.Add("rate_target", "target rate (open loop)", o.Rate, "datagrams/s", 0);
            report.Add("skipped", "sends skipped (all windows full)", Sum(workers, c => c.Skipped));
        }
        else
        {
            report.Add("window", "datagrams in flight per session", o.Window);
        }
        report.Add("size", "payload size", o.Size, "bytes");
        report.Add("seconds", "measured for", seconds, "s", 2);
        report.Add("sent", "datagrams sent", sent);
        report.Add("received", "replies received", received);
        report.Add("lost", "lost (no reply within timeout)", lost);
        report.Add("loss", "loss", sent > 0 ? 100.0 * lost / sent : double.NaN, "%", 3);
        report.Add("unmatched", "late or unmatched replies", Sum(workers, c => c.Unmatched));
        report.Add("send_errors", "send errors", Sum(workers, c => c.SendErrors));
        report.Add("datagrams_per_second", "datagrams/s (round trips)", received / seconds, "", 0);
        report.Add("gbps_payload", "payload Gbit/s (sent and answered)", received * (double)o.Size * 8 / seconds / 1e9, "Gbit/s", 3);
        report.Add("reply_bytes_mean", "mean reply payload", received > 0 ? (double)Sum(workers, c => c.ReceivedBytes) / received : double.NaN, "bytes", 0);
        report.AddLatency("rtt", "round trip", LatencyStats.Merge(workers.Select(w => w.Latency)).Summarize());
        AddCpu(report, workers, received, processCpu, "round trip");
        AddServerCpu(report, serverCpu, received, "round trip");
    }

    private static void RunHold(RunContext run, Worker[] workers, Progress progress, Report report)
    {
        var o = run.Options;
        var start = Clock.Now;
        var serverBefore = o.Pid is { } pid ? Native.ReadRssBytes(pid) : null;
        if (o.Pid is not null && serverBefore is null)
        {
            throw new UsageException($"cannot read /proc/{o.Pid}/status: is --pid {o.Pid} a running process of this machine?");
        }
        var selfBefore = Native.ReadRssBytes(Environment.ProcessId);
        run.Start(start, long.MaxValue);
        foreach (var worker in workers)
        {
            worker.Start();
        }
        WaitHandle[] readyOrExit = [run.ReadyHandle, run.ExitedHandle];
        string Line() => $"[{Clock.ToSeconds(Clock.Now - start),5:0}s] established {N(Sum(workers, c => WorkerCounters.Read(ref c.TotalEstablished)))}/{N(o.Sessions)}  handshaking {Sum(workers, c => WorkerCounters.Read(ref c.InFlight))}  failed {Sum(workers, c => WorkerCounters.Read(ref c.Failed))}";
        while (WaitHandle.WaitAny(readyOrExit, 1000) == WaitHandle.WaitTimeout && !run.Stopping)
        {
            progress.Show(Line());
        }
        var setup = Clock.ToSeconds(Clock.Now - start);
        var settleUntil = Clock.Now + Clock.FromSeconds(o.SettleSeconds);
        while (!run.Stopping && Clock.Now < settleUntil)
        {
            run.ExitedHandle.WaitOne((int)Math.Clamp(Clock.ToMilliseconds(settleUntil - Clock.Now), 1, 1000));
            progress.Show(Line() + "  settling");
        }
        var serverAfter = o.Pid is { } pid2 ? Native.ReadRssBytes(pid2) : null;
        var selfAfter = Native.ReadRssBytes(Environment.ProcessId);
        var established = Sum(workers, c => WorkerCounters.Read(ref c.TotalEstablished)) - Sum(workers, c => WorkerCounters.Read(ref c.SessionsLost));
        AddSuite(report, run, workers);
        report.Add("sessions_requested", "sessions requested", o.Sessions);
        report.Add("sessions_held", "sessions held", established);
        if (o.ConnectionId)
        {
            report.Add("sessions_with_cid", "sessions whose records carry a CID the server issued",
                Sum(workers, c => WorkerCounters.Read(ref c.WithConnectionId)));
        }
        report.Add("failures", "handshakes failed", Sum(workers, c => c.Failed));
        report.Add("sessions_lost", "sessions closed by the server", Sum(workers, c => c.SessionsLost));
        report.Add("setup_seconds", "all established in", setup, "s", 2);
        report.Add("sockets_released", "sockets closed once established (no keep-alives)", o.ReleaseSockets);
        report.Add("keepalive_interval_s", "keep-alive every", o.IntervalSeconds, "s", 1);
        report.Add("keepalives_sent", "keep-alives sent", Sum(workers, c => c.TotalSent));
        report.Add("keepalives_answered", "keep-alives answered", Sum(workers, c => c.Received));
        if (o.Pid is { } serverPid)
        {
            report.Add("server_pid", "server pid", serverPid);
            report.Add("server_rss_before_kib", "server RSS before", (serverBefore ?? 0) / 1024, "KiB");
            report.Add("server_rss_after_kib", "server RSS after", (serverAfter ?? 0) / 1024, "KiB");
            report.Add("server_rss_per_session_bytes", "server RSS per session",
                established > 0 && serverAfter is not null ? (double)(serverAfter.Value - serverBefore!.Value) / established : double.NaN, "bytes", 0);
        }
        report.Add("generator_rss_before_kib", "generator RSS before", (selfBefore ?? 0) / 1024, "KiB");
        report.Add("generator_rss_after_kib", "generator RSS after", (selfAfter ?? 0) / 1024, "KiB");
        report.Add("generator_rss_per_session_bytes", "generator RSS per session",
            established > 0 ? (double)((selfAfter ?? 0) - (selfBefore ?? 0)) / established : double.NaN, "bytes", 0);
    }

    private static void RunRebind(RunContext run, Worker[] workers, Progress progress, Report report)
    {
        var o = run.Options;
        var start = Clock.Now;
        run.Start(start, long.MaxValue);
        foreach (var worker in workers)
        {
            worker.Start();
        }
        while (!run.ExitedHandle.WaitOne(1000))
        {
            progress.Show($"[{Clock.ToSeconds(Clock.Now - start),5:0}s] established {Sum(workers, c => WorkerCounters.Read(ref c.TotalEstablished))}/{o.Sessions}  echoes answered {Sum(workers, c => WorkerCounters.Read(ref c.TotalReplies))}");
        }
        long Total(Func<RebindWorker, long> figure)
        {
            long total = 0;
            foreach (var worker in workers)
            {
                total += figure((RebindWorker)worker);
            }
            return total;
        }
        var withCid = Total(w => w.SessionsWithConnectionId);
        var lost = Total(w => w.SessionsLost);
        var newHandshakes = Total(w => w.NewHandshakes);
        AddSuite(report, run, workers);
        report.Add("sessions", "sessions", o.Sessions);
        report.Add("sessions_established", "sessions established", Sum(workers, c => c.TotalEstablished));
        report.Add("sessions_with_cid", "sessions whose records carry a CID the server issued", withCid);
        report.Add("rebinds", "moves per session", o.Rebinds);
        report.Add("moves", "moves made", Total(w => w.Moves));
        report.Add("echoes_after_move_answered", "echoes after a move answered (same session)", Total(w => w.AnsweredAfterMove));
        report.Add("echo_retries", "echoes resent (answer withheld until the new address was proven, or lost)", Total(w => w.EchoRetries));
        report.Add("sessions_kept", "sessions kept (every move answered, no new handshake)", Total(w => w.SessionsKept));
        report.Add("sessions_lost", "sessions lost", lost);
        report.Add("new_handshakes", "new handshakes after a lost session", newHandshakes);
        report.Add("failures", "handshakes failed", Sum(workers, c => c.Failed));
        report.Add("first_echo_unanswered", "sessions whose first echo (before any move) went unanswered", Total(w => w.FirstEchoUnanswered));
        report.AddLatency("move_to_answer", "move to echo answered", LatencyStats.Merge(workers.Select(w => w.Latency)).Summarize());
        if (lost > 0 && run.Error is null)
        {
            run.Fail(withCid == 0
                ? $"the server negotiated no Connection ID (RFC 9146): a session is bound to its address and port, so a move loses it ({lost} of {o.Sessions} sessions lost, {newHandshakes} new handshakes)"
                : $"{lost} of {o.Sessions} sessions lost their DTLS session on a move ({newHandshakes} new handshakes; {withCid} sessions use a CID)");
        }
    }

    private static void RunFailover(RunContext run, Worker[] workers, Progress progress, Report report)
    {
        var o = run.Options;
        var start = Clock.Now;
        run.Start(start, start + Clock.FromSeconds(o.DurationSeconds!.Value));
        foreach (var worker in workers)
        {
            worker.Start();
        }
        while (!run.ExitedHandle.WaitOne(1000))
        {
            progress.Show($"[{Clock.ToSeconds(Clock.Now - start),5:0}s] established {Sum(workers, c => WorkerCounters.Read(ref c.TotalEstablished))}/{o.Sessions}  echoes answered {N(Sum(workers, c => WorkerCounters.Read(ref c.TotalReplies)))}  in outage {Sum(workers, c => WorkerCounters.Read(ref c.InFlight))}");
        }
        long Total(Func<FailoverWorker, long> figure)
        {
            long total = 0;
            foreach (var worker in workers)
            {
                total += figure((FailoverWorker)worker);
            }
            return total;
        }
        var neverBack = Total(w => w.InOutage);
        var reconnect = LatencyStats.Merge(workers.Select(w => w.Latency)).Summarize();
        AddSuite(report, run, workers);
        report.Add("sessions", "sessions", o.Sessions);
        report.Add("sessions_established", "sessions established", Sum(workers, c => c.TotalEstablished));
        report.Add("seconds", "ran for", o.DurationSeconds.Value, "s", 1);
        report.Add("interval_ms", "echo every", o.IntervalMs, "ms", 0);
        report.Add("echoes_sent", "echoes sent", Sum(workers, c => c.TotalSent));
        report.Add("echoes_returned", "echoes returned", Sum(workers, c => c.TotalReplies));
        report.Add("outages", "outages (a session lost its server)", Total(w => w.Outages));
        report.Add("reconnects", "reconnects (handshakes after an outage)", Total(w => w.Reconnects));
        report.Add("reconnects_resumed", "of which resumed with the ticket (abbreviated)", Total(w => w.ReconnectsResumed));
        report.Add("reconnects_full", "of which full", Total(w => w.Reconnects) - Total(w => w.ReconnectsResumed));
        report.Add("reconnect_attempts_failed", "reconnect handshakes that failed (tried again)", Total(w => w.ReconnectsFailed));
        report.Add("recovered", "outages ended by an answered echo", reconnect.Count);
        var none = reconnect.Count == 0; // no outage ended: n/a, not 0 ms
        report.Add("reconnect_p50_ms", "reconnect time p50 (first missed echo to first echo answered)", none ? double.NaN : reconnect.P50Us / 1000, "ms", 1);
        report.Add("reconnect_p99_ms", "reconnect time p99", none ? double.NaN : reconnect.P99Us / 1000, "ms", 1);
        report.Add("reconnect_max_ms", "reconnect time max", none ? double.NaN : reconnect.MaxUs / 1000, "ms", 1);
        report.Add("never_came_back", "sessions that never came back", neverBack);
        if (neverBack > 0 && run.Error is null)
        {
            run.Fail($"{neverBack} of {o.Sessions} sessions lost their server and were not answered again before the run ended");
        }
    }

    /// <summary>
    /// The suite the server chose (from the first established session) and, when an ECDHE_PSK suite was offered, the
    /// groups offered: with one group offered (--group), that is the group the exchange used.
    /// </summary>
    private static void AddSuite(Report report, RunContext run, Worker[] workers)
    {
        if (run.Dtls is not { } dtls)
        {
            report.Add("suite", "cipher suite", "none");
            return;
        }
        report.Add("suite", "cipher suite", workers.Select(w => w.Suite).FirstOrDefault(s => s is not null)?.ToString());
        if (run.Options.OffersEcdhe)
        {
            report.Add("groups", "ECDHE groups offered", string.Join(",", dtls.NamedGroups.Select(LoadOptions.GroupName)));
        }
    }

    /// <summary>The generator's own cost: how much CPU it spent per operation, so a run tells whether the generator was the limit.</summary>
    private static void AddCpu(Report report, Worker[] workers, long operations, double processCpuMicros, string operation)
    {
        var threadCpu = workers.Sum(w => w.CpuMicroseconds);
        var allocated = workers.Sum(w => w.AllocatedBytes);
        report.Add("generator_cpu_us_per_op", $"generator CPU per {operation}", operations > 0 ? (double)threadCpu / operations : double.NaN, "µs", 2);
        // What one generator core could sustain if it did nothing else: its ceiling for this operation and this server's replies.
        report.Add("generator_ceiling_per_core", $"generator ceiling per core ({operation}s/s, at this CPU cost)",
            operations > 0 && threadCpu > 0 ? 1e6 * operations / threadCpu : double.NaN, "", 0);
        report.Add("generator_process_cpu_seconds", "generator process CPU", processCpuMicros / 1e6, "s", 2);
        report.Add("generator_alloc_bytes_per_op", $"generator allocation per {operation}", operations > 0 ? (double)allocated / operations : double.NaN, "bytes", 1);
    }

    private static void AddServerCpu(Report report, double? serverCpuMicros, long operations, string operation)
    {
        if (serverCpuMicros is not { } micros)
        {
            return;
        }
        report.Add("server_cpu_seconds", "server process CPU (measured window)", micros / 1e6, "s", 2);
        report.Add("server_cpu_us_per_op", $"server CPU per {operation}", operations > 0 ? micros / operations : double.NaN, "µs", 2);
    }

    /// <summary>
    /// The server's CPU time over the measured window, when --pid names it: read when the warm-up ends and when the run
    /// ends, so JIT warm-up and session setup are not charged to the measured operations.
    /// </summary>
    private sealed class ServerCpu(int? pid)
    {
        private double? _before;
        private bool _marked;

        /// <summary>How long the progress loop may wait: until the warm-up ends if that is sooner than a second.</summary>
        public int WaitMilliseconds(long from)
        {
            if (pid is null || _marked)
            {
                return 1000;
            }
            var remaining = Clock.ToSeconds(from - Clock.Now) * 1000;
            return remaining <= 0 ? 0 : (int)Math.Min(1000, Math.Ceiling(remaining));
        }

        /// <summary>Reads the server's CPU time the first time this is called at or after <paramref name="from"/>.</summary>
        public bool MarkIfDue(long from)
        {
            if (pid is not { } p || _marked || Clock.Now < from)
            {
                return false;
            }
            _before = Native.ReadCpuMicroseconds(p);
            _marked = true;
            return true;
        }

        public double? Elapsed()
            => pid is { } p && _before is { } before && Native.ReadCpuMicroseconds(p) is { } after ? after - before : null;
    }

    /// <summary>Ctrl+C ends the run early; what was measured so far is still reported.</summary>
    private sealed class InterruptHandler : IDisposable
    {
        private readonly RunContext _run;

        public InterruptHandler(RunContext run)
        {
            _run = run;
            Console.CancelKeyPress += OnCancel;
        }

        private void OnCancel(object? sender, ConsoleCancelEventArgs e)
        {
            e.Cancel = true;
            _run.Fail("interrupted");
        }

        public void Dispose() => Console.CancelKeyPress -= OnCancel;
    }
}
