using System.Net;
using BenchmarkDotNet.Attributes;
using HotDtls.Cookies;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Benchmarks;

/// <summary>
/// The stateless cookie exchange (RFC 6347 §4.2.1): <see cref="CookieVerifier.ComputeCookie"/> (one HMAC-SHA256, for a
/// HelloVerifyRequest) and <see cref="CookieVerifier.Verify"/> (two HMACs: current and previous secret, always both),
/// over an IPv4 peer address and the prefix and suffix of a ClientHello as HotDtls's client writes it. The baseline is
/// the same MAC input through one-shot <c>HMACSHA256.HashData</c>, which pays the key schedule on every call — what
/// the verifier did before it kept one keyed HMAC per secret.
/// </summary>
[MemoryDiagnoser]
public class CookieBenchmarks : IDisposable
{
    private CookieVerifier _verifier = null!;
    private byte[] _address = [];
    private byte[] _prefix = [];
    private byte[] _suffix = [];
    private byte[] _cookie = [];
    private byte[] _wrongCookie = [];
    private byte[] _output = new byte[CookieVerifier.CookieLength];
    private byte[] _macInput = [];
    private readonly byte[] _secret = new byte[32];
    private readonly byte[] _mac = new byte[32];

    [GlobalSetup]
    public void Setup()
    {
        _verifier = new CookieVerifier(TimeProvider.System, TimeSpan.FromMinutes(5), SystemRandomSource.Instance);
        var address = new IPEndPoint(IPAddress.Parse("192.0.2.17"), 40000).Serialize();
        _address = address.Buffer.Span[..address.Size].ToArray();

        // A second ClientHello (with a 32-byte cookie) offering both PSK suites, extended master secret and
        // renegotiation_info: the prefix is client_version..session_id, the suffix cipher_suites..compression_methods.
        var random = new byte[KeySchedule.RandomLength];
        new Random(5).NextBytes(random);
        var cookieField = new byte[CookieVerifier.CookieLength];
        ushort[] suites = [(ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, (ushort)CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384];
        var body = new byte[256];
        var length = ClientHello.Write(body, ProtocolVersion.Dtls12, random, [], cookieField, suites,
            offerExtendedMasterSecret: true, offerRenegotiationInfo: true);
        if (!ClientHello.TryParse(body.AsSpan(0, length), out var hello))
        {
            throw new InvalidOperationException("The benchmark ClientHello does not parse.");
        }
        _prefix = hello.CookieBindingPrefix.ToArray();
        _suffix = hello.CookieBindingSuffix.ToArray();

        // The verifier's CookieInput: three big-endian uint32 length prefixes, as CookieVerifier documents it.
        _macInput = [0, 0, 0, (byte)_address.Length, .. _address, 0, 0, 0, (byte)_prefix.Length, .. _prefix,
            0, 0, 0, (byte)_suffix.Length, .. _suffix];
        new Random(6).NextBytes(_secret);

        _cookie = new byte[CookieVerifier.CookieLength];
        _verifier.ComputeCookie(_address, _prefix, _suffix, _cookie);
        // Wrong in its last byte: the comparison is constant-time, so where it differs should not matter.
        _wrongCookie = (byte[])_cookie.Clone();
        _wrongCookie[^1] ^= 1;
        if (!VerifyValid() || VerifyInvalid())
        {
            throw new InvalidOperationException("The cookie verifier does not accept its own cookie.");
        }
    }

    [Benchmark(Baseline = true)]
    public byte OneShotHmac()
    {
        System.Security.Cryptography.HMACSHA256.HashData(_secret, _macInput, _mac);
        return _mac[0];
    }

    [Benchmark]
    public byte ComputeCookie()
    {
        _verifier.ComputeCookie(_address, _prefix, _suffix, _output);
        return _output[0];
    }

    [Benchmark]
    public bool VerifyValid() => _verifier.Verify(_address, _prefix, _suffix, _cookie);

    [Benchmark]
    public bool VerifyInvalid() => _verifier.Verify(_address, _prefix, _suffix, _wrongCookie);

    [GlobalCleanup]
    public void Dispose()
    {
        _verifier?.Dispose();
        GC.SuppressFinalize(this);
    }
}
