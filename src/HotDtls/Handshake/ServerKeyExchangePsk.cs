namespace HotDtls.Handshake;

/// <summary>
/// ServerKeyExchange body for plain PSK key exchange, RFC 4279 §2:
/// <code>
/// struct {
///     select (KeyExchangeAlgorithm) {
///         case psk:
///             opaque psk_identity_hint&lt;0..2^16-1&gt;;
///     };
/// } ServerKeyExchange;
/// </code>
/// "If no hint is provided, the ServerKeyExchange message is omitted", so an empty hint here is legal on
/// the wire but a server has no reason to send one.
/// </summary>
internal static class ServerKeyExchangePsk
{
    public static bool TryParse(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> identityHint)
    {
        var reader = new HandshakeReader(body);
        if (!reader.TryReadOpaque16(0, ushort.MaxValue, out identityHint) || !reader.IsEmpty)
        {
            identityHint = default;
            return false;
        }

        return true;
    }

    public static int GetLength(int identityHintLength) => 2 + identityHintLength;

    public static int Write(Span<byte> destination, ReadOnlySpan<byte> identityHint)
    {
        HandshakeWriter.EnsureLength(identityHint, 0, ushort.MaxValue, nameof(identityHint));
        HandshakeWriter.EnsureCapacity(destination, GetLength(identityHint.Length));
        var writer = new HandshakeWriter(destination);
        writer.WriteOpaque16(identityHint);
        return writer.Written;
    }
}
