namespace HotDtls.Handshake;

/// <summary>
/// Finished body, RFC 5246 §7.4.9:
/// <code>
/// struct {
///     opaque verify_data[verify_data_length];
/// } Finished;
/// </code>
/// "In previous versions of TLS, the verify_data was always 12 octets long. In the current version of TLS,
/// it depends on the cipher suite." Every suite HotDtls offers (RFC 5487) keeps the default of 12.
/// Compare verify_data with <c>CryptographicOperations.FixedTimeEquals</c> (HOSTILE 41).
/// </summary>
internal static class Finished
{
    public const int VerifyDataLength = 12;

    public static bool TryParse(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> verifyData)
    {
        if (body.Length != VerifyDataLength)
        {
            verifyData = default;
            return false;
        }

        verifyData = body;
        return true;
    }

    public static int Write(Span<byte> destination, ReadOnlySpan<byte> verifyData)
    {
        HandshakeWriter.EnsureLength(verifyData, VerifyDataLength, VerifyDataLength, nameof(verifyData));
        HandshakeWriter.EnsureCapacity(destination, VerifyDataLength);
        verifyData.CopyTo(destination);
        return VerifyDataLength;
    }
}
