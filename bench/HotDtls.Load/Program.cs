using HotDtls.Load;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(LoadOptions.Usage);
    return args.Length == 0 ? 2 : 0;
}
try
{
    var options = LoadOptions.Parse(args);
    if (options.Cpus.Count > 0)
    {
        Native.PinProcess(options.Cpus);
    }
    return Runner.Run(options, Console.Out);
}
catch (UsageException exception)
{
    Console.Error.WriteLine($"HotDtls.Load: {exception.Message}\n\n{LoadOptions.Usage}");
    return 2;
}
catch (System.ComponentModel.Win32Exception exception)
{
    Console.Error.WriteLine($"HotDtls.Load: {exception.Message}");
    return 1;
}
