using System.Net;
using BenchmarkDotNet.Attributes;
using HotDtls.Benchmarks.Support;
using HotDtls.Client;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Server;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Benchmarks;

/// <summary>
/// The server's side of one full PSK handshake with cookie, alone: a client's flights recorded once are replayed into
/// a <c>ServerEngine</c> (ClientHello → HelloVerifyRequest, ClientHello with cookie → flight 4, flight 5 → flight 6),
/// then the session is closed (one close_notify) so the next handshake meets the same, empty engine. The time and the
/// bytes allocated are the server's alone — the figure docs/benchmarks.md holds to ≤ 1 KiB per handshake.
/// </summary>
/// <remarks>
/// Replaying needs every handshake to be the same: the server's randomness repeats (<see cref="RepeatingRandom"/>, so
/// the cookie secret, the server random and hence the keys are those of the recording) and its clock stands still (no
/// cookie rotation, no timer). The recorded datagrams are copied into buffers allocated once before each replay, since
/// the engine decrypts in place; the server's output is counted, not kept.
/// <para>
/// PSK suites only. An ECDHE_PSK server's ephemeral key comes from the OS RNG (libsodium for X25519, the platform's
/// ECDH for P-256), not from the injectable randomness: each replay would meet a new ServerKeyExchange key, derive
/// another premaster secret, and the recorded client Finished would fail. The key-exchange comparison is
/// <see cref="HandshakeBenchmarks"/> (client and server in memory, its Exchange parameter).
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class ServerHandshakeBenchmarks : IDisposable
{
    private static readonly byte[] Key = Convert.FromHexString("1a2b3c4d5e6f");

    private ServerEngine _engine = null!;
    private readonly BenchHandler _handler = new();
    private readonly SocketAddress _client = new IPEndPoint(IPAddress.Loopback, 40000).Serialize();
    private byte[][] _recorded = [];
    private byte[][] _replay = [];

    [Params(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    public CipherSuite Suite { get; set; }

    /// <summary>
    /// With the session-ID cache on (what <c>hotdtls serve</c> runs), every handshake also draws a session_id and
    /// stores the session. The replay repeats the same session_id, so the cache replaces one entry each time.
    /// </summary>
    [Params(false, true)]
    public bool SessionCache { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var clock = new StoppedClock();
        var serverOptions = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskIdentityHint = "Qt DTLS example server",
            PskStore = PskStore.Single(Key),
            TimeProvider = clock,
            EnableSessionResumption = SessionCache,
        };
        serverOptions.CipherSuites.Clear();
        serverOptions.CipherSuites.Add(Suite);
        serverOptions.ValidateServer();
        var toClient = new DatagramQueue();
        var outlet = new ServerOutlet(toClient);
        _engine = new ServerEngine(serverOptions, _handler, outlet, NullLogger.Instance, new RepeatingRandom());

        // Record a real client's flights 1, 3 and 5 against this engine.
        var clientOptions = new DtlsClientOptions { PskIdentity = "Qt DTLS example client", PskKey = Key, TimeProvider = clock };
        clientOptions.CipherSuites.Clear();
        clientOptions.CipherSuites.Add(Suite);
        clientOptions.ValidateClient();
        var toServer = new DatagramQueue();
        var recorded = new List<byte[]>();
        using var client = new ClientEngine(clientOptions, serverOptions.EndPoint.Serialize(), toServer, new NoEvents(), new RepeatingRandom());
        client.Start();
        for (var round = 0; round < 8 && !client.IsEstablished; round++)
        {
            for (var i = 0; i < toServer.Count; i++)
            {
                recorded.Add(toServer[i].ToArray());
                _engine.ProcessDatagram(_client, toServer[i]);
            }
            toServer.Clear();
            for (var i = 0; i < toClient.Count; i++)
            {
                client.ProcessDatagram(toClient[i]);
            }
            toClient.Clear();
        }
        if (!client.IsEstablished || _handler.LastEstablished is not { } session)
        {
            throw new InvalidOperationException("The recording handshake did not complete.");
        }
        session.Close();
        _recorded = [.. recorded];
        _replay = new byte[_recorded.Length][];
        for (var i = 0; i < _recorded.Length; i++)
        {
            _replay[i] = new byte[_recorded[i].Length];
        }
        outlet.Discard = true;
    }

    [Benchmark]
    public void ServerSideOfAFullHandshake()
    {
        var completed = _engine.GetStatistics().HandshakesCompleted;
        for (var i = 0; i < _recorded.Length; i++)
        {
            _recorded[i].CopyTo(_replay[i], 0);
            _engine.ProcessDatagram(_client, _replay[i]);
        }
        if (_engine.GetStatistics().HandshakesCompleted != completed + 1)
        {
            throw new InvalidOperationException("The replayed handshake did not complete.");
        }
        _handler.LastEstablished!.Close();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _engine?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The same bytes every time: every handshake draws the recording's secrets and randoms.</summary>
    private sealed class RepeatingRandom : IRandomSource
    {
        public void Fill(Span<byte> destination)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = (byte)(i * 31 + 7);
            }
        }
    }

    /// <summary>A clock that never moves: no cookie rotation, no timer, during the whole run.</summary>
    private sealed class StoppedClock : TimeProvider
    {
        public override long GetTimestamp() => 1_000_000_000;

        public override DateTimeOffset GetUtcNow() => new(2026, 12, 4, 0, 0, 0, TimeSpan.Zero);
    }

    private sealed class NoEvents : IClientEvents
    {
        public void OnEstablished()
        {
        }

        public void OnApplicationData(ReadOnlySpan<byte> plaintext)
        {
        }

        public void OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
        {
        }

        public void OnDropped(DropReason reason)
        {
        }
    }
}
