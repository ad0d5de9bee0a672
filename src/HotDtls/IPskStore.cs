namespace HotDtls;

/// <summary>
/// Finds the pre-shared key for a PSK identity (RFC 4279 §2). The server asks once per handshake, after the
/// client's ClientKeyExchange arrives; the lookup may complete asynchronously (a database, a secrets service).
/// </summary>
/// <remarks>
/// Return <see langword="null"/> for an unknown identity. HotDtls then carries on with a random key, so an unknown
/// identity fails the handshake exactly as a wrong key does (RFC 4279 §2 and §5.3): a peer cannot probe for
/// valid identities. Keys are copied at once; the returned array is not kept.
/// </remarks>
public interface IPskStore
{
    /// <summary>Looks up the key for <paramref name="identity"/> (the raw identity bytes, usually UTF-8).</summary>
    /// <param name="identity">The psk_identity the client sent; valid only until the returned task completes.</param>
    /// <param name="cancellationToken">Cancelled when the handshake is abandoned or the server stops.</param>
    /// <returns>The key (1 to 64 bytes), or <see langword="null"/> when the identity is unknown.</returns>
    ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken);
}

/// <summary>Ready-made <see cref="IPskStore"/> implementations.</summary>
public static class PskStore
{
    /// <summary>The largest key HotDtls accepts, in bytes (RFC 4279 §5.3 requires at least 64).</summary>
    public const int MaxKeyLength = 64;

    /// <summary>A store that gives every identity the same key, as the Qt DTLS example server does.</summary>
    /// <param name="key">The key, 1 to <see cref="MaxKeyLength"/> bytes; copied.</param>
    public static IPskStore Single(ReadOnlySpan<byte> key) => new SingleKeyStore(ValidateKey(key));

    /// <summary>A store with a fixed table of identities (compared as UTF-8 bytes) and their keys.</summary>
    /// <param name="keys">Identity → key; each key 1 to <see cref="MaxKeyLength"/> bytes; copied.</param>
    public static IPskStore FromDictionary(IReadOnlyDictionary<string, byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var table = new Dictionary<string, byte[]>(keys.Count, StringComparer.Ordinal);
        foreach (var pair in keys)
        {
            table[pair.Key] = ValidateKey(pair.Value);
        }
        return new TableStore(table);
    }

    internal static byte[] ValidateKey(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > MaxKeyLength)
        {
            throw new ArgumentException(
                $"A pre-shared key must be 1 to {MaxKeyLength} bytes long; this one has {key.Length}.", nameof(key));
        }
        return key.ToArray();
    }

    private sealed class SingleKeyStore(byte[] key) : IPskStore
    {
        public ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken)
            => new(key);
    }

    private sealed class TableStore(Dictionary<string, byte[]> table) : IPskStore
    {
        private readonly Dictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> _lookup =
            table.GetAlternateLookup<ReadOnlySpan<char>>();

        public ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken)
        {
            if (identity.Length > 1024)
            {
                return new((byte[]?)null);
            }
            Span<char> chars = stackalloc char[identity.Length];
            // Strict decoding: Encoding.UTF8 would replace invalid bytes with U+FFFD, so distinct byte identities
            // (0xFF, 0xFE…) would all match an entry named "\uFFFD". Identities are compared as UTF-8 bytes.
            if (System.Text.Unicode.Utf8.ToUtf16(identity.Span, chars, out _, out var written, replaceInvalidSequences: false)
                != System.Buffers.OperationStatus.Done)
            {
                return new((byte[]?)null);
            }
            return new(_lookup.TryGetValue(chars[..written], out var key) ? key : null);
        }
    }
}
