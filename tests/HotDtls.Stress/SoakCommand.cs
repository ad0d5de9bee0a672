namespace HotDtls.Stress;

internal static class SoakCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        _ = args;
        Console.Error.WriteLine("not built yet");
        return Task.FromResult(2);
    }
}
