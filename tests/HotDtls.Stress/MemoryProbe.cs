using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime;
using HotDtls.Client;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Stress;

/// <summary>
/// Memory per established idle session, measured in this process: a <see cref="ServerEngine"/> with no socket, fed
/// by HotDtls's own client state machine through in-memory queues (so 100 000 sessions need no file descriptors), a
/// manual clock moved past <see cref="DtlsServerOptions.ReleaseIdleCiphersAfter"/> so idle ciphers are parked, then
/// a compacting collection and a malloc_trim before each reading. Prints managed and RSS bytes per session.
/// With --cid every client offers Connection ID (RFC 9146) and gets the server's default 6-byte CID: the idle cost with
/// CID negotiated.
/// </summary>
internal static class MemoryProbe
{
    private const int WarmUpSessions = 256;
    private static readonly byte[] Key = Convert.FromHexString("1a2b3c4d5e6f");

    public static Task<int> RunAsync(string[] args)
    {
        var parsed = StressArgs.Parse(args, ["--help", "--aes256", "--no-hint", "--cid", "--resumption"], ["--sessions"], out var error);
        if (parsed is null || parsed.Has("--help"))
        {
            Console.Error.WriteLine(error ?? "");
            Console.Error.WriteLine("usage: HotDtls.Stress memory [--sessions N (10000)] [--aes256] [--no-hint] [--cid] [--resumption]");
            return Task.FromResult(parsed is null ? 2 : 0);
        }
        var sessions = (int)parsed.Long("--sessions", 10_000);
        var suite = parsed.Has("--aes256") ? CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 : CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        return Task.FromResult(Run(sessions, suite, !parsed.Has("--no-hint"), parsed.Has("--cid"), parsed.Has("--resumption")));
    }

    // --resumption: the server lets clients resume as `hotdtls serve` does (session-ID cache and tickets) and every
    // client takes a ticket, which must cost the server nothing per idle session.
    private static int Run(int sessions, CipherSuite suite, bool hint, bool connectionId, bool resumption)
    {
        var clock = new ProbeClock();
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskIdentityHint = hint ? StressServer.IdentityHint : null,
            PskStore = PskStore.Single(Key),
            TimeProvider = clock,
            MaxSessions = sessions + WarmUpSessions,
            EnableSessionResumption = resumption,
            EnableSessionTickets = resumption,
        };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(suite);
        options.ValidateServer();
        var toClient = new Queue();
        using var engine = new ServerEngine(options, new DiscardingHandler(), toClient, NullLogger.Instance, SystemRandomSource.Instance);
        var clientOptions = new DtlsClientOptions
        {
            PskIdentity = "device-000001",
            PskKey = Key,
            TimeProvider = clock,
            ConnectionIdLength = connectionId ? 0 : null,
        };
        clientOptions.CipherSuites.Clear();
        clientOptions.CipherSuites.Add(suite);
        clientOptions.ValidateClient();
        var scratch = new byte[ClientEngine.ScratchLength];

        // Warm-up sessions JIT every path and fill the pools; they stay, and are part of the baseline.
        Establish(engine, clock, toClient, clientOptions, scratch, 0, WarmUpSessions);
        var baseline = Settle(engine, clock, options);

        var started = Stopwatch.StartNew();
        Establish(engine, clock, toClient, clientOptions, scratch, WarmUpSessions, sessions);
        var handshakeSeconds = started.Elapsed.TotalSeconds;
        var loaded = Settle(engine, clock, options);

        var statistics = engine.GetStatistics();
        var expected = sessions + WarmUpSessions;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"memory: {sessions} idle sessions ({suite}, hint {(hint ? "on" : "off")}, CID {(connectionId ? $"{options.ConnectionIdLength}-byte" : "off")}), {sessions / handshakeSeconds:0} handshakes/s in memory"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  sessions {statistics.Sessions}, ciphers released {statistics.CiphersReleased}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  managed: {StressMemory.Mib(baseline.ManagedBytes)} -> {StressMemory.Mib(loaded.ManagedBytes)}: {(double)(loaded.ManagedBytes - baseline.ManagedBytes) / sessions:0} B/session"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  GC committed: {StressMemory.Mib(baseline.GcCommittedBytes)} -> {StressMemory.Mib(loaded.GcCommittedBytes)}: {(double)(loaded.GcCommittedBytes - baseline.GcCommittedBytes) / sessions:0} B/session"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  RSS: {StressMemory.Mib(baseline.RssBytes)} -> {StressMemory.Mib(loaded.RssBytes)}: {(double)(loaded.RssBytes - baseline.RssBytes) / sessions:0} B/session (peak {StressMemory.Mib(loaded.PeakRssBytes)})"));
        GC.KeepAlive(engine);
        if (statistics.Sessions != expected)
        {
            Console.Error.WriteLine($"memory: expected {expected} sessions, the engine holds {statistics.Sessions}");
            return 1;
        }
        if (statistics.HandshakesInProgress != 0)
        {
            // Every session is established: none may still hold handshake state (or a place in the handshake list).
            Console.Error.WriteLine($"memory: {statistics.HandshakesInProgress} handshakes still in progress");
            return 1;
        }
        return 0;
    }

    /// <summary>Runs <paramref name="count"/> handshakes one after the other, each from its own address.</summary>
    private static void Establish(ServerEngine engine, ProbeClock clock, Queue toClient, DtlsClientOptions clientOptions,
        byte[] scratch, int first, int count)
    {
        var server = new IPEndPoint(IPAddress.Loopback, 22334).Serialize();
        var toServer = new Queue();
        for (var i = first; i < first + count; i++)
        {
            // 10.x.y.z:port, distinct for every i up to 2^24 × ports.
            var address = new IPEndPoint(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 20000 + (i >> 24));
            var from = address.Serialize();
            var observer = new EstablishmentObserver();
            var client = new ClientEngine(clientOptions, server, toServer, observer, SystemRandomSource.Instance, scratch);
            client.Start();
            for (var round = 0; round < 16 && !observer.Established && !client.IsClosed; round++)
            {
                while (toServer.TryTake(out var datagram))
                {
                    engine.ProcessDatagram(from, datagram);
                }
                while (toClient.TryTake(out var datagram))
                {
                    client.ProcessDatagram(datagram);
                }
            }
            if (!observer.Established)
            {
                throw new InvalidOperationException($"handshake {i} did not complete");
            }
            // The figure is "with CID negotiated" only if every session got one (and "without" only if none did).
            if (client.SendsConnectionId != (clientOptions.ConnectionIdLength is not null))
            {
                throw new InvalidOperationException($"handshake {i}: the client {(client.SendsConnectionId ? "uses" : "got no")} CID");
            }
            // The client is the load generator, not the server: it goes.
            client.Dispose();
        }
    }

    /// <summary>Lets the clock pass two cipher-release periods (all sessions idle), then collects and trims.</summary>
    private static StressMemory Settle(ServerEngine engine, ProbeClock clock, DtlsServerOptions options)
    {
        var until = clock.NowMs + (2 * (long)options.ReleaseIdleCiphersAfter.TotalMilliseconds) + 1000;
        while (clock.NowMs < until)
        {
            clock.Advance(ServerEngine.TickInterval);
            engine.OnTick();
        }
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        NativeHeap.Trim();
        return StressMemory.Measure();
    }

    /// <summary>A clock that moves only when told (the engine's timers count in its milliseconds).</summary>
    private sealed class ProbeClock : TimeProvider
    {
        private long _ticks = TimeSpan.FromDays(1).Ticks;

        public long NowMs => _ticks / TimeSpan.TicksPerMillisecond;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    /// <summary>Datagrams waiting for the other side (copies: the sender's buffer is reused).</summary>
    private sealed class Queue : IDatagramSender
    {
        private readonly Queue<byte[]> _datagrams = new();

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer) => _datagrams.Enqueue(datagram.ToArray());

        public bool TryTake(out byte[] datagram) => _datagrams.TryDequeue(out datagram!);
    }
}
