using BenchmarkDotNet.Attributes;
using HotDtls.Crypto;
using HotDtls.Records;

namespace HotDtls.Benchmarks;

/// <summary>
/// <see cref="AeadRecordCipher"/> per suite: sealing and opening one application-data record body in place.
/// </summary>
/// <remarks>
/// Opening in place destroys the ciphertext, so <see cref="OpenInPlace"/> first copies a pristine sealed body back into
/// the work buffer; <see cref="RestoreCopy"/> is that copy alone (the baseline), so Open's own cost is
/// <c>OpenInPlace − RestoreCopy</c>. <see cref="SealInPlace"/> needs no restoring: it seals whatever sits in the buffer
/// (the previous ciphertext) with a fresh sequence number each call, as the record layer does.
/// <see cref="OpenForgedInPlace"/> is a body with one tag bit flipped: AesGcm reports it by throwing, and the
/// record layer catches that, so this is what each forged record costs a server.
/// </remarks>
[MemoryDiagnoser]
public class RecordProtectionBenchmarks : IDisposable
{
    private const ushort Epoch = 1;
    private const ulong SealedSequence = 42;

    private AeadRecordCipher _clientWrite = null!;
    private AeadRecordCipher _clientRead = null!;
    private AeadRecordCipher _serverRead = null!;
    private AeadRecordCipher _serverWrite = null!;
    private byte[] _pristine = [];
    private byte[] _forged = [];
    private byte[] _work = [];
    private byte[] _sealBuffer = [];
    private ulong _sequence = SealedSequence + 1;

    [Params(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    public CipherSuite Suite { get; set; }

    [Params(64, 1200)]
    public int PlaintextLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var suite = CipherSuiteInfo.Get(Suite);
        var keyBlock = new byte[suite.KeyBlockLength];
        new Random(3).NextBytes(keyBlock);
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: false, out _clientRead, out _clientWrite);
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: true, out _serverRead, out _serverWrite);

        var plaintext = new byte[PlaintextLength];
        new Random(4).NextBytes(plaintext);
        _pristine = new byte[AeadRecordCipher.Overhead + PlaintextLength];
        _clientWrite.Seal(ContentType.ApplicationData, Epoch, SealedSequence, plaintext, _pristine);
        _forged = (byte[])_pristine.Clone();
        _forged[^1] ^= 1;
        _work = new byte[_pristine.Length];
        _sealBuffer = new byte[_pristine.Length];
        plaintext.CopyTo(_sealBuffer, AeadRecordCipher.ExplicitNonceLength);

        if (OpenInPlace() != PlaintextLength
            || !_work.AsSpan(AeadRecordCipher.ExplicitNonceLength, PlaintextLength).SequenceEqual(plaintext)
            || OpenForgedInPlace())
        {
            throw new InvalidOperationException("The record cipher does not round-trip.");
        }
    }

    [Benchmark(Baseline = true)]
    public void RestoreCopy() => _pristine.AsSpan().CopyTo(_work);

    [Benchmark]
    public int OpenInPlace()
    {
        _pristine.AsSpan().CopyTo(_work);
        return _serverRead.TryOpenInPlace(ContentType.ApplicationData, Epoch, SealedSequence, _work, out var length)
            ? length
            : -1;
    }

    [Benchmark]
    public int SealInPlace() => _clientWrite.Seal(ContentType.ApplicationData, Epoch, _sequence++,
        _sealBuffer.AsSpan(AeadRecordCipher.ExplicitNonceLength, PlaintextLength), _sealBuffer);

    [Benchmark]
    public bool OpenForgedInPlace()
    {
        _forged.AsSpan().CopyTo(_work);
        return _serverRead.TryOpenInPlace(ContentType.ApplicationData, Epoch, SealedSequence, _work, out _);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _clientWrite?.Dispose();
        _clientRead?.Dispose();
        _serverRead?.Dispose();
        _serverWrite?.Dispose();
        GC.SuppressFinalize(this);
    }
}
