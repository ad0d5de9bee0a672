namespace HotDtls.Handshake;

/// <summary>
/// ClientKeyExchange body for plain PSK key exchange, RFC 4279 §2:
/// <code>
/// struct {
///     select (KeyExchangeAlgorithm) {
///         case psk:
///             opaque psk_identity&lt;0..2^16-1&gt;;
///     } exchange_keys;
/// } ClientKeyExchange;
/// </code>
/// RFC 4279 §5.3 requires identities of up to 128 bytes to be supported; any longer limit is the PSK
/// store's decision, not the parser's. The identity is peer-controlled bytes: never log it raw.
/// </summary>
internal static class ClientKeyExchangePsk
{
    public static bool TryParse(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> identity)
    {
        var reader = new HandshakeReader(body);
        if (!reader.TryReadOpaque16(0, ushort.MaxValue, out identity) || !reader.IsEmpty)
        {
            identity = default;
            return false;
        }

        return true;
    }

    public static int GetLength(int identityLength) => 2 + identityLength;

    public static int Write(Span<byte> destination, ReadOnlySpan<byte> identity)
    {
        HandshakeWriter.EnsureLength(identity, 0, ushort.MaxValue, nameof(identity));
        HandshakeWriter.EnsureCapacity(destination, GetLength(identity.Length));
        var writer = new HandshakeWriter(destination);
        writer.WriteOpaque16(identity);
        return writer.Written;
    }
}
