using HotDtls.Fuzz;
using HotDtls.Fuzz.Targets;
using SharpFuzz;

// fuzz/run.sh drives this: `afl TARGET` under afl-fuzz, `replay TARGET PATH...` to re-run inputs (crashes,
// corpora); fuzz/record-seeds.sh: `seed DIR` records the HotDtls seed corpora (Fuzz build), `seal DIR` writes the
// protection target's sealed records, `record-cid DIR` the Connection ID conversations with real cryptography and
// `record-openssl DIR` records OpenSSL conversations (normal build). See
// fuzz/README.md.
if (args.Length >= 2 && args[0] == "afl" && FuzzTargets.Find(args[1]) is { } aflTarget)
{
    Fuzzer.Run(stream =>
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        aflTarget(copy.GetBuffer().AsSpan(0, (int)copy.Length));
    });
    return 0;
}
if (args.Length >= 3 && args[0] == "replay" && FuzzTargets.Find(args[1]) is { } replayTarget)
{
    return Replay.Run(args[1], replayTarget, args[2..]);
}
if (args.Length == 2 && args[0] == "seed")
{
    SeedCorpus.Write(args[1], Console.Out);
    return 0;
}
if (args.Length == 2 && args[0] == "seal")
{
    return ProtectionSeeds.Write(args[1], Console.Out);
}
if (args.Length == 2 && args[0] == "resumption")
{
    return SeedCorpus.WriteResumption(args[1], Console.Out);
}
if (args.Length == 2 && args[0] == "record-cid")
{
    return SeedCorpus.WriteRealConnectionId(args[1], Console.Out);
}
if (args.Length == 2 && args[0] == "record-openssl")
{
    return OpenSslRecorder.Record(args[1], Console.Out);
}
Console.Error.WriteLine("usage: HotDtls.Fuzz afl TARGET | replay TARGET PATH... | seed DIR | seal DIR | resumption DIR | record-cid DIR | record-openssl DIR");
Console.Error.WriteLine("targets: " + string.Join(", ", FuzzTargets.Names()));
Console.Error.WriteLine(HotDtls.FuzzingBuild.Enabled
    ? "this is a fuzzing build (record authentication and Finished checks always pass)"
    : "this is not a fuzzing build: build with -c Fuzz (fuzz/run.sh does)");
return 2;
