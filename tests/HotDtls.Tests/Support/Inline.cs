namespace HotDtls.Tests.Support;

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
