using BenchmarkDotNet.Attributes;
using HotDtls.Benchmarks.Support;
using HotDtls.Client;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Benchmarks;

/// <summary>
/// The steady-state datagram path of an established session: <c>ServerEngine.ProcessDatagram</c> of one
/// application-data record → record layer (replay check, open in place) → handler → <c>DtlsSession.Send</c> of the
/// same bytes (seal, send). The server's sender only counts, as a socket send hands bytes to the kernel. This must
/// allocate 0 B (the aim in docs/design.md; tests/HotDtls.Tests/Server/SteadyStateAllocationTests.cs asserts it).
/// </summary>
/// <remarks>
/// Every record needs a fresh sequence number, or the replay window drops it. So before each iteration
/// (<c>[IterationSetup]</c>, not timed) the real client seals <see cref="RingSize"/> records with consecutive sequence
/// numbers into a ring, and each invocation processes the next one: the iteration runs exactly <see cref="RingSize"/>
/// invocations (<c>[InvocationCount]</c>). <see cref="CheckAllDelivered"/> fails the benchmark unless the server delivered
/// and echoed every one of them. The ring is larger than the caches at 1200 bytes, so each datagram is read from memory,
/// as a freshly received one would partly be.
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(RingSize)]
public class SteadyStateEchoBenchmarks : IDisposable
{
    private const int RingSize = 32768;

    private InMemoryLink _link = null!;
    private ClientEngine _client = null!;
    private byte[] _payload = [];
    private byte[] _ring = [];
    private int _stride;
    private int _next;
    private long _deliveredBefore;
    private long _sentBefore;
    private MetricsAttachment? _metrics;

    [Params(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    public CipherSuite Suite { get; set; }

    [Params(64, 1200)]
    public int PayloadLength { get; set; }

    /// <summary>
    /// Whether the client offered Connection ID (an empty one for itself): its records then carry the server's 6-byte
    /// CID and are routed by it (RFC 9146), the server's answers stay plain.
    /// </summary>
    [Params(false, true)]
    public bool ConnectionId { get; set; }

    /// <summary>
    /// Without a meter, with the server's meter and nobody listening, or with a listener on every instrument: the
    /// datagram path must cost the same in all three (docs/benchmarks.md, "Metrics").
    /// </summary>
    [Params(MetricsMode.None, MetricsMode.Idle, MetricsMode.Listening)]
    public MetricsMode Metrics { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _link = new InMemoryLink(Suite, connectionIdLength: ConnectionId ? 0 : null);
        _metrics = new MetricsAttachment(_link.Engine, Metrics);
        _client = _link.Handshake();
        _link.Handler.Echo = true;
        _link.ServerOutput.Discard = true;
        _payload = new byte[PayloadLength];
        new Random(8).NextBytes(_payload);
        _stride = RecordLayer.RecordSize(CipherSuiteInfo.TryGet((ushort)Suite, out var info) ? info : null, 1, PayloadLength)
            // tls12_cid: the CID in the header and the real type inside (RFC 9146 §4).
            + (ConnectionId ? 6 + 1 : 0);
        _ring = new byte[RingSize * _stride];
    }

    [IterationSetup]
    public void SealRing()
    {
        for (var i = 0; i < RingSize; i++)
        {
            if (!_client.TrySend(_payload) || _link.ToServer.Count != 1 || _link.ToServer[0].Length != _stride)
            {
                throw new InvalidOperationException("The client did not seal one record of the expected size.");
            }
            _link.ToServer[0].CopyTo(_ring.AsSpan(i * _stride, _stride));
            _link.ToServer.Clear();
        }
        _next = 0;
        _deliveredBefore = _link.Handler.Datagrams;
        _sentBefore = _link.ServerOutput.DiscardedDatagrams;
    }

    [Benchmark]
    public void ProcessAndEcho()
    {
        var slot = _next++;
        _link.Engine.ProcessDatagram(_link.ClientAddress, _ring.AsSpan(slot * _stride, _stride));
    }

    [IterationCleanup]
    public void CheckAllDelivered()
    {
        var delivered = _link.Handler.Datagrams - _deliveredBefore;
        var echoed = _link.ServerOutput.DiscardedDatagrams - _sentBefore;
        if (delivered != _next || echoed != _next)
        {
            throw new InvalidOperationException($"The server delivered {delivered} and echoed {echoed} of {_next} records.");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _client?.Dispose();
        _metrics?.Dispose();
        _link?.Dispose();
        GC.SuppressFinalize(this);
    }
}
