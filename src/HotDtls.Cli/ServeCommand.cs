using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;

namespace HotDtls.Cli;

/// <summary>`hotdtls serve`: the Qt "DTLS server" example's behaviour.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(Arguments arguments, ILoggerFactory loggerFactory, Interruption stop)
    {
        // The --config file's options (every key of HotDtls.Hosting's schema), then the command line over them.
        var options = arguments.File.Options ?? new DtlsServerOptions();
        options.EndPoint = new IPEndPoint(arguments.Address, arguments.Port);
        options.PskIdentityHint = arguments.Hint;
        options.PskStore = arguments.KeyGiven || arguments.File.PskStore is null ? PskStore.Single(arguments.Key) : arguments.File.PskStore;
        options.ReceiveLoops = arguments.Loops ?? Environment.ProcessorCount;
        options.ReceiveStrategy = arguments.Receive;
        // Resumption is off unless asked for, as in the library: a large session cache costs full handshakes CPU in
        // whole-server runs (docs/benchmarks.md, "Resumption").
        if (arguments.ServeResume || arguments.NoResume)
        {
            options.EnableSessionResumption = arguments.ServeResume;
            options.EnableSessionTickets = arguments.ServeResume;
        }
        arguments.ApplyTo(options);
        arguments.ApplyConnectionIdTo(options);
        arguments.ApplyKeyLogTo(options);
        arguments.ApplyClusterTo(options);
        DtlsServerHandler handler = arguments.Echo
            ? new EchoHandler()
            : new AckHandler(loggerFactory.CreateLogger("hotdtls.serve"), arguments.Quiet);
        DtlsServer created;
        try
        {
            created = new DtlsServer(options, handler, loggerFactory);
        }
        catch (ArgumentException exception)
        {
            // The options from the command line and --config together break one of the library's rules.
            var text = exception.Message;
            var cut = text.IndexOf(" (Parameter '", StringComparison.Ordinal);
            throw new UsageException(cut > 0 ? text[..cut] : text);
        }
        await using var server = created;
        await server.StartAsync(stop.Token).ConfigureAwait(false);
        if (arguments.Quiet)
        {
            // The informational "listening on" report is filtered out, but scripts wait for this line.
            Console.WriteLine($"listening on {server.LocalEndPoint}");
        }
        // Console.In.ReadLineAsync blocks synchronously on a redirected or terminal stdin: called inline it would hold
        // this method before the wait below, and Ctrl+C or SIGTERM would never reach StopAsync. It gets its own thread.
        _ = Task.Factory.StartNew(() => WatchStandardInputAsync(server, stop), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await server.StopAsync(CancellationToken.None).ConfigureAwait(false);
        Console.WriteLine(StatisticsLine(server));
        // Stopping is serve's normal end, however it is asked for ("close", Ctrl+C, or a service manager's SIGTERM).
        return ExitCodes.Success;
    }

    /// <summary>
    /// One line of the server's counters, printed on "stats" and when the server stops (scripts read it: deploy/cluster.sh
    /// counts each node's handshakes). Counters only: no peer, no key.
    /// </summary>
    internal static string StatisticsLine(DtlsServer server)
    {
        var s = server.Statistics;
        var line = FormattableString.Invariant(
            $"statistics: handshakes={s.HandshakesCompleted} resumed={s.HandshakesResumed} failed={s.HandshakesFailed} sessions={s.Sessions} received={s.DatagramsReceived} sent={s.DatagramsSent} delivered={s.DatagramsDelivered} dropped={s.RecordsDropped} moved={s.PeerAddressChanges}");
        return server.IsClusterNode
            ? line + FormattableString.Invariant(
                $" forwarded={s.DatagramsForwarded} not_forwarded={s.DatagramsNotForwarded} through_nodes={s.DatagramsSentThroughNodes}")
            : line;
    }

    /// <summary>
    /// The Qt example has a "close" button; here it is the line "close" (or "quit") on standard input. "stats" prints
    /// the server's counters.
    /// </summary>
    private static async Task WatchStandardInputAsync(DtlsServer server, Interruption stop)
    {
        while (await Console.In.ReadLineAsync(stop.Token).ConfigureAwait(false) is { } line)
        {
            if (line.Trim() == "stats")
            {
                Console.WriteLine(StatisticsLine(server));
                continue;
            }
            if (line.Trim() is "close" or "quit")
            {
                await stop.CancelAsync().ConfigureAwait(false);
                return;
            }
        }
    }

    /// <summary>Reports each datagram (its protected bytes, then its plaintext) and answers it with "to (&lt;address&gt;:&lt;port&gt;): ACK".</summary>
    internal sealed class AckHandler(ILogger logger, bool quiet = false) : DtlsServerHandler
    {
        // The seed prints each datagram's ciphertext next to its plaintext: the protected bytes arrive first (before
        // decryption, which happens in place), on the same thread and for the same session, just before OnDatagram;
        // several receive loops call one handler at once, so each thread keeps its own.
        [ThreadStatic]
        private static string? t_ciphertextHex;

        /// <summary>A quiet server does not print the ciphertext, so it does not ask for it.</summary>
        public override bool ObservesProtectedDatagrams => !quiet;

        public override void OnProtectedDatagram(DtlsSession session, ReadOnlySpan<byte> datagram)
            => t_ciphertextHex = Convert.ToHexStringLower(datagram);

        /// <summary>Follows the library's "Connection with … encrypted" line: whether the session can follow its client.</summary>
        public override void OnSessionEstablished(DtlsSession session)
        {
            if (!quiet && session.UsesConnectionId)
            {
                logger.LogInformation("{Peer}: uses a Connection ID; the session follows the client to a new address or port",
                    session.RemoteEndPoint);
            }
        }

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            if (plaintext.IsEmpty)
            {
                // The server already warned "0 byte dgram, could be a re-connect attempt?", and the seed does not answer.
                return;
            }
            if (!quiet)
            {
                logger.LogInformation("{Peer}: received a DTLS datagram: {Ciphertext}", session.RemoteEndPoint, t_ciphertextHex);
                logger.LogInformation("{Peer}: as plain text: {Plaintext}", session.RemoteEndPoint, Encoding.UTF8.GetString(plaintext));
            }
            session.TrySend(Encoding.UTF8.GetBytes(ReplyTo(session.RemoteEndPoint)));
        }

        /// <summary>
        /// The seed's reply, "to (127.0.0.1:59925): ACK": Qt prints the peer as "(" + QHostAddress::toString() + ":" +
        /// port + ")", so an IPv6 peer has no brackets: "to (::1:59925): ACK".
        /// </summary>
        public static string ReplyTo(IPEndPoint peer) => $"to ({peer.Address}:{peer.Port}): ACK";
    }

    /// <summary>Answers each datagram with its own bytes, allocation-free: the benchmarks' echo server.</summary>
    internal sealed class EchoHandler : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
            => session.TrySend(plaintext);
    }
}
