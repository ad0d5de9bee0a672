using System.Net;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace HotDtls.Tests.Support;

/// <summary>
/// A <see cref="ServerEngine"/> with no socket: a fake clock, seeded randomness, captured output, and the Qt
/// example's settings (hint "Qt DTLS example server", key 1a2b3c4d5e6f, any identity).
/// </summary>
internal sealed class ServerHarness : IDisposable
{
    public static readonly byte[] Key = Convert.FromHexString("1a2b3c4d5e6f");

    /// <param name="configure">Changes to the Qt example's settings.</param>
    /// <param name="seed">Seeds the engine's randomness.</param>
    /// <param name="sessionCache">A session cache shared with another harness, as the receive loops of one server share it.</param>
    /// <param name="keyLog">Where the engine writes its NSS key log (null: none, the default).</param>
    public ServerHarness(Action<DtlsServerOptions>? configure = null, int seed = 1, HotDtls.Connection.SessionCache? sessionCache = null,
        HotDtls.Diagnostics.KeyLogWriter? keyLog = null)
    {
        Options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskIdentityHint = "Qt DTLS example server",
            PskStore = PskStore.Single(Key),
            TimeProvider = Time,
        };
        configure?.Invoke(Options);
        Options.ValidateServer();
        // A cluster node's keys, as DtlsServer makes them at start (each harness its own ring: nodes share only the keys).
        ClusterKeys = Options.Cluster is { } cluster ? HotDtls.Cluster.ClusterKeyRing.Create(cluster) : null;
        Engine = new ServerEngine(Options, Handler, Sender, NullLogger.Instance, new SeededRandom(seed), sessionCache: sessionCache,
            keyLog: keyLog, clusterKeys: ClusterKeys);
    }

    /// <summary>The cluster keys of a harness whose options make it a cluster node, else null.</summary>
    public HotDtls.Cluster.ClusterKeyRing? ClusterKeys { get; }

    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));
    public DtlsServerOptions Options { get; }
    public RecordingHandler Handler { get; } = new();
    public CapturingSender Sender { get; } = new();
    public ServerEngine Engine { get; }
    public SocketAddress Address => Options.EndPoint!.Serialize();

    public DtlsServerStatistics Statistics => Engine.GetStatistics();

    /// <summary>Delivers one datagram from <paramref name="from"/> (a copy: the engine decrypts in place).</summary>
    public void Deliver(SocketAddress from, ReadOnlySpan<byte> datagram)
    {
        var copy = datagram.ToArray();
        Engine.ProcessDatagram(from, copy);
    }

    /// <summary>Moves the fake clock and runs the engine's timers, as the server's periodic timer would.</summary>
    public void Advance(TimeSpan by)
    {
        var step = ServerEngine.TickInterval;
        for (var elapsed = TimeSpan.Zero; elapsed < by; elapsed += step)
        {
            Time.Advance(step < by - elapsed ? step : by - elapsed);
            Engine.OnTick();
        }
    }

    public void Dispose() => Engine.Dispose();
}
