namespace HotDtls.Records;

/// <summary>
/// One direction's record protection for a suite other than AES-GCM (which <see cref="RecordDirection"/> runs itself):
/// the native objects made from the key material while the direction is in use. Created from the key bytes when a
/// parked direction is used again, disposed when it parks, so an idle session keeps only its key bytes.
/// </summary>
/// <remarks>
/// The record body (DTLSCiphertext.fragment) starts with the suite's record IV (<c>RecordIvLength</c> bytes: 8 for
/// CCM, 0 for ChaCha20-Poly1305, 16 for CBC) and the plaintext follows it, so a caller can place a payload at
/// <c>RecordIvLength</c> and seal in place. Nothing on these paths allocates.
/// </remarks>
internal interface IRecordCipher : IDisposable
{
    /// <summary>
    /// Authenticates and decrypts a record body in place. On success the plaintext is
    /// <c>fragment.Slice(RecordIvLength, plaintextLength)</c>. False for a body of impossible length or one that fails
    /// authentication (the caller drops it, RFC 6347 §4.1.2.7); the body may then hold anything. A non-empty
    /// <paramref name="connectionId"/> authenticates the record as a tls12_cid record carrying it (RFC 9146 §5).
    /// </summary>
    bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, Span<byte> fragment,
        out int plaintextLength);

    /// <summary>
    /// Protects <paramref name="plaintext"/> into <paramref name="destination"/> (the whole record body) and returns the
    /// bytes written. <paramref name="plaintext"/> may be exactly <c>destination.Slice(RecordIvLength, plaintext.Length)</c>.
    /// A non-empty <paramref name="connectionId"/> seals a tls12_cid record carrying it (RFC 9146 §5).
    /// </summary>
    int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> plaintext,
        Span<byte> destination);

    /// <summary>Opens a record without a CID.</summary>
    bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, Span<byte> fragment, out int plaintextLength)
        => TryOpenInPlace(type, epoch, sequenceNumber, default, fragment, out plaintextLength);

    /// <summary>Seals a record without a CID.</summary>
    int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> plaintext, Span<byte> destination)
        => Seal(type, epoch, sequenceNumber, default, plaintext, destination);
}
