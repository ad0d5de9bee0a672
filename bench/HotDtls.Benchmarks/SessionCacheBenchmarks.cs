using BenchmarkDotNet.Attributes;
using HotDtls.Connection;

namespace HotDtls.Benchmarks;

/// <summary>
/// One full handshake's use of the session-ID cache on a full cache: store a new session (which evicts the oldest),
/// then look one up. Capacity is the parameter: a cache of 20 000 (the default) against 256.
/// </summary>
[MemoryDiagnoser]
public class SessionCacheBenchmarks : IDisposable
{
    private SessionCache _cache = null!;
    private readonly byte[] _identity = "Qt DTLS example client"u8.ToArray();
    private readonly byte[] _secret = new byte[48];
    private readonly byte[] _copy = new byte[48];
    private readonly byte[] _id = new byte[SessionCache.SessionIdLength];
    private ulong _next;

    [Params(256, 20_000)]
    public int Capacity { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _cache = new SessionCache(Capacity, TimeSpan.FromHours(1));
        for (var i = 0; i < 2 * Capacity; i++)
        {
            AddNext();
        }
    }

    [Benchmark]
    public bool AddAndLookUp()
    {
        AddNext();
        return _cache.TryGet(_id, 0, _copy, out _);
    }

    private void AddNext()
    {
        // Spread like random session_ids: a 64-bit mix of a counter in every word.
        var x = ++_next * 0x9E3779B97F4A7C15UL;
        for (var i = 0; i < 4; i++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(_id.AsSpan(i * 8), x ^ (x >> 29) * (ulong)(i + 1));
        }
        _cache.Add(_id, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, true, _secret, _identity, 0);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _cache?.Dispose();
        GC.SuppressFinalize(this);
    }
}
