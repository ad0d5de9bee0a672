using System.Globalization;
using System.Text;

namespace HotDtls.Stress;

/// <summary>Turns the trials of an <c>impair</c> run into the Markdown table and checks its sanity rows.</summary>
internal static class ImpairReport
{
    public static string PairName(ImpairPair pair) => pair switch
    {
        ImpairPair.OpenSslClient => "OpenSSL s_client",
        _ => "HotDtls client",
    };

    /// <summary>One table row (also the progress line).</summary>
    public static string Row(ImpairCell cell)
    {
        var results = cell.Results;
        var ok = results.Where(r => r.HandshakeTime is not null).Select(r => r.HandshakeTime!.Value).Order().ToList();
        var sent = results.Sum(r => r.EchoesSent);
        var answered = results.Sum(r => r.EchoesAnswered);
        var relay = results.Aggregate(default(RelayCounts), (sum, r) => sum + r.Relay);
        var echo = sent == 0 ? "—" : $"{100.0 * answered / sent:F0}% ({answered}/{sent})";
        return $"| {cell.Setting.Name} | {PairName(cell.Pair)} | {ok.Count}/{results.Count} | {Time(Percentile(ok, 0.5))} | "
            + $"{Time(Percentile(ok, 0.9))} | {echo} | {relay.Dropped} / {relay.Duplicated} / {relay.Reordered} / {relay.TooLarge} | {Notes(cell)} |";
    }

    public static string Markdown(IReadOnlyList<ImpairCell> cells, ImpairRun run, TimeSpan elapsed, string openSslVersion)
    {
        var text = new StringBuilder();
        text.AppendLine("## Impaired networks: handshake and echo through the relay");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{run.Trials} trials per row ({run.Parallel} at once), each a fresh HotDtls server, relay and client; relay seeds "
            + $"{run.Seed}, {run.Seed + 2}, … (the same in every row). Handshake timeout {run.Trial.HandshakeTimeout.TotalSeconds:F0} s; "
            + $"then {run.Trial.Echoes} pings, each sent once and given {run.Trial.EchoWait.TotalMilliseconds:F0} ms for its echo. "
            + $"Both peers use their default timers (first retransmission after 1 s, doubling). {openSslVersion}; .NET {Environment.Version}; "
            + $"{Environment.ProcessorCount} cores. Run time {elapsed.TotalMinutes:F1} min.");
        text.AppendLine();
        text.AppendLine("| setting | client | handshakes ok | time median | time p90 | echoes answered | relay dropped / dup / reordered / too large | notes |");
        text.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var cell in cells)
        {
            text.AppendLine(Row(cell));
        }
        text.AppendLine();
        text.AppendLine("Settings (the relay applies each to both directions independently):");
        text.AppendLine();
        foreach (var setting in cells.Select(c => c.Setting).Distinct())
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"* **{setting.Name}**: {setting.Describe()}.");
        }
        text.AppendLine();
        text.AppendLine("""
            Columns: *time* runs from the relay seeing the first ClientHello to the client reporting the handshake complete,
            over the successful handshakes (nearest-rank median and 90th percentile). *Echoes answered* counts distinct pings
            whose echo reached the client, over all pings sent after successful handshakes; DTLS does not retransmit
            application data, so under loss about (1 − p)² of them make the round trip. *Relay* counters are summed over
            the row's trials, both directions. Notes: *not sent* = pings after which the relay saw no datagram from the
            client at all; *server saw duplicates* = datagrams the server application received twice (the replay window
            should keep this at 0).
            """);
        return text.ToString();
    }

    /// <summary>Rows that show a defect rather than the network's doing.</summary>
    public static List<string> SanityFailures(IReadOnlyList<ImpairCell> cells)
    {
        var failures = new List<string>();
        foreach (var cell in cells)
        {
            var where = $"{cell.Setting.Name}, {PairName(cell.Pair)}";
            var results = cell.Results;
            if (cell.Setting.Name == "none"
                && (results.Any(r => r.HandshakeTime is null) || results.Sum(r => r.EchoesAnswered) != results.Sum(r => r.EchoesSent)))
            {
                failures.Add($"{where}: without impairment every handshake and every echo must succeed");
            }
            if (results.Sum(r => r.Relay.TooLarge) > 0)
            {
                failures.Add($"{where}: a peer sent a datagram larger than the MTU it was given ({cell.Setting.Mtu})");
            }
            if (results.Sum(r => r.ServerDuplicatesDelivered) > 0)
            {
                failures.Add($"{where}: the server application received a duplicated datagram (replay window)");
            }
        }
        return failures;
    }

    private static string Notes(ImpairCell cell)
    {
        var notes = new List<string>();
        foreach (var group in cell.Results.Where(r => r.Failure is not null).GroupBy(r => r.Failure!, StringComparer.Ordinal))
        {
            notes.Add($"{group.Count()}× {group.Key}");
        }
        var notSent = cell.Results.Sum(r => r.PingsNotSent);
        if (notSent > 0)
        {
            var trials = cell.Results.Count(r => r.PingsNotSent > 0);
            notes.Add($"{Plural(notSent, "ping")} not sent ({Plural(trials, "trial")})");
        }
        var duplicates = cell.Results.Sum(r => r.ServerDuplicatesDelivered);
        if (duplicates > 0)
        {
            notes.Add($"server saw {duplicates} duplicates");
        }
        return notes.Count == 0 ? string.Empty : string.Join("; ", notes);
    }

    private static string Plural(int count, string noun) => count == 1 ? $"1 {noun}" : $"{count} {noun}s";

    private static TimeSpan? Percentile(List<TimeSpan> sorted, double fraction) =>
        sorted.Count == 0 ? null : sorted[Math.Max(0, (int)Math.Ceiling(fraction * sorted.Count) - 1)];

    private static string Time(TimeSpan? time) => time switch
    {
        null => "—",
        { TotalSeconds: < 1 } t => $"{t.TotalMilliseconds:F0} ms",
        { } t => $"{t.TotalSeconds:F1} s",
    };
}
