using HotDtls.Crypto;

namespace HotDtls.Handshake;

/// <summary>
/// ServerKeyExchange body for ECDHE_PSK key exchange, RFC 5489 §2, with ServerECDHParams from RFC 8422 §5.4:
/// <code>
/// struct {
///     select (KeyExchangeAlgorithm) {
///         case ec_diffie_hellman_psk:
///             opaque psk_identity_hint&lt;0..2^16-1&gt;;
///             ServerECDHParams params;
///     };
/// } ServerKeyExchange;
///
/// struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;
/// struct { ECCurveType curve_type; NamedCurve namedcurve; } ECParameters;   // curve_type = named_curve (3)
/// struct { opaque point&lt;1..2^8-1&gt;; } ECPoint;
///
///   +--------+-------------+------------+------------+--------+-------------+
///   | uint16 | hint        | curve_type | namedcurve | uint8  | point       |
///   | h      | (h bytes)   | 0x03       | uint16     | n ≥ 1  | (n bytes)   |
///   +--------+-------------+------------+------------+--------+-------------+
/// </code>
/// There is no signature: PSK suites authenticate the exchange with the PSK itself, through the premaster secret
/// and Finished. Unlike plain PSK, the message is always sent, since it carries the server's ephemeral key; an empty
/// hint is the normal case.
/// </summary>
/// <remarks>
/// The parser checks structure only. Whether the named group is one the client offered, and whether the point is a
/// valid key on it, is decided by the caller and by <see cref="EphemeralKeyPair.TryAgree"/>.
/// </remarks>
internal static class ServerKeyExchangeEcdhePsk
{
    /// <summary>
    /// ECCurveType named_curve (RFC 8422 §5.4). explicit_prime (1) and explicit_char2 (2) are deprecated there and
    /// fail to parse: arbitrary curve parameters from a peer are a validation problem no one should take on.
    /// </summary>
    private const byte NamedCurve = 3;

    public static bool TryParse(
        ReadOnlySpan<byte> body,
        out ReadOnlySpan<byte> identityHint,
        out ushort namedGroup,
        out ReadOnlySpan<byte> publicKey)
    {
        var reader = new HandshakeReader(body);
        if (!reader.TryReadOpaque16(0, ushort.MaxValue, out identityHint) ||
            !reader.TryReadUInt8(out byte curveType) || curveType != NamedCurve ||
            !reader.TryReadUInt16(out namedGroup) ||
            !reader.TryReadOpaque8(1, byte.MaxValue, out publicKey) ||
            !reader.IsEmpty)
        {
            identityHint = default;
            namedGroup = 0;
            publicKey = default;
            return false;
        }

        return true;
    }

    public static int GetLength(int identityHintLength, int publicKeyLength) =>
        2 + identityHintLength + 1 + 2 + 1 + publicKeyLength;

    public static int Write(
        Span<byte> destination,
        ReadOnlySpan<byte> identityHint,
        NamedGroup namedGroup,
        ReadOnlySpan<byte> publicKey)
    {
        HandshakeWriter.EnsureLength(identityHint, 0, ushort.MaxValue, nameof(identityHint));
        HandshakeWriter.EnsureLength(publicKey, 1, byte.MaxValue, nameof(publicKey));
        HandshakeWriter.EnsureCapacity(destination, GetLength(identityHint.Length, publicKey.Length));
        var writer = new HandshakeWriter(destination);
        writer.WriteOpaque16(identityHint);
        writer.WriteUInt8(NamedCurve);
        writer.WriteUInt16((ushort)namedGroup);
        writer.WriteOpaque8(publicKey);
        return writer.Written;
    }
}
