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
            // The seed prints each datagram's ciphertext; a quiet server does not need the copy.
            CaptureCiphertext = !arguments.Quiet,
            ReceiveLoops = arguments.Loops ?? Environment.ProcessorCount,
            ReceiveStrategy = arguments.Receive,
        };
        DtlsServerHandler handler = arguments.Echo
            ? new EchoHandler()
            : new AckHandler(loggerFactory.CreateLogger("hotdtls.serve"), arguments.Quiet);
        await using var server = new DtlsServer(options, handler, loggerFactory);
        await server.StartAsync(stop.Token).ConfigureAwait(false);
        if (arguments.Quiet)
        {
            // The informational "listening on" report is filtered out, but scripts wait for this line.
            Console.WriteLine($"listening on {server.LocalEndPoint}");
        }
        // Fix: Console.In.ReadLineAsync blocks synchronously on a redirected or terminal stdin, so called inline it
        // held this method before the wait below and Ctrl+C or SIGTERM never reached StopAsync. It gets its own thread.
        _ = Task.Factory.StartNew(() => WatchStandardInputAsync(stop), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
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
    internal sealed class AckHandler(ILogger logger, bool quiet = false) : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ciphertext)
        {
            if (plaintext.IsEmpty)
            {
                return; // The server already reported the empty datagram as a warning, as the seed does.
            }
            if (quiet)
            {
                session.Send(Encoding.UTF8.GetBytes($"to {session.RemoteEndPoint}: ACK"));
                return;
            }
            logger.LogInformation("{Peer}: received a DTLS datagram: {Ciphertext}", session.RemoteEndPoint,
                Convert.ToHexStringLower(ciphertext));
            logger.LogInformation("{Peer}: as plain text: {Plaintext}", session.RemoteEndPoint, Encoding.UTF8.GetString(plaintext));
            session.Send(Encoding.UTF8.GetBytes($"to {session.RemoteEndPoint}: ACK"));
        }
    }

    /// <summary>Answers each datagram with its own bytes, allocation-free: the benchmarks' echo server.</summary>
    internal sealed class EchoHandler : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ciphertext)
            => session.Send(plaintext);
    }
}
