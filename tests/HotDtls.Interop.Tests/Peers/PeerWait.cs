using System.Threading.Channels;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>Turns cancellation and peer failure into <see cref="PeerException"/>s that carry diagnostics.</summary>
internal static class PeerWait
{
    public static async Task<T> ForAsync<T>(Task<T> task, string what, Func<string> diagnostics,
        CancellationToken cancellationToken)
    {
        try
        {
            return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new PeerException($"Timed out waiting for {what}.\n{diagnostics()}", e);
        }
    }

    public static async Task ForAsync(Task task, string what, Func<string> diagnostics,
        CancellationToken cancellationToken)
    {
        try
        {
            await task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new PeerException($"Timed out waiting for {what}.\n{diagnostics()}", e);
        }
    }

    public static async Task<T> ReadLineAsync<T>(ChannelReader<T> reader, string what, Func<string> diagnostics,
        CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new PeerException($"Timed out waiting for {what}.\n{diagnostics()}", e);
        }
        catch (ChannelClosedException e)
        {
            throw new PeerException($"The peer ended before {what}.\n{diagnostics()}", e.InnerException ?? e);
        }
    }
}
