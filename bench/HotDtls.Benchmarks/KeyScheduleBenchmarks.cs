using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using HotDtls.Crypto;

namespace HotDtls.Benchmarks;

/// <summary>
/// The TLS 1.2 PRF at each use in a PSK handshake (<see cref="KeySchedule"/> over <see cref="Prf"/>), with each
/// suite's PRF hash: SHA-256 for AES-128-GCM, SHA-384 for AES-256-GCM. A handshake derives one master secret (the
/// extended one when both sides offer RFC 7627, as HotDtls does), one key block and two verify_data per side.
/// </summary>
[MemoryDiagnoser]
public class KeyScheduleBenchmarks
{
    private HashAlgorithmName _hash;
    private byte[] _premaster = [];
    private byte[] _clientRandom = [];
    private byte[] _serverRandom = [];
    private byte[] _sessionHash = [];
    private byte[] _master = new byte[KeySchedule.MasterSecretLength];
    private byte[] _keyBlock = [];
    private byte[] _verifyData = new byte[KeySchedule.VerifyDataLength];

    [Params(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    public CipherSuite Suite { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var suite = CipherSuiteInfo.Get(Suite);
        _hash = suite.PrfHash;
        var random = new Random(6);
        // A 32-byte PSK: premaster = uint16 32 || 32 zero bytes || uint16 32 || PSK (RFC 4279 §2), 68 bytes.
        var psk = new byte[32];
        random.NextBytes(psk);
        _premaster = new byte[KeySchedule.PskPremasterSecretLength(psk.Length)];
        KeySchedule.WritePskPremasterSecret(psk, _premaster);
        _clientRandom = new byte[KeySchedule.RandomLength];
        _serverRandom = new byte[KeySchedule.RandomLength];
        _sessionHash = new byte[suite.PrfHashLength];
        random.NextBytes(_clientRandom);
        random.NextBytes(_serverRandom);
        random.NextBytes(_sessionHash);
        random.NextBytes(_master);
        _keyBlock = new byte[suite.KeyBlockLength];
    }

    [Benchmark]
    public byte MasterSecret()
    {
        KeySchedule.MasterSecret(_hash, _premaster, _clientRandom, _serverRandom, _master);
        return _master[0];
    }

    [Benchmark]
    public byte ExtendedMasterSecret()
    {
        KeySchedule.ExtendedMasterSecret(_hash, _premaster, _sessionHash, _master);
        return _master[0];
    }

    [Benchmark]
    public byte KeyBlock()
    {
        KeySchedule.KeyBlock(_hash, _master, _serverRandom, _clientRandom, _keyBlock);
        return _keyBlock[0];
    }

    [Benchmark]
    public byte VerifyData()
    {
        KeySchedule.VerifyData(_hash, _master, fromClient: true, _sessionHash, _verifyData);
        return _verifyData[0];
    }
}

/// <summary>
/// What one HMAC-SHA256 of 100 bytes costs, the PRF's and the cookie's building block: the one-shot
/// <see cref="HMACSHA256.HashData(ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/> that HotDtls uses (keying
/// every call) against an <see cref="IncrementalHash"/> keyed once and reused.
/// </summary>
[MemoryDiagnoser]
public class HmacReferenceBenchmarks : IDisposable
{
    private readonly byte[] _key = new byte[32];
    private readonly byte[] _message = new byte[100];
    private readonly byte[] _mac = new byte[HMACSHA256.HashSizeInBytes];
    private IncrementalHash _reused = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        random.NextBytes(_key);
        random.NextBytes(_message);
        _reused = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
    }

    [Benchmark(Baseline = true)]
    public int OneShotHashData() => HMACSHA256.HashData(_key, _message, _mac);

    [Benchmark]
    public int ReusedIncrementalHash()
    {
        _reused.AppendData(_message);
        return _reused.GetHashAndReset(_mac);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _reused?.Dispose();
        GC.SuppressFinalize(this);
    }
}
