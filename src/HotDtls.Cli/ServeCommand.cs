using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

namespace HotDtls.Cli;

/// <summary>`hotdtls serve`: the Qt "DTLS server" example's behaviour.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(Arguments arguments, ILoggerFactory loggerFactory, CancellationTokenSource stop)
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(arguments.Address, arguments.Port),
            PskIdentityHint = arguments.Hint,
            PskStore = PskStore.Single(arguments.Key),
            CaptureCiphertext = true,
        };
        var handler = new AckHandler(loggerFactory.CreateLogger("hotdtls.serve"));
        await using var server = new DtlsServer(options, handler, loggerFactory);
        await server.StartAsync(stop.Token).ConfigureAwait(false);
        _ = WatchStandardInputAsync(stop);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }

    /// <summary>The Qt example has a "close" button; here it is the line "close" (or "quit") on standard input.</summary>
    private static async Task WatchStandardInputAsync(CancellationTokenSource stop)
    {
        while (await Console.In.ReadLineAsync(stop.Token).ConfigureAwait(false) is { } line)
        {
            if (line.Trim() is "close" or "quit")
            {
                await stop.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>Reports each datagram and answers it with "to &lt;peer&gt;: ACK".</summary>
    internal sealed class AckHandler(ILogger logger) : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ciphertext)
        {
            if (plaintext.IsEmpty)
            {
                return; // The server already reported the empty datagram as a warning, as the seed does.
            }
            logger.LogInformation("{Peer}: received a DTLS datagram: {Ciphertext}", session.RemoteEndPoint,
                Convert.ToHexStringLower(ciphertext));
            logger.LogInformation("{Peer}: as plain text: {Plaintext}", session.RemoteEndPoint, Encoding.UTF8.GetString(plaintext));
            session.Send(Encoding.UTF8.GetBytes($"to {session.RemoteEndPoint}: ACK"));
        }
    }
}
