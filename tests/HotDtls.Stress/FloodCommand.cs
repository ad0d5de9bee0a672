namespace HotDtls.Stress;

internal static class FloodCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        _ = args;
        Console.Error.WriteLine("not built yet");
        return Task.FromResult(2);
    }
}
