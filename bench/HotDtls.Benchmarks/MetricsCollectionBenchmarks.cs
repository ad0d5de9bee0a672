using BenchmarkDotNet.Attributes;
using HotDtls.Benchmarks.Support;
using HotDtls.Client;

namespace HotDtls.Benchmarks;

/// <summary>
/// What one collection of the server's observable instruments costs (a listener such as dotnet-counters or an
/// OpenTelemetry reader makes one per interval, typically 1–60 s, on its own thread): each instrument's callback takes
/// the engine's lock once and reads its counters. This is the whole price of the pull model; the datagram path pays
/// nothing (<see cref="SteadyStateEchoBenchmarks"/> with <see cref="MetricsMode"/>).
/// </summary>
[MemoryDiagnoser]
public class MetricsCollectionBenchmarks : IDisposable
{
    private InMemoryLink _link = null!;
    private ClientEngine _client = null!;
    private MetricsAttachment _metrics = null!;

    [GlobalSetup]
    public void Setup()
    {
        _link = new InMemoryLink(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        _metrics = new MetricsAttachment(_link.Engine, MetricsMode.Listening);
        _client = _link.Handshake();
    }

    [Benchmark]
    public long CollectOnce()
    {
        _metrics.Collect();
        return _metrics.Total;
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
