using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Crypto;
using BclChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;

namespace HotDtls.Records;

/// <summary>The bytes of a ChaCha20 key, held inline (no array, no object header).</summary>
[InlineArray(ChaCha20Poly1305RecordCipher.KeyLength)]
internal struct ChaCha20Poly1305KeyBytes
{
    private byte _element0;
}

/// <summary>
/// One direction's ChaCha20-Poly1305 record protection (RFC 7905: TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 and its
/// siblings), on <see cref="BclChaCha20Poly1305"/> and, for a direction that carries many small records, libsodium.
/// </summary>
/// <remarks>
/// <code>
///   Record body (DTLSCiphertext.fragment, RFC 7905 §2; no explicit nonce, record_iv_length 0):
///
///   +--------------------------+-----------+
///   | ciphertext (plain len)   | tag (16)  |
///   +--------------------------+-----------+
///
///   nonce (12, RFC 7905 §2):  fixed_iv (12, from the key block)  XOR  ( 00 00 00 00 || epoch (2) || seq (6) )
///       "The 64-bit record sequence number is serialized as an 8-byte, big-endian value and padded on the left with
///       four 0x00 bytes"; in DTLS that number is epoch || sequence_number (RFC 6347 §4.1.2.1).
///
///   additional_data: the 13 bytes of RecordCipherCommon.WriteAdditionalData (plaintext length).
/// </code>
/// <para>
/// The backend: libsodium (through NSec) is about twice as fast as <see cref="BclChaCha20Poly1305"/> on small
/// records (≈ 0.5 against ≈ 1.0–1.3 µs at 64 bytes) and no faster from about 1 KB (≈ 1.65 against ≈ 1.5 µs at
/// 1200 bytes), but importing an NSec key costs ≈ 80–95 µs and ≈ 9 KB of guarded memory against ≈ 1 µs and ≈ 1 KB
/// (measured on the development machine; AeadLibraryBenchmarks and AeadKeySetupBenchmarks measure both). So, like
/// AES-256-GCM in <see cref="RecordDirection"/>, a direction starts on the BCL type and moves only when it has paid:
/// after <see cref="PromoteAfterRecords"/> records of at most <see cref="PromoteBelowLength"/> bytes. A direction of
/// full-size datagrams never moves, since libsodium would be slower for it.
/// </para>
/// <para>
/// The key is kept (inline) only while that move may still come; it is zeroed once the direction has moved, and never
/// kept where libsodium is missing. One thread at a time.
/// </para>
/// </remarks>
internal sealed class ChaCha20Poly1305RecordCipher : IRecordCipher
{
    /// <summary>ChaCha20 keys are 32 bytes.</summary>
    public const int KeyLength = 32;

    /// <summary>The fixed IV from the key block: the whole 12-byte nonce mask (RFC 7905 §2).</summary>
    public const int FixedIvLength = 12;

    /// <summary>No explicit nonce: the record body is ciphertext || tag.</summary>
    public const int RecordIvLength = 0;

    /// <summary>The Poly1305 tag.</summary>
    public const int TagLength = 16;

    /// <summary>Bytes a sealed body adds to its plaintext: the tag.</summary>
    public const int Overhead = TagLength;

    /// <summary>Records of at most <see cref="PromoteBelowLength"/> bytes after which a direction moves to libsodium.</summary>
    internal const int PromoteAfterRecords = 64;

    /// <summary>The longest plaintext counted towards the move: libsodium is clearly faster below it.</summary>
    internal const int PromoteBelowLength = 512;

    private const int NonceLength = 12;

    // The native cipher object: a BclChaCha20Poly1305, or an NSec Key once the direction has moved; never both.
    private IDisposable? _native;
    private ChaCha20Poly1305KeyBytes _key;
    // The fixed IV as its first 4 bytes and its last 8, the part the sequence number is XORed into.
    private uint _fixedIvHigh;
    private ulong _fixedIvLow;
    private bool _keyKept;
    private byte _smallRecords;

    /// <summary>Whether libsodium (through NSec) can be used on this machine.</summary>
    public static bool LibsodiumAvailable { get; } = ProbeLibsodium();

    /// <summary>Keys one direction with its 32-byte write key and its 12-byte write IV.</summary>
    public ChaCha20Poly1305RecordCipher(ReadOnlySpan<byte> key, ReadOnlySpan<byte> fixedIv)
    {
        if (key.Length != KeyLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(key), "A ChaCha20-Poly1305 key is 32 bytes.");
        }
        if (fixedIv.Length != FixedIvLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(fixedIv), "The fixed IV of a ChaCha20-Poly1305 suite is 12 bytes.");
        }
        _fixedIvHigh = BinaryPrimitives.ReadUInt32BigEndian(fixedIv);
        _fixedIvLow = BinaryPrimitives.ReadUInt64BigEndian(fixedIv[4..]);

        if (BclChaCha20Poly1305.IsSupported)
        {
            _native = new BclChaCha20Poly1305(key);
            if (LibsodiumAvailable)
            {
                key.CopyTo(_key);
                _keyKept = true;
            }
        }
        else if (LibsodiumAvailable)
        {
            _native = ImportLibsodiumKey(key);
        }
        else
        {
            throw new PlatformNotSupportedException("Neither the platform's crypto library nor libsodium provides ChaCha20-Poly1305 here.");
        }
    }

    /// <summary>Whether this direction has moved to libsodium.</summary>
    internal bool UsesLibsodium => _native is NSec.Cryptography.Key;

    /// <inheritdoc/>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, Span<byte> fragment, out int plaintextLength)
        => TryOpenInPlace(type, epoch, sequenceNumber, default, fragment, out plaintextLength);

    /// <inheritdoc/>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, Span<byte> fragment,
        out int plaintextLength)
    {
        var native = Native();
        // The length field of additional_data is a uint16; no real datagram exceeds it, but a slice might.
        if (fragment.Length < Overhead || fragment.Length - Overhead > ushort.MaxValue)
        {
            plaintextLength = 0;
            return false;
        }

        int length = fragment.Length - Overhead;
        Span<byte> nonce = stackalloc byte[NonceLength];
        WriteNonce(nonce, epoch, sequenceNumber);
        // 13 bytes, or the RFC 9146 §5 form for a record carrying a CID: only as many as are written.
        Span<byte> aad = connectionId.IsEmpty
            ? stackalloc byte[RecordCipherCommon.AdditionalDataLength]
            : stackalloc byte[RecordCipherCommon.ConnectionIdAdditionalDataLength + connectionId.Length];
        aad = aad[..RecordCipherCommon.WriteAdditionalData(aad, type, epoch, sequenceNumber, connectionId, length)];
        Span<byte> body = fragment[..length];
#if HOTDTLS_FUZZING
        // Fuzzing build: a record that fails authentication is taken as sealed by the fuzzing Seal below
        // (plaintext in clear), so mutated records still reach the handshake and application-data code.
        var clear = body.ToArray();
#endif

        bool authentic;
        if (native is NSec.Cryptography.Key sodiumKey)
        {
            // In place: ciphertext and plaintext start at the same byte.
            authentic = NSec.Cryptography.AeadAlgorithm.ChaCha20Poly1305.Decrypt(sodiumKey, nonce, aad, fragment, body);
        }
        else
        {
            try
            {
                ((BclChaCha20Poly1305)native).Decrypt(nonce, body, fragment.Slice(length, TagLength), body, aad);
                authentic = true;
            }
            catch (CryptographicException)
            {
                // AuthenticationTagMismatchException derives from CryptographicException, and the BCL type has no
                // non-throwing decrypt: a forged record costs an exception here, but must end as a dropped record.
                authentic = false;
            }
            if (authentic)
            {
                // Forged records do not count: a flood of them must not buy the attacker our key import.
                CountTowardsMove(length);
            }
        }

        if (!authentic)
        {
#if HOTDTLS_FUZZING
            clear.CopyTo(body);
            plaintextLength = clear.Length;
            return true;
#else
            plaintextLength = 0;
            return false;
#endif
        }
        plaintextLength = length;
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Writes ciphertext || tag and returns <c>Overhead + plaintext.Length</c>. The caller must never seal twice with
    /// the same (epoch, sequence number) under one key: it is the nonce, and a repeated ChaCha20-Poly1305 nonce reveals
    /// the XOR of the plaintexts and the one-time Poly1305 key.
    /// </remarks>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> plaintext, Span<byte> destination)
        => Seal(type, epoch, sequenceNumber, default, plaintext, destination);

    /// <inheritdoc/>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> plaintext,
        Span<byte> destination)
    {
        int length = plaintext.Length;
        int total = Overhead + length;
        RecordCipherCommon.CheckSealArguments(plaintext, ushort.MaxValue, destination, total, sequenceNumber, RecordIvLength);
        var native = Native();

#if HOTDTLS_FUZZING
        // Fuzzing build: records go out in clear with a zero tag, so recorded transcripts stay readable seeds.
        _ = native;
        plaintext.CopyTo(destination);
        destination.Slice(length, TagLength).Clear();
#else
        Span<byte> nonce = stackalloc byte[NonceLength];
        WriteNonce(nonce, epoch, sequenceNumber);
        // 13 bytes, or the RFC 9146 §5 form for a record carrying a CID: only as many as are written.
        Span<byte> aad = connectionId.IsEmpty
            ? stackalloc byte[RecordCipherCommon.AdditionalDataLength]
            : stackalloc byte[RecordCipherCommon.ConnectionIdAdditionalDataLength + connectionId.Length];
        aad = aad[..RecordCipherCommon.WriteAdditionalData(aad, type, epoch, sequenceNumber, connectionId, length)];

        if (native is NSec.Cryptography.Key sodiumKey)
        {
            NSec.Cryptography.AeadAlgorithm.ChaCha20Poly1305.Encrypt(sodiumKey, nonce, aad, plaintext, destination[..total]);
        }
        else
        {
            ((BclChaCha20Poly1305)native).Encrypt(nonce, plaintext, destination[..length], destination.Slice(length, TagLength), aad);
            CountTowardsMove(length);
        }
#endif
        return total;
    }

    /// <summary>Releases the native cipher object and zeroes the kept key.</summary>
    public void Dispose()
    {
        _native?.Dispose();
        _native = null;
        ForgetKey();
        _fixedIvHigh = 0;
        _fixedIvLow = 0;
        _smallRecords = 0;
    }

    private IDisposable Native()
    {
        var native = _native;
        if (native is null)
        {
            ThrowDisposed();
        }
        return native;
    }

    /// <summary>nonce = fixed_iv XOR (00 00 00 00 || epoch || sequence_number), RFC 7905 §2.</summary>
    private void WriteNonce(Span<byte> nonce, ushort epoch, ulong sequenceNumber)
    {
        BinaryPrimitives.WriteUInt32BigEndian(nonce, _fixedIvHigh);
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], _fixedIvLow ^ RecordCipherCommon.SequenceNumber64(epoch, sequenceNumber));
    }

    /// <summary>
    /// Counts a record sealed or opened on the BCL type; the one that reaches <see cref="PromoteAfterRecords"/> small
    /// records moves the direction to libsodium, after its own use of the BCL object has finished.
    /// </summary>
    private void CountTowardsMove(int plaintextLength)
    {
        if (!_keyKept || plaintextLength > PromoteBelowLength || ++_smallRecords < PromoteAfterRecords)
        {
            return;
        }
        var sodiumKey = ImportLibsodiumKey(_key);
        _native?.Dispose();
        _native = sodiumKey;
        ForgetKey();
    }

    private void ForgetKey()
    {
        CryptographicOperations.ZeroMemory(_key);
        _keyKept = false;
    }

    private static NSec.Cryptography.Key ImportLibsodiumKey(ReadOnlySpan<byte> key) =>
        // Default export policy: the key never needs to leave libsodium's guarded memory again.
        NSec.Cryptography.Key.Import(NSec.Cryptography.AeadAlgorithm.ChaCha20Poly1305, key,
            NSec.Cryptography.KeyBlobFormat.RawSymmetricKey);

    private static bool ProbeLibsodium()
    {
        try
        {
            // Creating the algorithm object initialises libsodium; ChaCha20-Poly1305 needs no particular CPU.
            return NSec.Cryptography.AeadAlgorithm.ChaCha20Poly1305 is not null;
        }
        catch (Exception exception) when (exception is DllNotFoundException or TypeInitializationException
                                              or PlatformNotSupportedException or InvalidOperationException)
        {
            // No usable libsodium on this platform: the BCL type serves every record.
            return false;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(ChaCha20Poly1305RecordCipher));
}
