using HotDtls.Fuzz.Targets;

namespace HotDtls.Fuzz;

/// <summary>Runs a target over saved inputs (files, or every file in a folder) and says which ones fail.</summary>
internal static class Replay
{
    public static int Run(string name, FuzzTarget target, string[] paths)
    {
        var failed = 0;
        var count = 0;
        foreach (var file in Files(paths))
        {
            count++;
            try
            {
                target(File.ReadAllBytes(file));
                if (name == "engine")
                {
                    var statistics = EngineTarget.LastStatistics;
                    Console.WriteLine($"{file}: {EngineTarget.LastDelivered} application records delivered; CID: "
                        + $"{statistics.PeerAddressChanges} moves, {statistics.PeerAddressesProven} addresses proven, "
                        + $"{statistics.UnknownConnectionIdRecords} unknown");
                }
                else if (name == "resumption")
                {
                    Console.WriteLine($"{file}: {ResumptionTarget.LastResumed} handshakes resumed, {ResumptionTarget.LastDelivered} application records delivered");
                }
                else if (name == "cluster")
                {
                    Console.WriteLine($"{file}: {ClusterTarget.LastOutcome}");
                }
                else if (name == "ticket")
                {
                    Console.WriteLine($"{file}: {(TicketTarget.LastOpened ? "opened" : "refused")}");
                }
                else if (name == "protection")
                {
                    Console.WriteLine($"{file}: {(ProtectionTarget.LastOpened ? "opened" : "refused")} by the fixed-key direction, "
                        + $"{(ProtectionTarget.LastOpenedWithConnectionId ? "opened" : "refused")} under the input's CID");
                }
                else if (name == "records")
                {
                    Console.WriteLine($"{file}: {RecordsTarget.LastConnectionIdRecords} tls12_cid records framed");
                }
            }
            catch (Exception exception)
            {
                failed++;
                Console.WriteLine($"FAIL {file}: {exception.GetType().Name}: {exception.Message}");
                Console.WriteLine(exception.StackTrace);
            }
        }
        Console.WriteLine($"{name}: {count} inputs, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    public static IEnumerable<string> Files(IEnumerable<string> paths)
    {
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var files = Directory.GetFiles(path);
                Array.Sort(files, StringComparer.Ordinal);
                foreach (var file in files)
                {
                    yield return file;
                }
            }
            else if (File.Exists(path))
            {
                yield return path;
            }
        }
    }
}
