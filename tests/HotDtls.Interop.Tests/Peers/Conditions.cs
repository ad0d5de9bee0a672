namespace HotDtls.Interop.Tests.Peers;

/// <summary>Waiting on a condition over real sockets, bounded by the test's token (no fixed sleeps as synchronisation).</summary>
internal static class Conditions
{
    /// <summary>Polls <paramref name="condition"/> every 10 ms until it holds; fails naming <paramref name="what"/> when the token ends.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, Func<string> what, CancellationToken cancellationToken)
    {
        while (!condition())
        {
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException("Timed out waiting for " + what());
            }
        }
    }
}
