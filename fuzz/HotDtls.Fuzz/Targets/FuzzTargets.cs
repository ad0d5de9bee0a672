namespace HotDtls.Fuzz.Targets;

/// <summary>A fuzz target: one input, no result; it throws when the code under test breaks a promise.</summary>
internal delegate void FuzzTarget(ReadOnlySpan<byte> input);

/// <summary>Every target by the name fuzz/run.sh and fuzz/corpus/&lt;name&gt;/ use.</summary>
internal static class FuzzTargets
{
    public static readonly IReadOnlyList<(string Name, FuzzTarget Run)> All =
    [
        ("records", RecordsTarget.Run),
        ("client-hello", ClientHelloTarget.Run),
        ("handshake", HandshakeTarget.Run),
        ("reassembler", ReassemblerTarget.Run),
        ("cookie", CookieTarget.Run),
        ("engine", EngineTarget.Run),
        ("protection", ProtectionTarget.Run),
        ("ticket", TicketTarget.Run),
        ("resumption", ResumptionTarget.Run),
        ("cluster", ClusterTarget.Run),
    ];

    public static IEnumerable<string> Names()
    {
        foreach (var (name, _) in All)
        {
            yield return name;
        }
    }

    public static FuzzTarget? Find(string name)
    {
        foreach (var (targetName, run) in All)
        {
            if (targetName == name)
            {
                return run;
            }
        }
        return null;
    }
}
