namespace HotDtls.Tests.Support;

/// <summary>Byte arrays that tests build over and over.</summary>
internal static class TestBytes
{
    /// <summary>32 deterministic random bytes (a client random, a cookie) from <paramref name="seed"/>.</summary>
    public static byte[] RandomBytes(int seed)
    {
        var bytes = new byte[32];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary><paramref name="length"/> bytes of <paramref name="value"/>.</summary>
    public static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }
}

/// <summary>Runs code with no SynchronizationContext, so awaiting continuations run inline, before it returns.</summary>
internal static class Inline
{
    /// <summary>
    /// Completes something (a PSK lookup) so that the engine's continuation runs inline: .NET inlines an await
    /// continuation only where no SynchronizationContext is current, and xUnit installs one on test threads.
    /// </summary>
    public static void Run(Action complete)
    {
        var context = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(null);
        try
        {
            complete();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(context);
        }
    }
}
