namespace HotDtls;

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
