using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace HotDtls.Cli;

/// <summary>`hotdtls connect`: the Qt "DTLS client" example — numbered messages at an interval, each reply printed.</summary>
internal static class ConnectCommand
{
    public static async Task<int> RunAsync(Arguments arguments, ILoggerFactory loggerFactory, Interruption interruption)
    {
        var stop = interruption.Token;
        var logger = loggerFactory.CreateLogger("hotdtls.connect");
        var endPoint = await ResolveAsync(arguments.Host!, arguments.Port, stop).ConfigureAwait(false);
        var options = new DtlsClientOptions
        {
            PskIdentity = arguments.Identity,
            PskKey = arguments.Key,
            HandshakeTimeout = arguments.Timeout,
            LoggerFactory = loggerFactory,
        };
        arguments.ApplyTo(options);
        arguments.ApplyConnectionIdTo(options);
        arguments.ApplyKeyLogTo(options);
        logger.LogInformation("Connecting to {EndPoint} as '{Identity}'", endPoint, arguments.Identity);
        var saved = await RunSessionAsync(endPoint, options, arguments, logger, stop).ConfigureAwait(false);
        if (!arguments.Resume || stop.IsCancellationRequested)
        {
            saved?.Dispose();
            return interruption.SignalExitCode;
        }
        if (saved is null)
        {
            logger.LogWarning("The server offered no session to resume (no session ID and no ticket): connecting again with a full handshake");
        }
        using (saved)
        {
            options.Session = saved;
            logger.LogInformation("Reconnecting to {EndPoint} to resume the session", endPoint);
            (await RunSessionAsync(endPoint, options, arguments, logger, stop).ConfigureAwait(false))?.Dispose();
        }
        return interruption.SignalExitCode;
    }

    /// <summary>One connection: handshake, the pings, close. Returns the session saved for resumption, if the server offered one.</summary>
    private static async Task<DtlsSavedSession?> RunSessionAsync(IPEndPoint endPoint, DtlsClientOptions options, Arguments arguments,
        ILogger logger, CancellationToken stop)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var client = await DtlsClient.ConnectAsync(endPoint, options, stop).ConfigureAwait(false);
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        logger.LogInformation("Connection with {EndPoint} encrypted. {CipherSuite} (server hint: '{Hint}'; handshake took {Milliseconds:0.00} ms)",
            endPoint, client.CipherSuite, client.PskIdentityHint, elapsed.TotalMilliseconds);
        if (arguments.Resume)
        {
            logger.LogInformation("{Kind} handshake took {Milliseconds:0.00} ms",
                client.IsResumed ? "Session resumed: abbreviated" : "New session: full", elapsed.TotalMilliseconds);
        }
        ReportConnectionId(arguments, client, logger);
        var buffer = new byte[client.MaxReceiveSize];
        using var receiveStop = CancellationTokenSource.CreateLinkedTokenSource(stop);
        var receiving = ReceiveAsync(client, buffer, logger, receiveStop.Token);
        try
        {
            for (var n = 1; arguments.Count == 0 || n <= arguments.Count; n++)
            {
                // The Qt DTLS client example's ping, with the client's name (its PSK identity).
                var message = $"I am {arguments.Identity}, please, accept our ping {n}";
                client.Send(Encoding.UTF8.GetBytes(message));
                logger.LogInformation("Sent: {Message}", message);
                await Task.Delay(arguments.Interval, stop).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        await receiveStop.CancelAsync().ConfigureAwait(false);
        await receiving.ConfigureAwait(false);
        return client.SaveSession();
    }

    /// <summary>With --cid, whether the server took up the offer.</summary>
    private static void ReportConnectionId(Arguments arguments, DtlsClient client, ILogger logger)
    {
        if (!arguments.OfferConnectionId)
        {
            return;
        }
        if (client.UsesConnectionId)
        {
            logger.LogInformation("Connection ID: the server issued one; the session survives a change of this client's address or port");
        }
        else
        {
            logger.LogInformation("Connection ID: offered, but the server did not take it up; a change of address ends the session");
        }
    }

    private static async Task ReceiveAsync(DtlsClient client, byte[] buffer, ILogger logger, CancellationToken stop)
    {
        try
        {
            while (true)
            {
                var length = await client.ReceiveAsync(buffer, stop).ConfigureAwait(false);
                logger.LogInformation("Received: {Reply}", Encoding.UTF8.GetString(buffer, 0, length));
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (DtlsException exception)
        {
            logger.LogWarning("{Message}", exception.Message);
        }
    }

    private static async Task<IPEndPoint> ResolveAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }
        try
        {
            var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            return addresses.Length > 0
                ? new IPEndPoint(addresses[0], port)
                : throw new UsageException($"'{host}' has no address.");
        }
        catch (SocketException)
        {
            throw new UsageException($"Cannot resolve '{host}'.");
        }
    }
}
