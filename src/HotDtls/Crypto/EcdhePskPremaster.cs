using System.Buffers.Binary;

namespace HotDtls.Crypto;

/// <summary>
/// The ECDHE_PSK premaster secret, RFC 5489 §2: the ECDH shared secret Z (RFC 8422 §5.10) takes the place of
/// RFC 4279's other_secret, so the layout is the plain-PSK one with Z where the zeros were:
/// <code>
///   struct {
///       opaque other_secret&lt;0..2^16-1&gt;;   // Z: 32 bytes for secp256r1 and x25519
///       opaque psk&lt;0..2^16-1&gt;;
///   };
///
///   +--------+-----------------+--------+-----------+
///   | uint16 | Z               | uint16 | PSK       |
///   | len(Z) | (len(Z) bytes)  | len(P) | (P bytes) |
///   +--------+-----------------+--------+-----------+
/// </code>
/// </summary>
/// <remarks>
/// Z is written as the ECDH step produced it: for P-256 the x-coordinate with its leading zeros kept (RFC 8422
/// §5.10), for X25519 the 32-byte RFC 7748 output. The result is as secret as the PSK and Z together; the caller
/// zeroes it once the master secret is derived. Lengths are checked and a wrong one throws: callers size their
/// own buffers, so a mismatch is a bug, never peer input.
/// </remarks>
internal static class EcdhePskPremaster
{
    /// <summary>Both fields sit behind a uint16 length, so neither can exceed 65535 bytes.</summary>
    public const int MaxFieldLength = ushort.MaxValue;

    /// <summary>Bytes <see cref="Write"/> writes for a shared secret and a PSK of the given lengths.</summary>
    public static int Length(int sharedSecretLength, int pskLength)
    {
        if ((uint)sharedSecretLength > MaxFieldLength)
        {
            CryptoThrowHelper.ThrowArgumentOutOfRange(nameof(sharedSecretLength), "A shared secret is at most 65535 bytes.");
        }

        if ((uint)pskLength > MaxFieldLength)
        {
            CryptoThrowHelper.ThrowArgumentOutOfRange(nameof(pskLength), "A PSK is at most 65535 bytes.");
        }

        return 2 + sharedSecretLength + 2 + pskLength;
    }

    /// <summary>Writes uint16 len(Z) || Z || uint16 len(PSK) || PSK and returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<byte> sharedSecret, ReadOnlySpan<byte> psk, Span<byte> destination)
    {
        int length = Length(sharedSecret.Length, psk.Length);
        if (destination.Length < length)
        {
            CryptoThrowHelper.ThrowArgument(nameof(destination), "Destination is too small for the premaster secret.");
        }

        int z = sharedSecret.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)z);
        sharedSecret.CopyTo(destination[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[(2 + z)..], (ushort)psk.Length);
        psk.CopyTo(destination[(4 + z)..]);
        return length;
    }
}
