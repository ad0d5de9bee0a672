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
    /// Fills <paramref name="output"/> with PRF(secret, label, seed). <paramref name="output"/> must not
    /// overlap the inputs (it throws if it does): output blocks are written while the secret is still
    /// being read for the next one.
    /// The label is ASCII without a terminator, e.g. <c>"master secret"u8</c>.
    /// </summary>
    public static void Derive(
        HashAlgorithmName hash,
        ReadOnlySpan<byte> secret,
        ReadOnlySpan<byte> label,
        ReadOnlySpan<byte> seed,
        Span<byte> output)
    {
        int hashLength = HashLength(hash);
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

        // One keyed HMAC for the whole expansion: its key schedule is set up once, not once per block (a one-shot
        // HMAC pays the provider lookup and key setup every call, ≈ twice the cost of a reused one).
        using var hmac = IncrementalHash.CreateHMAC(hash, secret);
        try
        {
            // buffer = A(i) || label || seed, so each output block is one HMAC over a contiguous span and
            // A(i) is replaced in place without copying the seed again.
            Span<byte> a = buffer[..hashLength];
            Span<byte> labelAndSeed = buffer[hashLength..];
            label.CopyTo(labelAndSeed);
            seed.CopyTo(labelAndSeed[label.Length..]);

            Hmac(hmac, labelAndSeed, a); // A(1)
            while (true)
            {
                if (output.Length >= hashLength)
                {
                    Hmac(hmac, buffer, output[..hashLength]);
                    output = output[hashLength..];
                }
                else if (!output.IsEmpty)
                {
                    Hmac(hmac, buffer, block);
                    block[..output.Length].CopyTo(output);
                    output = default;
                }

                if (output.IsEmpty)
                {
                    break;
                }

                // Through a separate block, so A(i) is read whole before it is overwritten.
                Hmac(hmac, a, block);
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

    private static void Hmac(IncrementalHash hmac, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        hmac.AppendData(source);
        hmac.GetHashAndReset(destination);
    }
}
