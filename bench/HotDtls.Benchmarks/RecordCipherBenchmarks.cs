using System.Buffers.Binary;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using HotDtls.Crypto;
using HotDtls.Records;

namespace HotDtls.Benchmarks;

/// <summary>The record protections <see cref="RecordCipherBenchmarks"/> compares.</summary>
public enum RecordCipherKind
{
    /// <summary>TLS_PSK_WITH_AES_128_GCM_SHA256 through <see cref="AeadRecordCipher"/> (AesGcm): the reference.</summary>
    Aes128Gcm,

    /// <summary>AES-128-CCM, 16-byte tag (<see cref="AesCcmRecordCipher"/>).</summary>
    Aes128Ccm,

    /// <summary>AES-128-CCM_8, 8-byte tag (<see cref="AesCcmRecordCipher"/>).</summary>
    Aes128Ccm8,

    /// <summary>ChaCha20-Poly1305 (<see cref="ChaCha20Poly1305RecordCipher"/>, after any move to libsodium).</summary>
    ChaCha20Poly1305,

    /// <summary>AES-128-CBC + HMAC-SHA256, encrypt-then-MAC (<see cref="AesCbcHmacSha256RecordCipher"/>).</summary>
    Aes128CbcHmacSha256,

    /// <summary>The same AES-128-CCM records through <see cref="AesCcm"/>: the baseline CCM was built to beat.</summary>
    BclAesCcm,
}

/// <summary>
/// Sealing and opening one application-data record body in place, per record protection, the way the record layer
/// does it: the plaintext already at the record IV's offset, a fresh sequence number per seal.
/// </summary>
/// <remarks>
/// Opening in place destroys the ciphertext, so <see cref="OpenInPlace"/> first copies a pristine sealed body back
/// into the work buffer (tens of nanoseconds at 1200 bytes; <see cref="RecordProtectionBenchmarks.RestoreCopy"/>
/// measures it alone). Each cipher is set up and then used for a few hundred records before measuring, so a
/// ChaCha20-Poly1305 direction of small records has moved to libsodium (it moves after 64 records of at most 512
/// bytes) and one of 1200-byte records has not: both are its steady state. The CBC suite's seal includes drawing a
/// random IV per record.
/// </remarks>
[MemoryDiagnoser]
public class RecordCipherBenchmarks : IDisposable
{
    private const ushort Epoch = 1;
    private const ulong SealedSequence = 42;

    private IRecordCipher _writer = null!;
    private IRecordCipher _reader = null!;
    private byte[] _pristine = [];
    private byte[] _work = [];
    private byte[] _sealBuffer = [];
    private int _recordIvLength;
    private ulong _sequence = SealedSequence + 1;

    [Params(RecordCipherKind.Aes128Gcm, RecordCipherKind.Aes128Ccm, RecordCipherKind.Aes128Ccm8,
        RecordCipherKind.ChaCha20Poly1305, RecordCipherKind.Aes128CbcHmacSha256, RecordCipherKind.BclAesCcm)]
    public RecordCipherKind Cipher { get; set; }

    [Params(64, 1200)]
    public int PlaintextLength { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var keys = new byte[96];
        new Random(3).NextBytes(keys);
        _writer = Create(Cipher, keys);
        _reader = Create(Cipher, keys);
        _recordIvLength = RecordIvLength(Cipher);

        var plaintext = new byte[PlaintextLength];
        new Random(4).NextBytes(plaintext);
        _sealBuffer = new byte[SealedLength(Cipher, PlaintextLength)];
        var length = _writer.Seal(ContentType.ApplicationData, Epoch, SealedSequence, plaintext, _sealBuffer);
        _pristine = _sealBuffer.AsSpan(0, length).ToArray();
        _work = new byte[_pristine.Length];
        plaintext.CopyTo(_sealBuffer, _recordIvLength);

        // Reach the steady state (see the remarks), and check the round trip.
        for (var i = 0; i < 200; i++)
        {
            SealInPlace();
            if (OpenInPlace() != PlaintextLength)
            {
                throw new InvalidOperationException("The record cipher does not round-trip.");
            }
        }
        if (!_work.AsSpan(_recordIvLength, PlaintextLength).SequenceEqual(plaintext))
        {
            throw new InvalidOperationException("The record cipher does not round-trip.");
        }
    }

    [Benchmark]
    public int SealInPlace() => _writer.Seal(ContentType.ApplicationData, Epoch, _sequence++,
        _sealBuffer.AsSpan(_recordIvLength, PlaintextLength), _sealBuffer);

    [Benchmark]
    public int OpenInPlace()
    {
        _pristine.AsSpan().CopyTo(_work);
        return _reader.TryOpenInPlace(ContentType.ApplicationData, Epoch, SealedSequence, _work, out var length)
            ? length
            : -1;
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _writer?.Dispose();
        _reader?.Dispose();
        GC.SuppressFinalize(this);
    }

    private static IRecordCipher Create(RecordCipherKind kind, byte[] keys) => kind switch
    {
        RecordCipherKind.Aes128Gcm => new AeadRecordCipherAdapter(
            new AeadRecordCipher(CipherSuiteInfo.Aes128GcmSha256, keys.AsSpan(0, 16), keys.AsSpan(16, 4))),
        RecordCipherKind.Aes128Ccm => new AesCcmRecordCipher(keys.AsSpan(0, 16), keys.AsSpan(16, 4), AesCcmRecordCipher.CcmTagLength),
        RecordCipherKind.Aes128Ccm8 => new AesCcmRecordCipher(keys.AsSpan(0, 16), keys.AsSpan(16, 4), AesCcmRecordCipher.Ccm8TagLength),
        RecordCipherKind.ChaCha20Poly1305 => new ChaCha20Poly1305RecordCipher(keys.AsSpan(0, 32), keys.AsSpan(32, 12)),
        RecordCipherKind.Aes128CbcHmacSha256 => new AesCbcHmacSha256RecordCipher(keys.AsSpan(0, 16), keys.AsSpan(32, 32)),
        RecordCipherKind.BclAesCcm => new BclAesCcmRecordCipher(keys.AsSpan(0, 16), keys.AsSpan(16, 4)),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    private static int RecordIvLength(RecordCipherKind kind) => kind switch
    {
        RecordCipherKind.ChaCha20Poly1305 => ChaCha20Poly1305RecordCipher.RecordIvLength,
        RecordCipherKind.Aes128CbcHmacSha256 => AesCbcHmacSha256RecordCipher.RecordIvLength,
        _ => 8,
    };

    private static int SealedLength(RecordCipherKind kind, int plaintextLength) => kind switch
    {
        RecordCipherKind.ChaCha20Poly1305 => plaintextLength + ChaCha20Poly1305RecordCipher.Overhead,
        RecordCipherKind.Aes128CbcHmacSha256 => AesCbcHmacSha256RecordCipher.SealedLength(plaintextLength),
        RecordCipherKind.Aes128Ccm8 => plaintextLength + 8 + AesCcmRecordCipher.Ccm8TagLength,
        _ => plaintextLength + 8 + 16,
    };

    /// <summary><see cref="AeadRecordCipher"/> behind the interface the other rows use (one interface call each).</summary>
    private sealed class AeadRecordCipherAdapter(AeadRecordCipher cipher) : IRecordCipher
    {
        public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId,
            Span<byte> fragment, out int plaintextLength) =>
            cipher.TryOpenInPlace(type, epoch, sequenceNumber, fragment, out plaintextLength);

        public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> plaintext,
            Span<byte> destination) =>
            cipher.Seal(type, epoch, sequenceNumber, plaintext, destination);

        public void Dispose() => cipher.Dispose();
    }

    /// <summary>The RFC 6655 AES-128-CCM record over <see cref="AesCcm"/>, built as simply as that type allows.</summary>
    private sealed class BclAesCcmRecordCipher(ReadOnlySpan<byte> key, ReadOnlySpan<byte> fixedIv) : IRecordCipher
    {
        private readonly AesCcm _aes = new(key);
        private readonly uint _salt = BinaryPrimitives.ReadUInt32BigEndian(fixedIv);

        // The baseline seals records without a CID only (the benchmarks never pass one).
        public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId,
            Span<byte> fragment, out int plaintextLength)
        {
            plaintextLength = fragment.Length - 24;
            Span<byte> nonce = stackalloc byte[12];
            BinaryPrimitives.WriteUInt32BigEndian(nonce, _salt);
            fragment[..8].CopyTo(nonce[4..]);
            Span<byte> aad = stackalloc byte[13];
            WriteAad(aad, type, epoch, sequenceNumber, plaintextLength);
            try
            {
                var body = fragment.Slice(8, plaintextLength);
                _aes.Decrypt(nonce, body, fragment.Slice(8 + plaintextLength, 16), body, aad);
                return true;
            }
            catch (CryptographicException)
            {
                plaintextLength = 0;
                return false;
            }
        }

        public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> plaintext,
            Span<byte> destination)
        {
            Span<byte> nonce = stackalloc byte[12];
            BinaryPrimitives.WriteUInt32BigEndian(nonce, _salt);
            BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], ((ulong)epoch << 48) | sequenceNumber);
            nonce[4..].CopyTo(destination);
            Span<byte> aad = stackalloc byte[13];
            WriteAad(aad, type, epoch, sequenceNumber, plaintext.Length);
            _aes.Encrypt(nonce, plaintext, destination.Slice(8, plaintext.Length), destination.Slice(8 + plaintext.Length, 16), aad);
            return plaintext.Length + 24;
        }

        public void Dispose() => _aes.Dispose();

        private static void WriteAad(Span<byte> aad, ContentType type, ushort epoch, ulong sequenceNumber, int length)
        {
            BinaryPrimitives.WriteUInt64BigEndian(aad, ((ulong)epoch << 48) | sequenceNumber);
            aad[8] = (byte)type;
            BinaryPrimitives.WriteUInt16BigEndian(aad[9..], ProtocolVersion.Dtls12);
            BinaryPrimitives.WriteUInt16BigEndian(aad[11..], (ushort)length);
        }
    }
}
