using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Records;

/// <summary>One direction's key material held inline (no array, no object header): write key, fixed IV, MAC key.</summary>
[InlineArray(CipherSuiteInfo.MaxDirectionMaterialLength)]
internal struct DirectionKeyMaterial
{
    private byte _element0;
}

/// <summary>
/// One direction's record protection, a mutable struct held inline by its owner (a <see cref="RecordLayer"/> keeps
/// both directions of a connection in itself): the suite, the key material, and the native cipher object made from
/// them while the direction is in use. Always used through a field or a ref, never copied. AES-GCM runs here (the
/// layout below); every other protection through an <see cref="IRecordCipher"/> made by <see cref="RecordCiphers"/>.
/// </summary>
/// <remarks>
/// <code>
///   Record body (DTLSCiphertext.fragment, RFC 5246 §6.2.3.3):
///
///   +----------------------+--------------------------+-----------+
///   | nonce_explicit (8)   | ciphertext (plain len)   | tag (16)  |
///   +----------------------+--------------------------+-----------+
///   0                      8                 8+len              8+len+16
///
///   GCM nonce (12, RFC 5288 §3):   fixed_iv (4, "salt", from the key block) || nonce_explicit (8)
///
///   additional_data (13, RFC 5246 §6.2.3.3 with RFC 6347 §4.1.2.1's 64-bit seq_num = epoch || seq):
///   +-----------+---------------------+----------+-------------+-----------------+
///   | epoch (2) | sequence_number (6) | type (1) | version (2) | plain length (2)|
///   +-----------+---------------------+----------+-------------+-----------------+
/// </code>
/// <para>
/// We send epoch || sequence_number as nonce_explicit: RFC 5288 §3 says "each value of the
/// nonce_explicit MUST be distinct for each distinct invocation of the GCM encrypt function for any
/// fixed key", and a (epoch, sequence number) pair is never reused under one key, while 8 random bytes
/// would only make a collision unlikely. On receive the nonce is taken from the record as sent, never
/// recomputed, because RFC 5288 leaves its construction to the sender.
/// </para>
/// </remarks>
internal struct RecordDirection
{
    public const int ExplicitNonceLength = 8;
    public const int TagLength = 16;
    public const int Overhead = ExplicitNonceLength + TagLength;

    /// <summary>The largest sequence number a DTLS record header can carry (48 bits, RFC 6347 §4.1).</summary>
    public const ulong MaxSequenceNumber = RecordHeader.MaxSequenceNumber;

    internal const int FixedIvLength = 4;

    private const int NonceLength = FixedIvLength + ExplicitNonceLength;

    /// <summary>Whether AES-256-GCM records use libsodium (through NSec) rather than <see cref="AesGcm"/> on this machine.</summary>
    public static bool UseLibsodiumForAes256 { get; } = LibsodiumAes256Available();

    private static bool LibsodiumAes256Available()
    {
        try
        {
            return NSec.Cryptography.Aes256Gcm.IsSupported;
        }
        catch (Exception exception) when (exception is DllNotFoundException or TypeInitializationException or PlatformNotSupportedException)
        {
            // No usable libsodium on this platform: AesGcm serves both suites.
            return false;
        }
    }

    /// <summary>Slices one endpoint's read and write key material out of the key block.</summary>
    /// <remarks>
    /// <code>
    ///   key_block (RFC 5246 §6.3; AEAD suites have no MAC keys, CBC suites no IVs):
    ///   client_write_MAC_key[M] | server_write_MAC_key[M] | client_write_key[K] | server_write_key[K]
    ///   | client_write_IV[F] | server_write_IV[F]
    /// </code>
    /// A server reads what the client writes and writes with the server keys; a client the opposite.
    /// </remarks>
    public static void SplitKeyBlock(CipherSuiteInfo suite, ReadOnlySpan<byte> keyBlock, bool isServer,
        out DirectionKeys read, out DirectionKeys write)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (keyBlock.Length < suite.KeyBlockLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(keyBlock), "Key block is shorter than the cipher suite needs.");
        }
        int m = suite.MacKeyLength;
        int k = suite.KeyLength;
        int f = suite.FixedIvLength;
        var client = new DirectionKeys(keyBlock.Slice(2 * m, k), keyBlock.Slice((2 * m) + (2 * k), f), keyBlock.Slice(0, m));
        var server = new DirectionKeys(keyBlock.Slice((2 * m) + k, k), keyBlock.Slice((2 * m) + (2 * k) + f, f), keyBlock.Slice(m, m));
        read = isServer ? client : server;
        write = isServer ? server : client;
    }

    // AES-256-GCM moves to libsodium (NSec) where the CPU has AES-NI: 2.5–8× faster per record than AesGcm
    // (docs/benchmarks.md, AeadLibraryBenchmarks), whose per-call overhead dominates small records. But importing a
    // libsodium key costs an order of magnitude more than keying an AesGcm (guarded memory; docs/benchmarks.md), so a
    // direction starts on AesGcm
    // and moves after PromoteAfterRecords records, when the saving has paid for the import: handshakes and short
    // sessions never pay it. libsodium has no AES-128-GCM, so that suite stays on AesGcm.
    private const int PromoteAfterRecords = 64;

    // Write key, then fixed IV, then MAC key, each as long as the suite says.
    private DirectionKeyMaterial _material;
    // The native cipher object: an AesGcm (with its native key schedule) or an NSec Key once an AES-256-GCM direction
    // has moved to libsodium, or the IRecordCipher of another protection; one field holds whichever (memory per
    // session: docs/design.md). It is created on first use and released by ParkIfUnused while the session is idle, so
    // idle sessions keep only the key bytes.
    private IDisposable? _native;
    // The suite's CipherSuiteInfo.Index + 1, a byte rather than a reference (memory per session); 0 until keyed and
    // again once disposed: "no keys".
    private byte _suiteId;
    // AesGcm records since the last (re)creation, towards PromoteAfterRecords.
    private byte _records;
    private bool _usedSinceCheck;

    /// <summary>Whether a key is installed (false before <see cref="SetKey"/> and after <see cref="Dispose"/>).</summary>
    public readonly bool HasKey => _suiteId != 0;

    /// <summary>The suite whose keys are installed, or null.</summary>
    public readonly CipherSuiteInfo? Suite => _suiteId == 0 ? null : CipherSuiteInfo.FromIndex((byte)(_suiteId - 1));

    /// <summary>Whether the native cipher object currently exists (false while parked).</summary>
    public readonly bool IsActive => _native is not null;

    /// <summary>Whether this direction has moved to libsodium (AES-256-GCM after <c>PromoteAfterRecords</c> records).</summary>
    public readonly bool UsesLibsodium => _native is NSec.Cryptography.Key;

    /// <summary>
    /// Installs one direction's key material for <paramref name="suite"/>, releasing whatever was installed before. The
    /// lengths must be the suite's (checked: a mismatch is a bug). The native cipher object is made on first use.
    /// </summary>
    public void SetKey(CipherSuiteInfo suite, in DirectionKeys keys)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (keys.Key.Length != suite.KeyLength || keys.FixedIv.Length != suite.FixedIvLength || keys.MacKey.Length != suite.MacKeyLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(keys), "Key material lengths do not match the cipher suite.");
        }
        Dispose();
        keys.Key.CopyTo(_material);
        keys.FixedIv.CopyTo(_material[suite.KeyLength..]);
        keys.MacKey.CopyTo(_material[(suite.KeyLength + suite.FixedIvLength)..]);
        _suiteId = (byte)(suite.Index + 1);
    }

    [System.Diagnostics.CodeAnalysis.UnscopedRef]
    private readonly ReadOnlySpan<byte> Key => ((ReadOnlySpan<byte>)_material)[..Suite!.KeyLength];

    [System.Diagnostics.CodeAnalysis.UnscopedRef]
    private readonly ReadOnlySpan<byte> FixedIv => ((ReadOnlySpan<byte>)_material).Slice(Suite!.KeyLength, Suite.FixedIvLength);

    [System.Diagnostics.CodeAnalysis.UnscopedRef]
    private readonly ReadOnlySpan<byte> MacKey
        => ((ReadOnlySpan<byte>)_material).Slice(Suite!.KeyLength + Suite.FixedIvLength, Suite.MacKeyLength);

    /// <summary>Takes <paramref name="source"/>'s key and native objects, releasing ours; the source is left empty.</summary>
    public void MoveFrom(ref RecordDirection source)
    {
        Dispose();
        this = source;
        // The source's copy of the key is zeroed with the rest; the native objects now belong to this one.
        source = default;
    }

    /// <summary>
    /// Authenticates and decrypts a record body in place. On success the plaintext is
    /// <c>fragment.Slice(ExplicitNonceLength, plaintextLength)</c>.
    /// </summary>
    /// <remarks>
    /// <paramref name="type"/>, <paramref name="epoch"/> and <paramref name="sequenceNumber"/> are the
    /// record header's; <paramref name="fragment"/> is the whole record body, nonce_explicit || ciphertext || tag.
    /// </remarks>
    /// <returns>
    /// False for a body too short to hold nonce and tag (or too long for a uint16 plaintext length), or
    /// one that fails authentication; the caller drops the record (RFC 6347 §4.1.2.7). On failure the
    /// ciphertext region may have been zeroed.
    /// </returns>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, Span<byte> fragment, out int plaintextLength)
        => TryOpenInPlace(type, epoch, sequenceNumber, default, fragment, out plaintextLength);

    /// <summary>As above for a record that may carry a Connection ID (RFC 9146 §5: authenticated with the record).</summary>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, Span<byte> fragment,
        out int plaintextLength)
    {
        var suite = Suite;
        if (suite is null)
        {
            ThrowDisposed();
        }
        if (suite.Protection != RecordProtection.AesGcm)
        {
            return OtherCipher().TryOpenInPlace(type, epoch, sequenceNumber, connectionId, fragment, out plaintextLength);
        }
        // The length field of additional_data is a uint16; no real datagram exceeds it, but a slice might.
        if (fragment.Length < Overhead || fragment.Length - Overhead > ushort.MaxValue)
        {
            plaintextLength = 0;
            return false;
        }

        int length = fragment.Length - Overhead;
        Span<byte> nonce = stackalloc byte[NonceLength];
        FixedIv.CopyTo(nonce);
        fragment[..ExplicitNonceLength].CopyTo(nonce[FixedIvLength..]);

        // 13 bytes, or the RFC 9146 §5 form for a record carrying a CID: only as many as are written.
        Span<byte> aad = connectionId.IsEmpty
            ? stackalloc byte[RecordCipherCommon.AdditionalDataLength]
            : stackalloc byte[RecordCipherCommon.ConnectionIdAdditionalDataLength + connectionId.Length];
        aad = aad[..RecordCipherCommon.WriteAdditionalData(aad, type, epoch, sequenceNumber, connectionId, length)];

        Span<byte> body = fragment.Slice(ExplicitNonceLength, length);
        ReadOnlySpan<byte> tag = fragment.Slice(ExplicitNonceLength + length, TagLength);
#if HOTDTLS_FUZZING
        // Fuzzing build: a record that fails authentication is taken as sealed by the fuzzing Seal below
        // (plaintext in clear), so mutated records still reach the handshake and application-data code.
        var clear = body.ToArray();
#endif
        if (_native is NSec.Cryptography.Key sodiumKey)
        {
            _usedSinceCheck = true;
            // In place: ciphertext and plaintext start at the same byte. On failure the body is dropped whatever it holds.
            if (!NSec.Cryptography.AeadAlgorithm.Aes256Gcm.Decrypt(sodiumKey, nonce, aad,
                    fragment.Slice(ExplicitNonceLength, length + TagLength), body))
            {
#if HOTDTLS_FUZZING
                return AcceptInClear(clear, body, out plaintextLength);
#else
                plaintextLength = 0;
                return false;
#endif
            }
            plaintextLength = length;
            return true;
        }
        var cipher = Cipher();
        try
        {
            cipher.Decrypt(nonce, body, tag, body, aad);
        }
        catch (CryptographicException)
        {
#if HOTDTLS_FUZZING
            return AcceptInClear(clear, body, out plaintextLength);
#else
            // AuthenticationTagMismatchException derives from CryptographicException. AesGcm has no
            // non-throwing decrypt, so a forged record costs an exception here; it is still peer input
            // and must end as a dropped record, never as an exception out of the receive loop.
            plaintextLength = 0;
            return false;
#endif
        }

        // Only an authentic record counts towards the move to libsodium: forged ones must not buy a key import.
        CountRecord();
        plaintextLength = length;
        return true;
    }

#if HOTDTLS_FUZZING
    /// <summary>Fuzzing build: a record that failed authentication is taken as its bytes in clear.</summary>
    private static bool AcceptInClear(ReadOnlySpan<byte> clear, Span<byte> body, out int plaintextLength)
    {
        clear.CopyTo(body);
        plaintextLength = clear.Length;
        return true;
    }
#endif

    /// <summary>
    /// Protects a record body: writes nonce_explicit || ciphertext || tag to <paramref name="destination"/>
    /// and returns <c>Overhead + plaintext.Length</c>. <paramref name="plaintext"/> may be exactly
    /// <c>destination.Slice(ExplicitNonceLength, plaintext.Length)</c> to seal in place; any other overlap throws.
    /// </summary>
    /// <remarks>
    /// The caller must never seal twice with the same (epoch, 48-bit sequence number) under one key:
    /// it is the GCM nonce, and a repeated GCM nonce reveals the authentication key.
    /// </remarks>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> plaintext, Span<byte> destination)
        => Seal(type, epoch, sequenceNumber, default, plaintext, destination);

    /// <summary>As above for a record that may carry a Connection ID (RFC 9146 §5: authenticated with the record).</summary>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> plaintext,
        Span<byte> destination)
    {
        var suite = Suite;
        if (suite is null)
        {
            ThrowDisposed();
        }
        if (suite.Protection != RecordProtection.AesGcm)
        {
            return OtherCipher().Seal(type, epoch, sequenceNumber, connectionId, plaintext, destination);
        }
        int total = Overhead + plaintext.Length;
        RecordCipherCommon.CheckSealArguments(plaintext, ushort.MaxValue, destination, total, sequenceNumber, ExplicitNonceLength);

        // nonce_explicit = epoch || sequence_number, the same 8 bytes as the start of additional_data.
        Span<byte> explicitNonce = destination[..ExplicitNonceLength];
        BinaryPrimitives.WriteUInt64BigEndian(explicitNonce, ((ulong)epoch << 48) | sequenceNumber);

        Span<byte> nonce = stackalloc byte[NonceLength];
        FixedIv.CopyTo(nonce);
        explicitNonce.CopyTo(nonce[FixedIvLength..]);

        // 13 bytes, or the RFC 9146 §5 form for a record carrying a CID: only as many as are written.
        Span<byte> aad = connectionId.IsEmpty
            ? stackalloc byte[RecordCipherCommon.AdditionalDataLength]
            : stackalloc byte[RecordCipherCommon.ConnectionIdAdditionalDataLength + connectionId.Length];
        aad = aad[..RecordCipherCommon.WriteAdditionalData(aad, type, epoch, sequenceNumber, connectionId, plaintext.Length)];

#if HOTDTLS_FUZZING
        // Fuzzing build: records go out in clear with a zero tag, so recorded transcripts stay readable seeds.
        plaintext.CopyTo(destination.Slice(ExplicitNonceLength, plaintext.Length));
        destination.Slice(ExplicitNonceLength + plaintext.Length, TagLength).Clear();
#else
        if (_native is NSec.Cryptography.Key sodiumKey)
        {
            _usedSinceCheck = true;
            NSec.Cryptography.AeadAlgorithm.Aes256Gcm.Encrypt(sodiumKey, nonce, aad, plaintext,
                destination.Slice(ExplicitNonceLength, plaintext.Length + TagLength));
            return total;
        }
        Cipher().Encrypt(
            nonce,
            plaintext,
            destination.Slice(ExplicitNonceLength, plaintext.Length),
            destination.Slice(ExplicitNonceLength + plaintext.Length, TagLength),
            aad);
        CountRecord();
#endif
        return total;
    }

    /// <summary>
    /// Releases the native cipher object if no record was sealed or opened since the previous call; the next seal
    /// or open recreates it from the key (once, a few microseconds). Called periodically for established sessions, so a
    /// session idle for a whole period keeps only its key bytes.
    /// </summary>
    /// <returns>True if the cipher object was released by this call.</returns>
    public bool ParkIfUnused()
    {
        if (_usedSinceCheck || !IsActive)
        {
            _usedSinceCheck = false;
            return false;
        }
        ReleaseNative();
        return true;
    }

    private void ReleaseNative()
    {
        _native?.Dispose();
        _native = null;
    }

    /// <summary>The AesGcm for this record, made from the key if parked. Called only while not on libsodium.</summary>
    private AesGcm Cipher()
    {
        _usedSinceCheck = true;
        if (_native is not AesGcm aesGcm)
        {
            // Parked (or never used): made again from the key bytes.
            aesGcm = new AesGcm(Key, TagLength);
            _native = aesGcm;
        }
        return aesGcm;
    }

    /// <summary>
    /// Counts a record sealed, or opened and found authentic, through AesGcm; the <c>PromoteAfterRecords</c>th moves an
    /// AES-256 direction to libsodium, and the next records go through it.
    /// </summary>
    private void CountRecord()
    {
        if (Suite!.KeyLength == 32 && UseLibsodiumForAes256 && ++_records == PromoteAfterRecords && _native is AesGcm aesGcm)
        {
            _native = NSec.Cryptography.Key.Import(NSec.Cryptography.AeadAlgorithm.Aes256Gcm, Key,
                NSec.Cryptography.KeyBlobFormat.RawSymmetricKey);
            aesGcm.Dispose();
            _records = 0;
        }
    }

    /// <summary>The record cipher of a protection other than AES-GCM, made from the key material if parked.</summary>
    private IRecordCipher OtherCipher()
    {
        _usedSinceCheck = true;
        if (_native is not IRecordCipher cipher)
        {
            cipher = RecordCiphers.Create(Suite!, Key, FixedIv, MacKey);
            _native = cipher;
        }
        return cipher;
    }

    /// <summary>Releases the native cipher objects and zeroes the key: the direction has no key afterwards.</summary>
    public void Dispose()
    {
        ReleaseNative();
        CryptographicOperations.ZeroMemory(_material);
        _suiteId = 0;
        _records = 0;
        _usedSinceCheck = false;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDisposed() => throw new ObjectDisposedException(nameof(RecordDirection));
}

/// <summary>One direction's slices of the key block (RFC 5246 §6.3): write key, fixed IV (may be empty), MAC key (may be empty).</summary>
internal readonly ref struct DirectionKeys
{
    public DirectionKeys(ReadOnlySpan<byte> key, ReadOnlySpan<byte> fixedIv, ReadOnlySpan<byte> macKey)
    {
        Key = key;
        FixedIv = fixedIv;
        MacKey = macKey;
    }

    public ReadOnlySpan<byte> Key { get; }

    public ReadOnlySpan<byte> FixedIv { get; }

    public ReadOnlySpan<byte> MacKey { get; }
}
