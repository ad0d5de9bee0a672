using BenchmarkDotNet.Attributes;
using HotDtls.Benchmarks.Support;

namespace HotDtls.Benchmarks;

/// <summary>
/// One full PSK handshake with cookie, in memory: HotDtls's <c>ClientConnection</c> against a <c>ServerEngine</c>
/// (ClientHello, HelloVerifyRequest, ClientHello with cookie, ServerHello…ServerHelloDone, ClientKeyExchange +
/// ChangeCipherSpec + Finished, ChangeCipherSpec + Finished), then the server closes the session (one close_notify) so
/// that every handshake meets the same, empty engine.
/// </summary>
/// <remarks>
/// Time and allocation are both sides together on one thread: the client's work roughly mirrors the server's (the same
/// PRF calls, the same number of seals and opens), so a server alone costs a little over half. Datagrams move through
/// queues allocated once, so the allocations are HotDtls's own.
/// </remarks>
[MemoryDiagnoser]
public class HandshakeBenchmarks : IDisposable
{
    private InMemoryLink _link = null!;

    [Params(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    public CipherSuite Suite { get; set; }

    [GlobalSetup]
    public void Setup() => _link = new InMemoryLink(Suite);

    [Benchmark]
    public void FullHandshake()
    {
        using var client = _link.Handshake();
        _link.Handler.LastEstablished!.Close();
        _link.ToClient.Clear();
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _link?.Dispose();
        GC.SuppressFinalize(this);
    }
}
