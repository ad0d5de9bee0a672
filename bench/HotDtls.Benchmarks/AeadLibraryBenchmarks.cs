using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using NSec.Cryptography;
using BclChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;

namespace HotDtls.Benchmarks;

/// <summary>
/// AEAD libraries side by side: System.Security.Cryptography (<see cref="AesGcm"/> and
/// <see cref="BclChaCha20Poly1305"/>, over the platform's OpenSSL on Linux) against NSec.Cryptography (libsodium's
/// AES-256-GCM and ChaCha20-Poly1305), sealing and opening one record's worth of bytes with keys created once.
/// </summary>
/// <remarks>
/// Each category is one algorithm and one operation with System.Security.Cryptography as the baseline, so the Ratio
/// column is NSec ÷ BCL from the same run. libsodium has no AES-128-GCM, so that suite's rows are BCL alone. Inputs
/// as in a DTLS record: a 12-byte nonce, 13 bytes of additional data, a 16-byte tag; separate input and output
/// buffers for both libraries (the nonce is fixed: only the time matters here, nothing is kept).
/// "open forged" is a ciphertext with one tag bit flipped: BCL throws (AuthenticationTagMismatchException), NSec
/// returns false — the cost of each forged record a server is sent.
/// </remarks>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class AeadLibraryBenchmarks : IDisposable
{
    private const int TagLength = 16;

    private readonly byte[] _nonce = new byte[12];
    private readonly byte[] _aad = new byte[13];
    private AesGcm _bclAes128 = null!;
    private AesGcm _bclAes256 = null!;
    private BclChaCha20Poly1305 _bclChaCha = null!;
    private Key _nsecAes256 = null!;
    private Key _nsecChaCha = null!;
    private byte[] _plaintext = [];
    private byte[] _output = [];
    private byte[] _tag = new byte[TagLength];
    private byte[] _nsecOutput = [];
    // Sealed inputs for the opens: BCL keeps ciphertext and tag apart, NSec appends the tag.
    private byte[] _bclAes128Ciphertext = [];
    private byte[] _bclAes128Tag = new byte[TagLength];
    private byte[] _bclAes256Ciphertext = [];
    private byte[] _bclAes256Tag = new byte[TagLength];
    private byte[] _bclAes256ForgedTag = new byte[TagLength];
    private byte[] _bclChaChaCiphertext = [];
    private byte[] _bclChaChaTag = new byte[TagLength];
    private byte[] _nsecAes256Sealed = [];
    private byte[] _nsecAes256Forged = [];
    private byte[] _nsecChaChaSealed = [];

    [Params(64, 1200)]
    public int Length { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (!Aes256Gcm.IsSupported)
        {
            // libsodium's AES-256-GCM needs AES-NI and CLMUL; without them NSec offers only ChaCha20-Poly1305.
            throw new PlatformNotSupportedException("NSec.Cryptography.Aes256Gcm.IsSupported is false on this CPU.");
        }
        var random = new Random(9);
        var key16 = new byte[16];
        var key32 = new byte[32];
        random.NextBytes(key16);
        random.NextBytes(key32);
        random.NextBytes(_nonce);
        random.NextBytes(_aad);
        _plaintext = new byte[Length];
        random.NextBytes(_plaintext);
        _output = new byte[Length];
        _nsecOutput = new byte[Length + TagLength];

        _bclAes128 = new AesGcm(key16, TagLength);
        _bclAes256 = new AesGcm(key32, TagLength);
        _bclChaCha = new BclChaCha20Poly1305(key32);
        _nsecAes256 = Key.Import(AeadAlgorithm.Aes256Gcm, key32, KeyBlobFormat.RawSymmetricKey);
        _nsecChaCha = Key.Import(AeadAlgorithm.ChaCha20Poly1305, key32, KeyBlobFormat.RawSymmetricKey);

        _bclAes128Ciphertext = new byte[Length];
        _bclAes128.Encrypt(_nonce, _plaintext, _bclAes128Ciphertext, _bclAes128Tag, _aad);
        _bclAes256Ciphertext = new byte[Length];
        _bclAes256.Encrypt(_nonce, _plaintext, _bclAes256Ciphertext, _bclAes256Tag, _aad);
        _bclAes256ForgedTag = (byte[])_bclAes256Tag.Clone();
        _bclAes256ForgedTag[^1] ^= 1;
        _bclChaChaCiphertext = new byte[Length];
        _bclChaCha.Encrypt(_nonce, _plaintext, _bclChaChaCiphertext, _bclChaChaTag, _aad);
        _nsecAes256Sealed = new byte[Length + TagLength];
        AeadAlgorithm.Aes256Gcm.Encrypt(_nsecAes256, _nonce, _aad, _plaintext, _nsecAes256Sealed);
        _nsecAes256Forged = (byte[])_nsecAes256Sealed.Clone();
        _nsecAes256Forged[^1] ^= 1;
        _nsecChaChaSealed = new byte[Length + TagLength];
        AeadAlgorithm.ChaCha20Poly1305.Encrypt(_nsecChaCha, _nonce, _aad, _plaintext, _nsecChaChaSealed);

        // Same key, nonce and inputs: both libraries must produce the same bytes and open each other's.
        if (!_nsecAes256Sealed.AsSpan(0, Length).SequenceEqual(_bclAes256Ciphertext)
            || !_nsecAes256Sealed.AsSpan(Length).SequenceEqual(_bclAes256Tag)
            || !_nsecChaChaSealed.AsSpan(0, Length).SequenceEqual(_bclChaChaCiphertext)
            || !_nsecChaChaSealed.AsSpan(Length).SequenceEqual(_bclChaChaTag)
            || !NSecAes256GcmOpen() || NSecAes256GcmOpenForged() || BclAes256GcmOpenForged())
        {
            throw new InvalidOperationException("The AEAD libraries disagree.");
        }
    }

    [Benchmark(Baseline = true), BenchmarkCategory("AES-128-GCM seal")]
    public byte BclAes128GcmSeal()
    {
        _bclAes128.Encrypt(_nonce, _plaintext, _output, _tag, _aad);
        return _tag[0];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("AES-128-GCM open")]
    public byte BclAes128GcmOpen()
    {
        _bclAes128.Decrypt(_nonce, _bclAes128Ciphertext, _bclAes128Tag, _output, _aad);
        return _output[0];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("AES-256-GCM seal")]
    public byte BclAes256GcmSeal()
    {
        _bclAes256.Encrypt(_nonce, _plaintext, _output, _tag, _aad);
        return _tag[0];
    }

    [Benchmark, BenchmarkCategory("AES-256-GCM seal")]
    public byte NSecAes256GcmSeal()
    {
        AeadAlgorithm.Aes256Gcm.Encrypt(_nsecAes256, _nonce, _aad, _plaintext, _nsecOutput);
        return _nsecOutput[^1];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("AES-256-GCM open")]
    public byte BclAes256GcmOpen()
    {
        _bclAes256.Decrypt(_nonce, _bclAes256Ciphertext, _bclAes256Tag, _output, _aad);
        return _output[0];
    }

    [Benchmark, BenchmarkCategory("AES-256-GCM open")]
    public bool NSecAes256GcmOpen() =>
        AeadAlgorithm.Aes256Gcm.Decrypt(_nsecAes256, _nonce, _aad, _nsecAes256Sealed, _output);

    [Benchmark(Baseline = true), BenchmarkCategory("AES-256-GCM open forged")]
    public bool BclAes256GcmOpenForged()
    {
        try
        {
            _bclAes256.Decrypt(_nonce, _bclAes256Ciphertext, _bclAes256ForgedTag, _output, _aad);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    [Benchmark, BenchmarkCategory("AES-256-GCM open forged")]
    public bool NSecAes256GcmOpenForged() =>
        AeadAlgorithm.Aes256Gcm.Decrypt(_nsecAes256, _nonce, _aad, _nsecAes256Forged, _output);

    [Benchmark(Baseline = true), BenchmarkCategory("ChaCha20-Poly1305 seal")]
    public byte BclChaCha20Poly1305Seal()
    {
        _bclChaCha.Encrypt(_nonce, _plaintext, _output, _tag, _aad);
        return _tag[0];
    }

    [Benchmark, BenchmarkCategory("ChaCha20-Poly1305 seal")]
    public byte NSecChaCha20Poly1305Seal()
    {
        AeadAlgorithm.ChaCha20Poly1305.Encrypt(_nsecChaCha, _nonce, _aad, _plaintext, _nsecOutput);
        return _nsecOutput[^1];
    }

    [Benchmark(Baseline = true), BenchmarkCategory("ChaCha20-Poly1305 open")]
    public byte BclChaCha20Poly1305Open()
    {
        _bclChaCha.Decrypt(_nonce, _bclChaChaCiphertext, _bclChaChaTag, _output, _aad);
        return _output[0];
    }

    [Benchmark, BenchmarkCategory("ChaCha20-Poly1305 open")]
    public bool NSecChaCha20Poly1305Open() =>
        AeadAlgorithm.ChaCha20Poly1305.Decrypt(_nsecChaCha, _nonce, _aad, _nsecChaChaSealed, _output);

    [GlobalCleanup]
    public void Dispose()
    {
        _bclAes128?.Dispose();
        _bclAes256?.Dispose();
        _bclChaCha?.Dispose();
        _nsecAes256?.Dispose();
        _nsecChaCha?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>
/// What keying an AEAD costs: creating and disposing an <see cref="AesGcm"/> (HotDtls makes two per
/// connection side, one per direction, at each handshake), a BCL <see cref="BclChaCha20Poly1305"/>, and importing an
/// NSec <see cref="Key"/> for comparison.
/// </summary>
[MemoryDiagnoser]
public class AeadKeySetupBenchmarks
{
    private readonly byte[] _key16 = new byte[16];
    private readonly byte[] _key32 = new byte[32];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(10);
        random.NextBytes(_key16);
        random.NextBytes(_key32);
    }

    [Benchmark(Baseline = true)]
    public void BclAesGcm128CreateDispose()
    {
        using var aes = new AesGcm(_key16, 16);
    }

    [Benchmark]
    public void BclAesGcm256CreateDispose()
    {
        using var aes = new AesGcm(_key32, 16);
    }

    [Benchmark]
    public void BclChaCha20Poly1305CreateDispose()
    {
        using var chacha = new BclChaCha20Poly1305(_key32);
    }

    [Benchmark]
    public void NSecAes256GcmImportDispose()
    {
        using var key = Key.Import(AeadAlgorithm.Aes256Gcm, _key32, KeyBlobFormat.RawSymmetricKey);
    }

    [Benchmark]
    public void NSecChaCha20Poly1305ImportDispose()
    {
        using var key = Key.Import(AeadAlgorithm.ChaCha20Poly1305, _key32, KeyBlobFormat.RawSymmetricKey);
    }
}
