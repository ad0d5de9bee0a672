using HotDtls.Stress;

// One executable, one command per scenario; each prints a report and exits non-zero when a check fails.
return args.Length == 0
    ? Usage()
    : args[0] switch
    {
        "flood" => await FloodCommand.RunAsync(args[1..]).ConfigureAwait(false),
        "soak" => await SoakCommand.RunAsync(args[1..]).ConfigureAwait(false),
        "impair" => await ImpairCommand.RunAsync(args[1..]).ConfigureAwait(false),
        "timing" => await TimingCommand.RunAsync(args[1..]).ConfigureAwait(false),
        "memory" => await MemoryProbe.RunAsync(args[1..]).ConfigureAwait(false),
        _ => Usage(),
    };

static int Usage()
{
    Console.Error.WriteLine("usage: HotDtls.Stress flood|soak|impair|timing|memory [options]   (each command takes --help)");
    return 2;
}
