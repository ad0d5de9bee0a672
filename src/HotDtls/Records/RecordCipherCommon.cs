using System.Buffers.Binary;
using System.Numerics;
using HotDtls.Crypto;

namespace HotDtls.Records;

/// <summary>
/// What the <see cref="IRecordCipher"/> suites share: the 13 bytes every suite authenticates with the record, the
/// argument checks of Seal, and a vectorised XOR for the keystream and tag arithmetic.
/// </summary>
internal static class RecordCipherCommon
{
    /// <summary>The length of additional_data (AEAD suites) and of the MAC's record header (CBC suites).</summary>
    public const int AdditionalDataLength = 13;

    /// <summary>The largest sequence number a DTLS record header can carry (48 bits, RFC 6347 §4.1).</summary>
    public const ulong MaxSequenceNumber = RecordHeader.MaxSequenceNumber;

    /// <summary>The 64-bit seq_num of RFC 6347 §4.1.2.1: epoch (2) || sequence_number (6).</summary>
    public static ulong SequenceNumber64(ushort epoch, ulong sequenceNumber) =>
        ((ulong)epoch << 48) | (sequenceNumber & MaxSequenceNumber);

    /// <summary>Writes the 13 bytes authenticated with a record.</summary>
    /// <remarks>
    /// <code>
    ///   AEAD (RFC 5246 §6.2.3.3):  additional_data = seq_num + type + version + length     (length: the plaintext's)
    ///   EtM  (RFC 7366 §3):        MAC(key, seq_num + type + version + length + IV + ENC)  (length: IV + ENC's)
    ///
    ///   +-----------+---------------------+----------+-------------+------------+
    ///   | epoch (2) | sequence_number (6) | type (1) | FEFD (2)    | length (2) |
    ///   +-----------+---------------------+----------+-------------+------------+
    /// </code>
    /// DTLS's seq_num is epoch || sequence_number (RFC 6347 §4.1.2.1); the caller says which length it authenticates.
    /// </remarks>
    public static void WriteAdditionalData(Span<byte> destination, ContentType type, ushort epoch, ulong sequenceNumber, int length)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, SequenceNumber64(epoch, sequenceNumber));
        destination[8] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(destination[9..], ProtocolVersion.Dtls12);
        BinaryPrimitives.WriteUInt16BigEndian(destination[11..], (ushort)length);
    }

    /// <summary>The longest additional_data: the RFC 9146 form with a 255-byte CID.</summary>
    public const int MaxAdditionalDataLength = ConnectionIdAdditionalDataLength + byte.MaxValue;

    /// <summary>The bytes of the RFC 9146 additional_data besides the CID itself.</summary>
    public const int ConnectionIdAdditionalDataLength = 23;

    /// <summary>
    /// Writes what a record's protection authenticates — the 13-byte form above for a record without a CID, the
    /// RFC 9146 §5 form for a tls12_cid record — and returns its length.
    /// </summary>
    /// <remarks>
    /// <code>
    ///   RFC 9146 §5.2 (EtM) and §5.3 (AEAD):
    ///   seq_num_placeholder (8 × FF) | tls12_cid | cid_length | tls12_cid | version (2) | epoch (2)
    ///     | sequence_number (6) | cid | length (2)
    /// </code>
    /// The placeholder and the repeated type keep this input apart from every input without a CID (the RFC's
    /// rationale). length is length_of_DTLSInnerPlaintext for AEAD and DTLSCiphertext.length without the MAC
    /// (IV + ENC) for encrypt-then-MAC, as without a CID.
    /// </remarks>
    public static int WriteAdditionalData(Span<byte> destination, ContentType type, ushort epoch, ulong sequenceNumber,
        ReadOnlySpan<byte> connectionId, int length)
    {
        if (connectionId.IsEmpty)
        {
            WriteAdditionalData(destination, type, epoch, sequenceNumber, length);
            return AdditionalDataLength;
        }
        BinaryPrimitives.WriteUInt64BigEndian(destination, ulong.MaxValue);
        destination[8] = (byte)ContentType.Tls12Cid;
        destination[9] = (byte)connectionId.Length;
        destination[10] = (byte)ContentType.Tls12Cid;
        BinaryPrimitives.WriteUInt16BigEndian(destination[11..], ProtocolVersion.Dtls12);
        BinaryPrimitives.WriteUInt64BigEndian(destination[13..], SequenceNumber64(epoch, sequenceNumber));
        connectionId.CopyTo(destination[21..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(21 + connectionId.Length)..], (ushort)length);
        return ConnectionIdAdditionalDataLength + connectionId.Length;
    }

    /// <summary>
    /// The checks every Seal makes before writing: API misuse throws, it is never peer input.
    /// </summary>
    /// <param name="plaintext">The plaintext to seal.</param>
    /// <param name="maxPlaintextLength">The most the suite's length fields can describe.</param>
    /// <param name="destination">The record body to write.</param>
    /// <param name="sealedLength">The bytes the sealed body takes.</param>
    /// <param name="sequenceNumber">The record's 48-bit sequence number.</param>
    /// <param name="recordIvLength">Where the plaintext starts in the body: the only overlap allowed (in-place sealing).</param>
    public static void CheckSealArguments(ReadOnlySpan<byte> plaintext, int maxPlaintextLength, Span<byte> destination,
        int sealedLength, ulong sequenceNumber, int recordIvLength)
    {
        if (plaintext.Length > maxPlaintextLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(plaintext), "The plaintext is longer than a record of this suite can carry.");
        }
        if (destination.Length < sealedLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(destination), "Destination is too small for the sealed record.");
        }
        if (sequenceNumber > MaxSequenceNumber)
        {
            // Truncating would repeat a nonce (AEAD) or a MAC input; RFC 6347 §4.1 requires a new connection first.
            CryptoThrowHelper.ThrowArgumentOutOfRange(nameof(sequenceNumber), "Sequence numbers are 48 bits.");
        }
        if (destination.Overlaps(plaintext, out int offset) && offset != recordIvLength)
        {
            // Any other overlap would overwrite plaintext not yet read.
            CryptoThrowHelper.ThrowArgument(nameof(plaintext), "Plaintext may only overlap the destination at the ciphertext position.");
        }
    }

    /// <summary>
    /// <c>destination[i] = x[i] ^ y[i]</c> for every byte of <paramref name="x"/>; <paramref name="destination"/> may be
    /// <paramref name="x"/> or <paramref name="y"/> itself (each vector is loaded before it is stored).
    /// </summary>
    public static void Xor(ReadOnlySpan<byte> x, ReadOnlySpan<byte> y, Span<byte> destination)
    {
        int length = x.Length;
        // Explicit checks, so a wrong caller fails here rather than after writing part of the destination.
        if (y.Length < length || destination.Length < length)
        {
            CryptoThrowHelper.ThrowArgument(nameof(destination), "XOR operands are shorter than the input.");
        }
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= length - Vector<byte>.Count; i += Vector<byte>.Count)
            {
                (new Vector<byte>(x[i..]) ^ new Vector<byte>(y[i..])).CopyTo(destination[i..]);
            }
        }
        for (; i < length; i++)
        {
            destination[i] = (byte)(x[i] ^ y[i]);
        }
    }
}
