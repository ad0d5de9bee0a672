using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Records;

/// <summary>The bytes of an AES-128 or AES-256 encryption key, held inline (no array, no object header).</summary>
[InlineArray(AesCbcHmacSha256RecordCipher.MaxEncryptionKeyLength)]
internal struct AesCbcKeyBytes
{
    private byte _element0;
}

/// <summary>
/// One direction's AES-CBC + HMAC-SHA256 record protection in the encrypt-then-MAC form of RFC 7366 (the form
/// negotiated with the encrypt_then_mac extension; TLS_PSK_WITH_AES_128_CBC_SHA256, RFC 5487). The MAC-then-encrypt
/// form of RFC 5246 §6.2.3.2 is deliberately not implemented.
/// </summary>
/// <remarks>
/// <code>
///   Record body (DTLSCiphertext.fragment, RFC 7366 §3 over RFC 5246 §6.2.3.2):
///
///   +---------+------------------------------------------------------+-----------+
///   | IV (16) | ENC(content || padding || padding_length)  (16·k)    | MAC (32)  |
///   +---------+------------------------------------------------------+-----------+
///   0         16                                                 16+16·k     16+16·k+32
///
///   ENC = AES-CBC with the record's IV; padding_length = p, then p bytes of value p before it (0 ≤ p ≤ 255),
///   so that content + padding + padding_length is a whole number of blocks. We send the least padding.
///
///   MAC = HMAC-SHA256(MAC_write_key, seq_num + type + version + length + IV + ENC(...))     (RFC 7366 §3)
///       seq_num = epoch (2) || sequence_number (6) (RFC 6347 §4.1.2.1); length = IV + ENC's (the MAC excluded)
/// </code>
/// <para>
/// Receiving: the MAC is checked over what was sent before anything is decrypted, so a padding oracle (Vaudenay,
/// Lucky 13) has nothing to see. Still, a bad MAC and a bad padding cost the same: the MAC is always computed, the
/// body always decrypted, the padding checked in constant time, and the two results combined without an early exit.
/// </para>
/// <para>
/// The IV is fresh and random per record (RFC 5246 §6.2.3.2: "The IV SHOULD be chosen at random, and MUST be
/// unpredictable"); the previous record's last ciphertext block, as TLS 1.0 used, would be predictable (BEAST).
/// </para>
/// <para>
/// AES runs through kept <see cref="ICryptoTransform"/>s (the one-shot <c>Aes.EncryptCbc</c> and <c>DecryptCbc</c>
/// allocate). A CBC transform keeps its chaining value (its last ciphertext block) from one call to the next and cannot
/// be reset without allocating, so neither direction lets a record depend on that value:
/// - sealing encrypts R || plaintext || padding in one call, R a block of random bytes. Its first output block,
///   E_K(R ⊕ chaining value), is uniformly random and unpredictable without the key, and it is what the next block
///   chains from: it is the record's IV, and the record is IV || ciphertext as CBC from that IV defines it, whatever
///   the transform held before. (This is NIST SP 800-38A Appendix C's "apply the forward cipher function … to a
///   nonce", here to a random one.) Nothing to track, so nothing can fall out of step: a transform whose chaining
///   value we had mis-tracked would otherwise seal records whose MAC verifies and whose first block decrypts wrong.
/// - opening decrypts IV || ciphertext in one call: the block after the IV decrypts with the IV as its predecessor,
///   the first output block is discarded.
/// A direction only seals or only opens, so each transform is made on first use, from the kept key. Scratch space is
/// rented per call and zeroed before it goes back. The CSPRNG is called for 64 blocks of R at a time, per thread (see
/// <c>TakeRandomBlock</c>). One thread at a time per object.
/// </para>
/// </remarks>
internal sealed class AesCbcHmacSha256RecordCipher : IRecordCipher
{
    /// <summary>The explicit IV at the start of every record body.</summary>
    public const int IvLength = 16;

    /// <summary>The record body starts with the IV.</summary>
    public const int RecordIvLength = IvLength;

    /// <summary>The HMAC-SHA256 output appended to every record.</summary>
    public const int MacLength = 32;

    /// <summary>The MAC key of the *_SHA256 suites (mac_key_length, RFC 5246 §6.3).</summary>
    public const int MacKeyLength = 32;

    /// <summary>The longest encryption key (AES-256).</summary>
    public const int MaxEncryptionKeyLength = 32;

    /// <summary>The shortest acceptable body: an IV, one ciphertext block, a MAC.</summary>
    public const int MinFragmentLength = IvLength + BlockSize + MacLength;

    /// <summary>
    /// The longest plaintext whose IV and ciphertext the MAC's uint16 length can still describe: 4094 blocks, one
    /// byte of which is padding_length.
    /// </summary>
    public const int MaxPlaintextLength = ((ushort.MaxValue - IvLength) / BlockSize * BlockSize) - 1;

    private const int BlockSize = 16;
    // RFC 5246 §6.2.3.2: padding_length is a uint8, so a receiver checks at most this many bytes of padding.
    private const int MaxPaddingCheck = 256;
    // Random blocks drawn from the CSPRNG per call of RandomNumberGenerator.Fill (see TakeRandomBlock).
    private const int IvsPerDraw = 64;

    // Random blocks for the IVs drawn ahead, per thread: RandomNumberGenerator.Fill costs ≈ 2 µs a call whatever its
    // size up to a few KB (measured on the development machine: half the cost of sealing a 64-byte record), so one call
    // fills IvsPerDraw of them. Thread-static, so no lock and no block is handed out twice; a session's records may be
    // sealed on different threads, which only means they draw from different pools. A block never leaves the process:
    // the IV is its encryption.
    [ThreadStatic]
    private static byte[]? t_ivPool;
    [ThreadStatic]
    private static int t_ivPoolUsed;

    private readonly IncrementalHash _hmac;
    private readonly IRandomSource? _ivSource;
    private ICryptoTransform? _encryptor;
    private ICryptoTransform? _decryptor;
    private AesCbcKeyBytes _key;
    private byte _keyLength;
    private bool _disposed;

    /// <summary>
    /// Keys one direction with its write encryption key (16 or 32 bytes) and its 32-byte write MAC key.
    /// </summary>
    public AesCbcHmacSha256RecordCipher(ReadOnlySpan<byte> encryptionKey, ReadOnlySpan<byte> macKey)
        : this(encryptionKey, macKey, ivSource: null)
    {
    }

    /// <summary>
    /// As the public constructor, with the random block each IV is made from (R in the remarks on the class) drawn
    /// from <paramref name="ivSource"/> rather than the operating system's CSPRNG when it is not null (tests: records
    /// reproducible from a fresh cipher).
    /// </summary>
    internal AesCbcHmacSha256RecordCipher(ReadOnlySpan<byte> encryptionKey, ReadOnlySpan<byte> macKey, IRandomSource? ivSource)
    {
        if (encryptionKey.Length is not (16 or 32))
        {
            CryptoThrowHelper.ThrowArgument(nameof(encryptionKey), "An AES key is 16 or 32 bytes.");
        }
        if (macKey.Length != MacKeyLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(macKey), "The MAC key of an HMAC-SHA256 suite is 32 bytes.");
        }
        _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, macKey);
        encryptionKey.CopyTo(_key);
        _keyLength = (byte)encryptionKey.Length;
        _ivSource = ivSource;
    }

    /// <summary>The body a plaintext of <paramref name="plaintextLength"/> bytes seals to: IV, padded ciphertext, MAC.</summary>
    public static int SealedLength(int plaintextLength) =>
        IvLength + (((plaintextLength / BlockSize) + 1) * BlockSize) + MacLength;

    /// <inheritdoc/>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, Span<byte> fragment, out int plaintextLength)
        => TryOpenInPlace(type, epoch, sequenceNumber, default, fragment, out plaintextLength);

    /// <inheritdoc/>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, Span<byte> fragment,
        out int plaintextLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // Whole blocks between IV and MAC, at least one; IV + ciphertext must fit the MAC's uint16 length.
        int ciphertextLength = fragment.Length - IvLength - MacLength;
        if (fragment.Length < MinFragmentLength || ciphertextLength % BlockSize != 0
            || IvLength + ciphertextLength > ushort.MaxValue)
        {
            plaintextLength = 0;
            return false;
        }

        Span<byte> ivAndCiphertext = fragment[..(IvLength + ciphertextLength)];
        ReadOnlySpan<byte> receivedMac = fragment.Slice(IvLength + ciphertextLength, MacLength);
        Span<byte> expectedMac = stackalloc byte[MacLength];
        ComputeMac(type, epoch, sequenceNumber, connectionId, ivAndCiphertext, expectedMac);
        int macGood = CryptographicOperations.FixedTimeEquals(expectedMac, receivedMac) ? 1 : 0;

        // Decrypted whether or not the MAC matched: a bad MAC must not answer sooner than a bad padding.
        var decryptor = _decryptor ??= CreateTransform(encrypt: false);
        int scratchLength = ivAndCiphertext.Length;
        byte[] scratch = ArrayPool<byte>.Shared.Rent(scratchLength);
        int good;
        try
        {
            ivAndCiphertext.CopyTo(scratch);
            // Block 0 (the IV) decrypts to garbage and sets the chaining value every later block needs.
            decryptor.TransformBlock(scratch, 0, scratchLength, scratch, 0);
            ReadOnlySpan<byte> padded = scratch.AsSpan(IvLength, ciphertextLength);
            good = macGood & CheckPadding(padded, out plaintextLength);
            if (good != 0)
            {
                padded[..plaintextLength].CopyTo(fragment[IvLength..]);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch.AsSpan(0, scratchLength));
            ArrayPool<byte>.Shared.Return(scratch);
        }

        if (good == 0)
        {
#if HOTDTLS_FUZZING
            // Fuzzing build: a record that fails authentication is taken as sealed by the fuzzing Seal below
            // (IV, plaintext and padding in clear), so mutated records still reach the handshake code.
            if (macGood == 0)
            {
                return CheckPadding(fragment.Slice(IvLength, ciphertextLength), out plaintextLength) != 0;
            }
#endif
            plaintextLength = 0;
            return false;
        }
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>Writes IV || ENC(plaintext || padding || padding_length) || MAC and returns <see cref="SealedLength"/>.</remarks>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> plaintext, Span<byte> destination)
        => Seal(type, epoch, sequenceNumber, default, plaintext, destination);

    /// <inheritdoc/>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> plaintext,
        Span<byte> destination)
    {
        int length = plaintext.Length;
        int total = SealedLength(length);
        RecordCipherCommon.CheckSealArguments(plaintext, MaxPlaintextLength, destination, total, sequenceNumber, RecordIvLength);
        ObjectDisposedException.ThrowIf(_disposed, this);

        int paddedLength = total - IvLength - MacLength;
#if HOTDTLS_FUZZING
        // Fuzzing build: records go out in clear (a zero IV, then plaintext and padding) with a zero MAC, so recorded
        // transcripts stay readable seeds.
        destination[..IvLength].Clear();
        plaintext.CopyTo(destination[IvLength..]);
        destination.Slice(IvLength + length, paddedLength - length).Fill((byte)(paddedLength - length - 1));
        destination.Slice(IvLength + paddedLength, MacLength).Clear();
#else
        EncryptThenMac(type, epoch, sequenceNumber, connectionId, plaintext, destination[..total]);
#endif
        return total;
    }

    /// <summary>Writes IV || ENC(plaintext || padding) || MAC to <paramref name="body"/>, exactly the sealed length.</summary>
    private void EncryptThenMac(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId,
        ReadOnlySpan<byte> plaintext, Span<byte> body)
    {
        int length = plaintext.Length;
        int cbcLength = body.Length - MacLength;
        // The least padding: padding_length and its padding bytes all hold p (RFC 5246 §6.2.3.2).
        byte padding = (byte)(cbcLength - IvLength - length - 1);

        var encryptor = _encryptor ??= CreateTransform(encrypt: true);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(cbcLength);
        try
        {
            // R || plaintext || padding: the transform turns R into the IV, E_K(R ⊕ its chaining value), and then
            // chains every plaintext block from that IV (see the remarks on the class).
            Span<byte> block = scratch.AsSpan(0, cbcLength);
            if (_ivSource is null)
            {
                TakeRandomBlock(block[..IvLength]);
            }
            else
            {
                _ivSource.Fill(block[..IvLength]);
            }
            // Read before anything is written over it: in-place sealing passes body[IvLength..] as the plaintext.
            plaintext.CopyTo(block[IvLength..]);
            block[(IvLength + length)..].Fill(padding);

            encryptor.TransformBlock(scratch, 0, cbcLength, scratch, 0);
            block.CopyTo(body);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch.AsSpan(0, cbcLength));
            ArrayPool<byte>.Shared.Return(scratch);
        }

        ComputeMac(type, epoch, sequenceNumber, connectionId, body[..cbcLength], body.Slice(cbcLength, MacLength));
    }

    /// <summary>Copies the next unused random block of this thread's pool to <paramref name="block"/>, refilling the pool when spent.</summary>
    private static void TakeRandomBlock(Span<byte> block)
    {
        var pool = t_ivPool;
        int used = t_ivPoolUsed;
        if (pool is null || used == pool.Length)
        {
            // Once per thread: the pool is allocated on a thread's first CBC record and reused after that.
            pool ??= t_ivPool = new byte[IvsPerDraw * IvLength];
            RandomNumberGenerator.Fill(pool);
            used = 0;
        }
        pool.AsSpan(used, IvLength).CopyTo(block);
        t_ivPoolUsed = used + IvLength;
    }

    /// <summary>Releases the AES transforms and the HMAC, and zeroes the kept encryption key.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _encryptor?.Dispose();
        _decryptor?.Dispose();
        _encryptor = null;
        _decryptor = null;
        _hmac.Dispose();
        CryptographicOperations.ZeroMemory(_key);
        _keyLength = 0;
    }

    /// <summary>
    /// Whether <paramref name="padded"/> (content || padding || padding_length, whole blocks) ends in well-formed
    /// padding: 1 if so, with the content's length, else 0 and 0. The time taken depends only on the length.
    /// </summary>
    /// <remarks>
    /// RFC 5246 §6.2.3.2: "Each uint8 in the padding data vector MUST be filled with the padding length value. The
    /// receiver MUST check this padding". Every one of the last min(256, length) bytes is read; a mask says which of
    /// them are padding. Any valid padding length is accepted, not only the least.
    /// </remarks>
    internal static int CheckPadding(ReadOnlySpan<byte> padded, out int contentLength)
    {
        int length = padded.Length;
        int paddingLength = padded[length - 1];
        // All ones when padding_length + 1 ≤ length (the padding fits), else zero.
        int good = ~((length - 1 - paddingLength) >> 31);
        int toCheck = Math.Min(MaxPaddingCheck, length);
        int bad = 0;
        for (int i = 1; i <= toCheck; i++)
        {
            // The i-th byte from the end is padding (or padding_length itself) when i ≤ padding_length + 1.
            int isPadding = ~((paddingLength + 1 - i) >> 31);
            bad |= isPadding & (padded[length - i] ^ paddingLength);
        }
        // bad is 0..255: all ones when it is zero.
        good &= (bad - 1) >> 31;
        contentLength = (length - 1 - paddingLength) & good;
        return good & 1;
    }

    private void ComputeMac(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId,
        ReadOnlySpan<byte> ivAndCiphertext, Span<byte> mac)
    {
        // 13 bytes, or the RFC 9146 §5 form for a record carrying a CID: only as many as are written.
        Span<byte> header = connectionId.IsEmpty
            ? stackalloc byte[RecordCipherCommon.AdditionalDataLength]
            : stackalloc byte[RecordCipherCommon.ConnectionIdAdditionalDataLength + connectionId.Length];
        header = header[..RecordCipherCommon.WriteAdditionalData(header, type, epoch, sequenceNumber, connectionId, ivAndCiphertext.Length)];
        _hmac.AppendData(header);
        _hmac.AppendData(ivAndCiphertext);
        _hmac.TryGetHashAndReset(mac, out _);
    }

    /// <summary>A CBC transform with IV 0 (the chaining is handled per record, see the remarks on the class).</summary>
    private ICryptoTransform CreateTransform(bool encrypt)
    {
        // The transform API takes arrays; this copy lives only until the transform holds the key natively.
        var keyCopy = _key[.._keyLength].ToArray();
        try
        {
            using var aes = Aes.Create();
            aes.Mode = CipherMode.CBC;
            aes.Padding = PaddingMode.None;
            var zeroIv = new byte[BlockSize];
            return encrypt ? aes.CreateEncryptor(keyCopy, zeroIv) : aes.CreateDecryptor(keyCopy, zeroIv);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
        }
    }
}
