using System.Buffers;
using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>
/// The TLS 1.2 pseudorandom function (RFC 5246 §5), which DTLS 1.2 uses unchanged (RFC 6347 §4.2).
/// </summary>
/// <remarks>
/// <code>
///   PRF(secret, label, seed) = P_hash(secret, label + seed)
///
///   P_hash(secret, seed) = HMAC_hash(secret, A(1) + seed) +
///                          HMAC_hash(secret, A(2) + seed) + ...
///   A(0) = seed
///   A(i) = HMAC_hash(secret, A(i-1))
/// </code>
/// "P_hash can be iterated as many times as necessary to produce the required quantity of data"; the
/// last block is truncated. The hash is SHA-256 unless the suite names another (RFC 5246 §5).
/// </remarks>
internal static class Prf
{
    /// <summary>The largest PRF hash output of a supported suite (SHA-384).</summary>
    public const int MaxHashLength = 48;

    // Every label + seed HotDtls uses (at most "extended master secret" + a SHA-384 hash, or a label and
    // two 32-byte randoms) fits here with A(i) in front; anything longer is rented instead.
    private const int StackBufferLength = 256;

    /// <summary>
    /// Fills <paramref name="output"/> with PRF(secret, label, seed), allocating nothing: HMAC is composed from the
    /// hash (RFC 2104: H(K ^ opad || H(K ^ ipad || m))) over stack buffers. <paramref name="output"/> must not overlap
    /// the inputs (it throws if it does): output blocks are written while the secret is still being read.
    /// The label is ASCII without a terminator, e.g. <c>"master secret"u8</c>.
    /// </summary>
    /// <remarks>
    /// A keyed <see cref="IncrementalHash"/> is faster per block but costs an object per key: it is used where one key
    /// serves several derivations (the master secret: <see cref="Derive(IncrementalHash, HashAlgorithmName, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>);
    /// this form serves a key that is used once (the premaster secret).
    /// </remarks>
    public static void Derive(
        HashAlgorithmName hash,
        ReadOnlySpan<byte> secret,
        ReadOnlySpan<byte> label,
        ReadOnlySpan<byte> seed,
        Span<byte> output)
    {
        var mac = new ComposedHmac(hash, secret);
        try
        {
            Expand(ref mac, HashLength(hash), label, seed, output, secret);
        }
        finally
        {
            mac.Clear();
        }
    }

    /// <summary>
    /// Fills <paramref name="output"/> with PRF(secret, label, seed) where <paramref name="keyedHmac"/> is an HMAC of
    /// <paramref name="hash"/> keyed with the secret; it is left reset, ready for the next derivation.
    /// </summary>
    public static void Derive(
        IncrementalHash keyedHmac,
        HashAlgorithmName hash,
        ReadOnlySpan<byte> label,
        ReadOnlySpan<byte> seed,
        Span<byte> output)
    {
        ArgumentNullException.ThrowIfNull(keyedHmac);
        var mac = new KeyedHmac(keyedHmac);
        Expand(ref mac, HashLength(hash), label, seed, output, default);
    }

    /// <summary>P_hash (RFC 5246 §5) over any HMAC: one loop for both key forms.</summary>
    private static void Expand<TMac>(ref TMac mac, int hashLength, ReadOnlySpan<byte> label, ReadOnlySpan<byte> seed,
        Span<byte> output, ReadOnlySpan<byte> secret)
        where TMac : struct, IMac
    {
        if (output.Overlaps(secret) || output.Overlaps(seed) || output.Overlaps(label))
        {
            CryptoThrowHelper.ThrowArgument(nameof(output), "The PRF output must not overlap its inputs.");
        }

        int bufferLength = hashLength + label.Length + seed.Length;

        byte[]? rented = null;
        Span<byte> buffer = bufferLength <= StackBufferLength
            ? stackalloc byte[StackBufferLength]
            : (rented = ArrayPool<byte>.Shared.Rent(bufferLength));
        buffer = buffer[..bufferLength];
        Span<byte> block = stackalloc byte[MaxHashLength];
        block = block[..hashLength];
        try
        {
            // buffer = A(i) || label || seed, so each output block is one HMAC over a contiguous span and
            // A(i) is replaced in place without copying the seed again.
            Span<byte> a = buffer[..hashLength];
            Span<byte> labelAndSeed = buffer[hashLength..];
            label.CopyTo(labelAndSeed);
            seed.CopyTo(labelAndSeed[label.Length..]);

            mac.Mac(labelAndSeed, a); // A(1)
            while (true)
            {
                if (output.Length >= hashLength)
                {
                    mac.Mac(buffer, output[..hashLength]);
                    output = output[hashLength..];
                }
                else if (!output.IsEmpty)
                {
                    mac.Mac(buffer, block);
                    block[..output.Length].CopyTo(output);
                    output = default;
                }

                if (output.IsEmpty)
                {
                    break;
                }

                // Through a separate block, so A(i) is read whole before it is overwritten.
                mac.Mac(a, block);
                block.CopyTo(a);
            }
        }
        finally
        {
            // A(i) and the last full block are PRF output: for the key block and master secret they are key material.
            CryptographicOperations.ZeroMemory(buffer);
            CryptographicOperations.ZeroMemory(block);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The output length of a supported PRF hash; throws for any other (API misuse).</summary>
    public static int HashLength(HashAlgorithmName hash)
    {
        if (hash == HashAlgorithmName.SHA256)
        {
            return 32;
        }

        if (hash == HashAlgorithmName.SHA384)
        {
            return 48;
        }

        CryptoThrowHelper.ThrowUnsupportedHash(nameof(hash));
        return 0;
    }

    /// <summary>An HMAC the PRF loop can call: a struct, so the loop is specialised for each and nothing is boxed.</summary>
    private interface IMac
    {
        void Mac(ReadOnlySpan<byte> source, Span<byte> destination);
    }

    private readonly struct KeyedHmac(IncrementalHash hmac) : IMac
    {
        public void Mac(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            hmac.AppendData(source);
            hmac.GetHashAndReset(destination);
        }
    }

    /// <summary>
    /// HMAC (RFC 2104) composed from one-shot hashes: the key padded to the hash's block and XORed with ipad and opad,
    /// held inline; each MAC hashes ipad || message on the stack, then opad || inner hash.
    /// </summary>
    private struct ComposedHmac : IMac
    {
        private const int MaxBlockLength = 128;
        private const int MaxMessageLength = StackBufferLength;

        private readonly HashAlgorithmName _hash;
        private readonly int _blockLength;
        private readonly int _hashLength;
        private PadBlock _innerPad;
        private PadBlock _outerPad;

        public ComposedHmac(HashAlgorithmName hash, ReadOnlySpan<byte> key)
        {
            _hash = hash;
            _hashLength = HashLength(hash);
            // SHA-256 works on 64-byte blocks, SHA-384 on 128-byte blocks (FIPS 180-4).
            _blockLength = _hashLength == 48 ? 128 : 64;
            Span<byte> inner = _innerPad;
            Span<byte> outer = _outerPad;
            inner = inner[.._blockLength];
            outer = outer[.._blockLength];
            // RFC 2104 §2: a key longer than the block is hashed first; a shorter one is padded with zeros.
            if (key.Length > _blockLength)
            {
                HashData(hash, key, inner);
            }
            else
            {
                key.CopyTo(inner);
            }
            for (var i = 0; i < _blockLength; i++)
            {
                outer[i] = (byte)(inner[i] ^ 0x5C);
                inner[i] ^= 0x36;
            }
        }

        public void Mac(ReadOnlySpan<byte> source, Span<byte> destination)
        {
            byte[]? rented = null;
            var length = _blockLength + source.Length;
            Span<byte> message = length <= MaxBlockLength + MaxMessageLength
                ? stackalloc byte[MaxBlockLength + MaxMessageLength]
                : (rented = ArrayPool<byte>.Shared.Rent(length));
            message = message[..length];
            Span<byte> outer = stackalloc byte[MaxBlockLength + MaxHashLength];
            outer = outer[..(_blockLength + _hashLength)];
            try
            {
                ((ReadOnlySpan<byte>)_innerPad)[.._blockLength].CopyTo(message);
                source.CopyTo(message[_blockLength..]);
                ((ReadOnlySpan<byte>)_outerPad)[.._blockLength].CopyTo(outer);
                HashData(_hash, message, outer[_blockLength..]);
                HashData(_hash, outer, destination);
            }
            finally
            {
                CryptographicOperations.ZeroMemory(message);
                CryptographicOperations.ZeroMemory(outer);
                if (rented is not null)
                {
                    ArrayPool<byte>.Shared.Return(rented);
                }
            }
        }

        /// <summary>Zeroes the padded keys.</summary>
        public void Clear()
        {
            ((Span<byte>)_innerPad).Clear();
            ((Span<byte>)_outerPad).Clear();
        }

        private static void HashData(HashAlgorithmName hash, ReadOnlySpan<byte> source, Span<byte> destination)
        {
            if (hash == HashAlgorithmName.SHA384)
            {
                SHA384.HashData(source, destination);
            }
            else
            {
                SHA256.HashData(source, destination);
            }
        }
    }

    /// <summary>One padded HMAC key, the largest block (SHA-384's 128 bytes), held inline.</summary>
    [System.Runtime.CompilerServices.InlineArray(128)]
    private struct PadBlock
    {
        private byte _element0;
    }
}
