namespace HotDtls.Handshake;

/// <summary>
/// ClientKeyExchange body for ECDHE_PSK key exchange, RFC 5489 §2, with ClientECDiffieHellmanPublic from
/// RFC 8422 §5.7 (always explicit: an ephemeral key has no certificate to be implicit in):
/// <code>
/// struct {
///     select (KeyExchangeAlgorithm) {
///         case ec_diffie_hellman_psk:
///             opaque psk_identity&lt;0..2^16-1&gt;;
///             ClientECDiffieHellmanPublic public;
///     } exchange_keys;
/// } ClientKeyExchange;
///
/// struct { opaque point&lt;1..2^8-1&gt;; } ClientECDiffieHellmanPublic;   // ECPoint ecdh_Yc
///
///   +--------+-------------+--------+-------------+
///   | uint16 | identity    | uint8  | point       |
///   | i      | (i bytes)   | n ≥ 1  | (n bytes)   |
///   +--------+-------------+--------+-------------+
/// </code>
/// The identity is peer-controlled bytes: never log it raw. Whether the point is a valid key on the group the
/// server chose is decided by <see cref="Crypto.EphemeralKeyPair.TryAgree"/>, not here.
/// </summary>
internal static class ClientKeyExchangeEcdhePsk
{
    public static bool TryParse(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> identity, out ReadOnlySpan<byte> publicKey)
    {
        var reader = new HandshakeReader(body);
        if (!reader.TryReadOpaque16(0, ushort.MaxValue, out identity) ||
            !reader.TryReadOpaque8(1, byte.MaxValue, out publicKey) ||
            !reader.IsEmpty)
        {
            identity = default;
            publicKey = default;
            return false;
        }

        return true;
    }

    public static int GetLength(int identityLength, int publicKeyLength) => 2 + identityLength + 1 + publicKeyLength;

    public static int Write(Span<byte> destination, ReadOnlySpan<byte> identity, ReadOnlySpan<byte> publicKey)
    {
        HandshakeWriter.EnsureLength(identity, 0, ushort.MaxValue, nameof(identity));
        HandshakeWriter.EnsureLength(publicKey, 1, byte.MaxValue, nameof(publicKey));
        HandshakeWriter.EnsureCapacity(destination, GetLength(identity.Length, publicKey.Length));
        var writer = new HandshakeWriter(destination);
        writer.WriteOpaque16(identity);
        writer.WriteOpaque8(publicKey);
        return writer.Written;
    }
}
