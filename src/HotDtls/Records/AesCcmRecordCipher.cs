using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Records;

/// <summary>
/// One direction's AES-CCM record protection (RFC 6655: the *_AES_128_CCM, *_AES_256_CCM suites with a 16-byte tag
/// and the *_CCM_8 suites with an 8-byte one), built from two AES block transforms kept for the direction's life.
/// </summary>
/// <remarks>
/// <code>
///   Record body (DTLSCiphertext.fragment, RFC 6655 §3 / RFC 5246 §6.2.3.3):
///
///   +----------------------+--------------------------+------------------+
///   | nonce_explicit (8)   | ciphertext (plain len)   | tag (16, or 8)   |
///   +----------------------+--------------------------+------------------+
///
///   CCM nonce (12, RFC 6655 §3):  salt (4, the fixed IV from the key block) || nonce_explicit (8)
///   so the CCM length field is L = 15 − 12 = 3 bytes (RFC 3610 §2; NIST SP 800-38C A.2: q = 3).
///
///   additional_data: the 13 bytes of RecordCipherCommon.WriteAdditionalData (plaintext length).
///
///   CCM (RFC 3610 §2.2–2.3), 16-byte blocks:
///     B_0 = flags_B || nonce || l(m) (3)    flags_B = 64·Adata + 8·((M−2)/2) + (L−1)   (0x7A for M=16, 0x5A for M=8)
///     B_1 = 00 0D || additional_data || 00  (l(a) = 13 in 2 bytes, zero-padded to a block)
///     B_2.. = message, zero-padded to a block
///     T   = first M bytes of CBC-MAC_K(B_0 || B_1 || B_2 ..)          (CBC with IV 0, last block)
///     A_i = 02 || nonce || i (3)            S_i = E_K(A_i)
///     ciphertext = message ⊕ (S_1 || S_2 ..)   tag = T ⊕ first M bytes of S_0
/// </code>
/// <para>
/// Why not <see cref="AesCcm"/>: it allocates and costs several microseconds per call (docs/benchmarks.md). Kept
/// <see cref="ICryptoTransform"/>s do not allocate: an ECB encryptor makes the whole keystream S_0..S_m in one call,
/// a CBC encryptor the whole CBC-MAC in one call. A CBC transform keeps its chaining value (its last output block)
/// from one call to the next and cannot be reset without allocating, so each MAC starts its fresh chain by XORing
/// that value into B_0: the transform then computes E(B_0 ⊕ C_prev ⊕ C_prev) = E(B_0), as a chain from IV 0 does.
/// <c>_chain0</c>/<c>_chain1</c> hold that value, updated after every MAC, whether the record then authenticates or not.
/// </para>
/// <para>
/// We send epoch || sequence_number as nonce_explicit: RFC 6655 §3 says "each value of the nonce_explicit MUST be
/// distinct for each distinct invocation of the CCM encrypt function for any fixed key", and a (epoch, sequence number)
/// pair is never reused under one key. On receive the nonce is taken from the record as sent.
/// </para>
/// <para>
/// Scratch space is rented from <see cref="ArrayPool{T}.Shared"/> per call and zeroed before it goes back (it held
/// keystream and plaintext): a per-object array would cost every parked-and-recreated session its size. One thread at
/// a time: the chaining value makes the object stateful.
/// </para>
/// </remarks>
internal sealed class AesCcmRecordCipher : IRecordCipher
{
    /// <summary>nonce_explicit, the record IV of the CCM suites.</summary>
    public const int ExplicitNonceLength = 8;

    /// <summary>The record body starts with nonce_explicit.</summary>
    public const int RecordIvLength = ExplicitNonceLength;

    /// <summary>The implicit part of the nonce, the "salt" of RFC 6655 §3.</summary>
    public const int FixedIvLength = 4;

    /// <summary>The tag of the *_CCM suites.</summary>
    public const int CcmTagLength = 16;

    /// <summary>The tag of the *_CCM_8 suites.</summary>
    public const int Ccm8TagLength = 8;

    private const int BlockSize = 16;
    // L, the bytes of the message length in B_0 and of the counter in A_i: 15 − the 12-byte nonce.
    private const int LengthFieldSize = 3;
    // A_i's flags byte: L − 1 (RFC 3610 §2.3).
    private const byte CounterFlags = LengthFieldSize - 1;
    // B_0 || B_1 (length-prefixed additional_data), before the message.
    // B_0, then l(a) (2 bytes) and additional_data zero-padded to whole blocks: 2 blocks for the 13-byte form,
    // more for the RFC 9146 form with its CID.
    private static int MacHeaderLength(int aadLength) => BlockSize + ((2 + aadLength + BlockSize - 1) / BlockSize * BlockSize);

    // E_K(A_0 ..) in one call: an ECB encryptor has no state between calls.
    private readonly ICryptoTransform _counterEncryptor;
    // The CBC-MAC: a CBC encryptor made with IV 0, whose chaining value is _chain between calls.
    private readonly ICryptoTransform _macEncryptor;
    private readonly int _tagLength;
    private readonly byte _macFlags;
    private uint _salt;
    // The last CBC output block of _macEncryptor (the chaining value it starts its next call with), as two machine
    // words: XORed into B_0 so every MAC starts a fresh chain.
    private ulong _chain0;
    private ulong _chain1;
    private bool _disposed;

    /// <summary>
    /// Keys one direction with its write key (16 or 32 bytes), its 4-byte fixed IV, and the suite's tag length
    /// (<see cref="CcmTagLength"/> or <see cref="Ccm8TagLength"/>).
    /// </summary>
    public AesCcmRecordCipher(ReadOnlySpan<byte> key, ReadOnlySpan<byte> fixedIv, int tagLength)
    {
        if (key.Length is not (16 or 32))
        {
            CryptoThrowHelper.ThrowArgument(nameof(key), "An AES-CCM key is 16 or 32 bytes.");
        }
        if (fixedIv.Length != FixedIvLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(fixedIv), "The fixed IV of an AES-CCM suite is 4 bytes.");
        }
        if (tagLength is not (CcmTagLength or Ccm8TagLength))
        {
            CryptoThrowHelper.ThrowArgumentOutOfRange(nameof(tagLength), "AES-CCM suites have 16- or 8-byte tags.");
        }

        _tagLength = tagLength;
        // RFC 3610 §2.2: Adata (0x40, there is always additional_data) | M' = (M − 2) / 2 in bits 3–5 | L' = L − 1.
        _macFlags = (byte)(0x40 | (((tagLength - 2) / 2) << 3) | (LengthFieldSize - 1));
        _salt = BinaryPrimitives.ReadUInt32BigEndian(fixedIv);

        // The transform API takes arrays; this copy lives only until both transforms hold the key natively.
        var keyCopy = key.ToArray();
        try
        {
            using var aes = Aes.Create();
            aes.Padding = PaddingMode.None;
            aes.Mode = CipherMode.ECB;
            _counterEncryptor = aes.CreateEncryptor(keyCopy, null);
            aes.Mode = CipherMode.CBC;
            _macEncryptor = aes.CreateEncryptor(keyCopy, new byte[BlockSize]);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyCopy);
        }
    }

    /// <summary>The tag length this direction was keyed with: 16 (CCM) or 8 (CCM_8).</summary>
    public int TagLength => _tagLength;

    /// <summary>Bytes a sealed body adds to its plaintext: nonce_explicit and tag.</summary>
    public int Overhead => ExplicitNonceLength + _tagLength;

    /// <inheritdoc/>
    /// <remarks>
    /// On failure the ciphertext region is zeroed: it held the candidate plaintext of a record that did not
    /// authenticate, which must not reach anyone (RFC 3610 §2.5: "the decrypted message MUST NOT be revealed").
    /// </remarks>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, Span<byte> fragment, out int plaintextLength)
        => TryOpenInPlace(type, epoch, sequenceNumber, default, fragment, out plaintextLength);

    /// <inheritdoc/>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, Span<byte> fragment,
        out int plaintextLength)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // The length field of additional_data is a uint16; no real datagram exceeds it, but a slice might.
        if (fragment.Length < Overhead || fragment.Length - Overhead > ushort.MaxValue)
        {
            plaintextLength = 0;
            return false;
        }

        int length = fragment.Length - Overhead;
        ulong explicitNonce = BinaryPrimitives.ReadUInt64BigEndian(fragment);
        Span<byte> body = fragment.Slice(ExplicitNonceLength, length);
        ReadOnlySpan<byte> receivedTag = fragment.Slice(ExplicitNonceLength + length, _tagLength);

        // 13 bytes, or the RFC 9146 §5 form for a record carrying a CID: only as many as are written.
        Span<byte> aad = connectionId.IsEmpty
            ? stackalloc byte[RecordCipherCommon.AdditionalDataLength]
            : stackalloc byte[RecordCipherCommon.ConnectionIdAdditionalDataLength + connectionId.Length];
        aad = aad[..RecordCipherCommon.WriteAdditionalData(aad, type, epoch, sequenceNumber, connectionId, length)];
#if HOTDTLS_FUZZING
        // Fuzzing build: a record that fails authentication is taken as sealed by the fuzzing Seal below
        // (plaintext in clear), so mutated records still reach the handshake and application-data code.
        var clear = body.ToArray();
#endif

        int blocks = BlockCount(length);
        int scratchLength = MacHeaderLength(aad.Length) + (blocks * BlockSize);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(scratchLength);
        bool authentic;
        try
        {
            // Decrypt first (CCM authenticates the plaintext), keeping S_0 for the tag.
            GenerateKeystream(scratch, explicitNonce, blocks);
            Span<byte> expectedTag = stackalloc byte[BlockSize];
            scratch.AsSpan(0, BlockSize).CopyTo(expectedTag);
            RecordCipherCommon.Xor(body, scratch.AsSpan(BlockSize, length), body);

            Span<byte> mac = stackalloc byte[BlockSize];
            ComputeCbcMac(scratch, aad, explicitNonce, body, mac);
            expectedTag = expectedTag[.._tagLength];
            RecordCipherCommon.Xor(mac[.._tagLength], expectedTag, expectedTag);
            authentic = CryptographicOperations.FixedTimeEquals(expectedTag, receivedTag);
            CryptographicOperations.ZeroMemory(mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch.AsSpan(0, scratchLength));
            ArrayPool<byte>.Shared.Return(scratch);
        }

        if (!authentic)
        {
#if HOTDTLS_FUZZING
            clear.CopyTo(body);
            plaintextLength = clear.Length;
            return true;
#else
            CryptographicOperations.ZeroMemory(body);
            plaintextLength = 0;
            return false;
#endif
        }
        plaintextLength = length;
        return true;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Writes nonce_explicit || ciphertext || tag and returns <c>Overhead + plaintext.Length</c>. The caller must never
    /// seal twice with the same (epoch, sequence number) under one key: it is the CCM nonce, and a repeated CCM nonce
    /// reveals the XOR of the two plaintexts and lets tags be forged.
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
        ObjectDisposedException.ThrowIf(_disposed, this);

        // nonce_explicit = epoch || sequence_number, the same 8 bytes as the start of additional_data.
        ulong explicitNonce = RecordCipherCommon.SequenceNumber64(epoch, sequenceNumber);
        BinaryPrimitives.WriteUInt64BigEndian(destination, explicitNonce);
        Span<byte> ciphertext = destination.Slice(ExplicitNonceLength, length);
        Span<byte> tag = destination.Slice(ExplicitNonceLength + length, _tagLength);

#if HOTDTLS_FUZZING
        // Fuzzing build: records go out in clear with a zero tag, so recorded transcripts stay readable seeds.
        plaintext.CopyTo(ciphertext);
        tag.Clear();
#else
        // 13 bytes, or the RFC 9146 §5 form for a record carrying a CID: only as many as are written.
        Span<byte> aad = connectionId.IsEmpty
            ? stackalloc byte[RecordCipherCommon.AdditionalDataLength]
            : stackalloc byte[RecordCipherCommon.ConnectionIdAdditionalDataLength + connectionId.Length];
        aad = aad[..RecordCipherCommon.WriteAdditionalData(aad, type, epoch, sequenceNumber, connectionId, length)];

        int blocks = BlockCount(length);
        int scratchLength = MacHeaderLength(aad.Length) + (blocks * BlockSize);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(scratchLength);
        try
        {
            // MAC first: it reads the plaintext, which in-place sealing overwrites with ciphertext below.
            Span<byte> mac = stackalloc byte[BlockSize];
            ComputeCbcMac(scratch, aad, explicitNonce, plaintext, mac);
            GenerateKeystream(scratch, explicitNonce, blocks);
            RecordCipherCommon.Xor(plaintext, scratch.AsSpan(BlockSize, length), ciphertext);
            RecordCipherCommon.Xor(mac[.._tagLength], scratch.AsSpan(0, _tagLength), tag);
            CryptographicOperations.ZeroMemory(mac);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(scratch.AsSpan(0, scratchLength));
            ArrayPool<byte>.Shared.Return(scratch);
        }
#endif
        return total;
    }

    /// <summary>Releases both AES transforms (and with them the native key schedules).</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _counterEncryptor.Dispose();
        _macEncryptor.Dispose();
        _salt = 0;
        _chain0 = 0;
        _chain1 = 0;
    }

    private static int BlockCount(int length) => (length + BlockSize - 1) / BlockSize;

    /// <summary>
    /// Writes S_0 .. S_blocks (the keystream blocks for the tag and for <paramref name="blocks"/> blocks of message) to
    /// the start of <paramref name="scratch"/>.
    /// </summary>
    private void GenerateKeystream(byte[] scratch, ulong explicitNonce, int blocks)
    {
        int length = (blocks + 1) * BlockSize;
        Span<byte> counters = scratch.AsSpan(0, length);
        // A_i = flags || salt || nonce_explicit || i as two big-endian words: the first is the same for every block,
        // the second is the nonce's last 5 bytes then the 3-byte counter.
        ulong high = BlockHigh(CounterFlags, explicitNonce);
        ulong low = explicitNonce << (8 * LengthFieldSize);
        for (int i = 0; i <= blocks; i++)
        {
            Span<byte> block = counters.Slice(i * BlockSize, BlockSize);
            BinaryPrimitives.WriteUInt64BigEndian(block, high);
            BinaryPrimitives.WriteUInt64BigEndian(block[8..], low | (uint)i);
        }
        // ECB keeps no state between calls; in place, one call for all the blocks.
        _counterEncryptor.TransformBlock(scratch, 0, length, scratch, 0);
    }

    /// <summary>
    /// Computes the full 16-byte CBC-MAC T of the record (before truncation to the tag length) into
    /// <paramref name="mac"/>, using the start of <paramref name="scratch"/>.
    /// </summary>
    private void ComputeCbcMac(byte[] scratch, ReadOnlySpan<byte> aad, ulong explicitNonce, ReadOnlySpan<byte> message, Span<byte> mac)
    {
        int blocks = BlockCount(message.Length);
        int headerLength = MacHeaderLength(aad.Length);
        int length = headerLength + (blocks * BlockSize);
        Span<byte> input = scratch.AsSpan(0, length);

        // B_0: flags || nonce || l(m) in L = 3 bytes (message ≤ 65535 bytes, checked by the callers).
        BinaryPrimitives.WriteUInt64BigEndian(input, BlockHigh(_macFlags, explicitNonce));
        BinaryPrimitives.WriteUInt64BigEndian(input[8..], (explicitNonce << (8 * LengthFieldSize)) | (uint)message.Length);
        // Then l(a) as 2 bytes (0 < l(a) ≤ 278 < 2^16 − 2^8, RFC 3610 §2.2), additional_data, zero padding to a block.
        BinaryPrimitives.WriteUInt16BigEndian(input[BlockSize..], (ushort)aad.Length);
        aad.CopyTo(input[(BlockSize + 2)..]);
        input[(BlockSize + 2 + aad.Length)..headerLength].Clear();
        // The message, zero-padded to whole blocks.
        message.CopyTo(input[headerLength..]);
        input[(headerLength + message.Length)..].Clear();

        // Start a fresh chain: the transform XORs its chaining value into the first block, which this cancels.
        Span<ulong> first = MemoryMarshal.Cast<byte, ulong>(input[..BlockSize]);
        first[0] ^= _chain0;
        first[1] ^= _chain1;

        _macEncryptor.TransformBlock(scratch, 0, length, scratch, 0);

        ReadOnlySpan<byte> last = input[(length - BlockSize)..];
        _chain0 = MemoryMarshal.Read<ulong>(last);
        _chain1 = MemoryMarshal.Read<ulong>(last[8..]);
        last.CopyTo(mac);
    }

    // The first 8 bytes of B_0 or A_i: flags (1) || salt (4) || the first 3 bytes of nonce_explicit.
    private ulong BlockHigh(byte flags, ulong explicitNonce) =>
        ((ulong)flags << 56) | ((ulong)_salt << 24) | (explicitNonce >> 40);
}
