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
