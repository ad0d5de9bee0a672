using System.Diagnostics;
using System.Globalization;

namespace HotDtls.Stress;

/// <summary>
/// <c>impair</c>: real peers through the impairment relay (drop, duplicate, reorder, delay, MTU), a Markdown table of
/// handshake success rate, handshake time and echo delivery per setting and pair (issue 3). Exits 1 when a sanity
/// check fails: without impairment every handshake and echo must succeed, and no peer may send a datagram above the
/// MTU it was given.
/// </summary>
internal static class ImpairCommand
{
    private const string Usage = """
        usage: HotDtls.Stress impair [options]
          --trials N         trials per setting and pair (default 10; --short: 2)
          --echoes M         pings per trial, each sent once (default 10; --short: 5)
          --echo-wait MS     how long each ping waits for its echo (default 2000)
          --timeout S        handshake timeout per trial, seconds (default 30)
          --parallel P       trials run at once (default 5; trials mostly wait on timers)
          --seed S           first relay seed; trial t uses S + 2t, the same in every setting (default 1)
          --only TEXT        only settings whose name contains TEXT (repeatable)
          --short            quick run: --trials 2 --echoes 5
          --out FILE         also write the Markdown report to FILE
        Peers run with their default timers (1 s first retransmission, doubling).
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (!TryParse(args, out var run, out var error))
        {
            Console.Error.WriteLine(error);
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (run is null)
        {
            Console.WriteLine(Usage);
            return 0;
        }

        var settings = ImpairSetting.All.Where(s => run.Only.Count == 0 || run.Only.Exists(o => s.Name.Contains(o, StringComparison.OrdinalIgnoreCase))).ToList();
        if (settings.Count == 0)
        {
            Console.Error.WriteLine("--only matched no setting; settings: " + string.Join(", ", ImpairSetting.All.Select(s => s.Name)));
            return 2;
        }

        // One discarded trial per pair first, so that JIT and the first s_client start do not land in the first row.
        foreach (var pair in Enum.GetValues<ImpairPair>())
        {
            _ = await ImpairTrial.RunAsync(pair, ImpairSetting.All[0], run.Seed, run.Trial with { Echoes = 2 }).ConfigureAwait(false);
        }

        var started = Stopwatch.GetTimestamp();
        var cells = new List<ImpairCell>();
        foreach (var setting in settings)
        {
            foreach (var pair in Enum.GetValues<ImpairPair>())
            {
                var results = await RunCellAsync(pair, setting, run).ConfigureAwait(false);
                var cell = new ImpairCell(setting, pair, results);
                cells.Add(cell);
                Console.Error.WriteLine($"[{Stopwatch.GetElapsedTime(started):mm\\:ss}] {ImpairReport.Row(cell)}");
            }
        }
        var elapsed = Stopwatch.GetElapsedTime(started);

        var report = ImpairReport.Markdown(cells, run, elapsed, await OpenSslVersionAsync().ConfigureAwait(false));
        Console.WriteLine(report);
        if (run.Out is { } path)
        {
            await File.WriteAllTextAsync(path, report).ConfigureAwait(false);
            Console.Error.WriteLine($"wrote {Path.GetFullPath(path)}");
        }

        var failures = ImpairReport.SanityFailures(cells);
        foreach (var failure in failures)
        {
            Console.Error.WriteLine("CHECK FAILED: " + failure);
        }
        return failures.Count == 0 ? 0 : 1;
    }

    private static async Task<ImpairTrialResult[]> RunCellAsync(ImpairPair pair, ImpairSetting setting, ImpairRun run)
    {
        var results = new ImpairTrialResult[run.Trials];
        using var slots = new SemaphoreSlim(run.Parallel);
        var trials = Enumerable.Range(0, run.Trials).Select(async t =>
        {
            await slots.WaitAsync().ConfigureAwait(false);
            try
            {
                results[t] = await ImpairTrial.RunAsync(pair, setting, run.Seed + (2 * t), run.Trial).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        await Task.WhenAll(trials).ConfigureAwait(false);
        return results;
    }

    private static async Task<string> OpenSslVersionAsync()
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("openssl", "version") { RedirectStandardOutput = true, UseShellExecute = false });
            if (process is null)
            {
                return "openssl (version unknown)";
            }
            var version = (await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false)).Trim();
            await process.WaitForExitAsync().ConfigureAwait(false);
            return version;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "openssl not found";
        }
    }

    private static bool TryParse(string[] args, out ImpairRun? run, out string? error)
    {
        run = null;
        error = null;
        int? trials = null, echoes = null;
        int echoWaitMs = 2000, timeoutS = 30, parallel = 5, seed = 1;
        var only = new List<string>();
        string? outPath = null;
        var isShort = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h")
            {
                return true;
            }
            if (arg == "--short")
            {
                isShort = true;
                continue;
            }
            if (i + 1 >= args.Length)
            {
                error = $"{arg}: unknown option or missing value";
                return false;
            }
            var value = args[++i];
            var ok = true;
            switch (arg)
            {
                case "--trials": ok = TryPositive(value, out var t); trials = t; break;
                case "--echoes": ok = TryPositive(value, out var e); echoes = e; break;
                case "--echo-wait": ok = TryPositive(value, out echoWaitMs); break;
                case "--timeout": ok = TryPositive(value, out timeoutS); break;
                case "--parallel": ok = TryPositive(value, out parallel); break;
                case "--seed": ok = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed); break;
                case "--only": only.Add(value); break;
                case "--out": outPath = value; break;
                default:
                    error = $"unknown option {arg}";
                    return false;
            }
            if (!ok)
            {
                error = $"{arg}: '{value}' is not a positive number";
                return false;
            }
        }

        run = new ImpairRun(
            trials ?? (isShort ? 2 : 10),
            parallel,
            seed,
            only,
            outPath,
            new ImpairTrialOptions(echoes ?? (isShort ? 5 : 10), TimeSpan.FromMilliseconds(echoWaitMs), TimeSpan.FromSeconds(timeoutS)));
        return true;
    }

    private static bool TryPositive(string text, out int value) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out value) && value > 0;
}
