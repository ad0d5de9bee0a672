using BenchmarkDotNet.Attributes;
using HotDtls.Benchmarks.Support;

namespace HotDtls.Benchmarks;

/// <summary>How a <see cref="HandshakeBenchmarks"/> handshake agrees its keys.</summary>
public enum KeyExchange
{
    /// <summary>The PSK alone (RFC 4279): the suite as named.</summary>
    Psk,

    /// <summary>ECDHE_PSK over X25519 (RFC 5489, RFC 8442): the suite's ECDHE_PSK counterpart.</summary>
    EcdhePskX25519,

    /// <summary>ECDHE_PSK over secp256r1 (P-256).</summary>
    EcdhePskP256,
}

/// <summary>
/// One full handshake with cookie, in memory: HotDtls's <c>ClientConnection</c> against a <c>ServerEngine</c>
/// (ClientHello, HelloVerifyRequest, ClientHello with cookie, ServerHello…ServerHelloDone, ClientKeyExchange +
/// ChangeCipherSpec + Finished, ChangeCipherSpec + Finished), then the server closes the session (one close_notify) so
/// that every handshake meets the same, empty engine. <see cref="Exchange"/> chooses the key exchange: the PSK alone
/// (the figures docs/benchmarks.md gave before issue 10), or ECDHE_PSK over X25519 or P-256.
/// </summary>
/// <remarks>
/// <para>
/// Time and allocation are both sides together on one thread: the client's work roughly mirrors the server's (the same
/// PRF calls, the same number of seals and opens, and with ECDHE one key generation and one agreement each), so a
/// server alone costs a little over half. Datagrams move through queues allocated once, so the allocations are
/// HotDtls's own.
/// </para>
/// <para>
/// <see cref="Suite"/> names the record protection and PRF: with <see cref="KeyExchange.Psk"/> that suite itself, with
/// an ECDHE exchange its ECDHE_PSK counterpart of the same AEAD and PRF (TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256,
/// TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384, RFC 8442). So within one Suite the Exchange rows differ only by the key
/// exchange, and the Psk rows are the benchmark as it was before the parameter existed.
/// </para>
/// <para>
/// Why here and not in <see cref="ServerHandshakeBenchmarks"/>: that one replays recorded client flights, which needs
/// the server to draw the same secrets each time; an ECDHE ephemeral key comes from the OS RNG (libsodium or the
/// platform's ECDH, never the injectable <c>IRandomSource</c>), so a replayed client Finished no longer matches and
/// the handshake fails. The server's share of the ECDHE cost is about half the difference between an ECDHE row and the
/// Psk row of the same Suite; EphemeralKeyBenchmarks isolates the key generation and agreement.
/// </para>
/// </remarks>
[MemoryDiagnoser]
public class HandshakeBenchmarks : IDisposable
{
    private InMemoryLink _link = null!;

    [Params(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    public CipherSuite Suite { get; set; }

    [Params(KeyExchange.Psk, KeyExchange.EcdhePskX25519, KeyExchange.EcdhePskP256)]
    public KeyExchange Exchange { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _link = Exchange switch
        {
            KeyExchange.Psk => new InMemoryLink(Suite),
            KeyExchange.EcdhePskX25519 => new InMemoryLink(EcdheCounterpart(Suite), NamedGroup.X25519),
            _ => new InMemoryLink(EcdheCounterpart(Suite), NamedGroup.Secp256r1),
        };
        // Check once, outside the measurement, that the exchange asked for is the one negotiated.
        using var client = _link.Handshake();
        var expected = Exchange == KeyExchange.Psk ? Suite : EcdheCounterpart(Suite);
        if (client.NegotiatedSuite != expected)
        {
            throw new InvalidOperationException($"Negotiated {client.NegotiatedSuite}, not {expected}.");
        }
        _link.Handler.LastEstablished!.Close();
        _link.ToClient.Clear();
    }

    [Benchmark]
    public void FullHandshake()
    {
        using var client = _link.Handshake();
        _link.Handler.LastEstablished!.Close();
        _link.ToClient.Clear();
    }

    /// <summary>The ECDHE_PSK suite with the same record protection and PRF as the PSK suite <paramref name="suite"/>.</summary>
    private static CipherSuite EcdheCounterpart(CipherSuite suite) => suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384,
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "No ECDHE_PSK counterpart is benchmarked for this suite."),
    };

    [GlobalCleanup]
    public void Dispose()
    {
        _link?.Dispose();
        GC.SuppressFinalize(this);
    }
}
