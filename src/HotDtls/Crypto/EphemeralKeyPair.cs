using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>
/// One side's ephemeral ECDH key for one ECDHE_PSK handshake (RFC 5489, RFC 8422): generated fresh, its public
/// half sent in ServerKeyExchange or ClientKeyExchange, agreed with the peer's public key once, then dropped.
/// </summary>
/// <remarks>
/// <para>
/// Wire encodings (RFC 8422 §5.4, §5.7, §5.11):
/// <code>
///   x25519     32 bytes, the RFC 7748 u-coordinate, little-endian
///   secp256r1  65 bytes, uncompressed only:  0x04 || X (32, big-endian) || Y (32, big-endian)
/// </code>
/// The shared secret is 32 bytes for both: P-256's is the x-coordinate of the shared point with leading zeros kept
/// (RFC 8422 §5.10, FE2OSP); X25519's is the function's output (RFC 7748 §6.1).
/// </para>
/// <para>
/// Peer input never throws: a public key of the wrong length, a P-256 point that is compressed, out of range or off
/// the curve, or an X25519 key that yields the all-zero secret makes <see cref="TryAgree"/> return false. Misuse
/// (a second agreement, a disposed key, a short destination) throws.
/// </para>
/// <para>
/// The private key is released as soon as the one agreement is done, so a later compromise of the process cannot
/// recover it: that is the forward secrecy ECDHE is for. P-256's lives in a platform handle (OpenSSL/CNG); X25519's
/// is a 32-byte scalar in a pinned array (so the GC never leaves copies of it) that is zeroed after the agreement,
/// used through libsodium's one-shot functions (<see cref="X25519"/>: NSec's key objects cost five times the
/// arithmetic in guarded-page system calls). Secret bytes that pass through a managed array (P-256's
/// shared secret, a test's private key) are zeroed before the method returns. Not thread-safe: one handshake owns it.
/// </para>
/// </remarks>
internal sealed class EphemeralKeyPair : IDisposable
{
    /// <summary>Z's length for both supported groups (RFC 8422 §5.10, RFC 7748 §6.1).</summary>
    public const int SharedSecretLength = 32;

    private const int X25519PublicKeyLength = 32;
    private const int P256FieldLength = 32;
    private const int P256PublicKeyLength = 1 + (2 * P256FieldLength);

    /// <summary>The SEC 1 §2.3.3 prefix of an uncompressed point, the only form RFC 8422 §5.4 allows.</summary>
    private const byte UncompressedPointFormat = 0x04;

    // P-256's field prime p = 2^256 - 2^224 + 2^192 + 2^96 - 1 and coefficient b (SEC 2 §2.4.2, FIPS 186-4 D.1.2.3);
    // a = -3. Only public values go through BigInteger, so its variable time leaks nothing.
    private static readonly BigInteger s_p256Prime = FromHex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    private static readonly BigInteger s_p256B = FromHex("5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b");

    // What the all-zero check compares against; never written.
    private static readonly byte[] s_zeroSecret = new byte[SharedSecretLength];

    // Public, so kept as bytes: WritePublicKey still works after the private key is gone (a client agrees first and
    // writes ClientKeyExchange after).
    private readonly byte[] _publicKey;

    // Exactly one of these is set until the agreement or Dispose releases it: the X25519 scalar (pinned) or the P-256
    // platform key.
    private byte[]? _x25519;
    private ECDiffieHellman? _p256;
    private bool _agreed;
    private bool _disposed;

    private EphemeralKeyPair(NamedGroup group, byte[]? x25519, ECDiffieHellman? p256, byte[] publicKey)
    {
        Group = group;
        _x25519 = x25519;
        _p256 = p256;
        _publicKey = publicKey;
    }

    /// <summary>The curve this key is on.</summary>
    public NamedGroup Group { get; }

    /// <summary>Whether <paramref name="group"/> is one this type can generate keys for on this machine.</summary>
    /// <remarks>
    /// NSec ships libsodium for each runtime it supports, and P-256 ECDH is in every platform crypto library .NET uses
    /// (OpenSSL, CNG, Apple); a platform without libsodium loses only X25519.
    /// </remarks>
    public static bool IsSupported(NamedGroup group) => group switch
    {
        NamedGroup.X25519 => X25519.IsAvailable,
        NamedGroup.Secp256r1 => true,
        _ => false,
    };

    /// <summary>Bytes of a public key on <paramref name="group"/> as it travels in an ECPoint (RFC 8422 §5.4).</summary>
    public static int PublicKeyLength(NamedGroup group) => group switch
    {
        NamedGroup.X25519 => X25519PublicKeyLength,
        NamedGroup.Secp256r1 => P256PublicKeyLength,
        _ => ThrowUnsupportedGroup<int>(group),
    };

    /// <summary>A fresh key pair on <paramref name="group"/>, from the platform's CSPRNG (libsodium's for X25519).</summary>
    public static EphemeralKeyPair Generate(NamedGroup group)
    {
        switch (group)
        {
            case NamedGroup.X25519:
            {
                var scalar = X25519.NewScalarArray();
                RandomNumberGenerator.Fill(scalar);
                return FromX25519(scalar);
            }
            case NamedGroup.Secp256r1:
                return FromP256(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256));
            default:
                return ThrowUnsupportedGroup<EphemeralKeyPair>(group);
        }
    }

    /// <summary>
    /// A key pair with a known private key, for known-answer tests only: an ephemeral key must never come from
    /// anywhere but <see cref="Generate"/>. X25519 takes the 32-byte RFC 7748 scalar (clamped by libsodium); P-256
    /// the 32-byte big-endian d, from which the platform computes the public point.
    /// </summary>
    internal static EphemeralKeyPair FromPrivateKey(NamedGroup group, ReadOnlySpan<byte> privateKey)
    {
        switch (group)
        {
            case NamedGroup.X25519:
            {
                if (privateKey.Length != X25519.ScalarLength)
                {
                    CryptoThrowHelper.ThrowArgument(nameof(privateKey), "An X25519 private key is 32 bytes.");
                }
                var scalar = X25519.NewScalarArray();
                privateKey.CopyTo(scalar);
                return FromX25519(scalar);
            }
            case NamedGroup.Secp256r1:
                // ECParameters only takes arrays: the copy of d is zeroed as soon as the platform has imported it.
                byte[] d = privateKey.ToArray();
                try
                {
                    return FromP256(ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, D = d }));
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(d);
                }
            default:
                return ThrowUnsupportedGroup<EphemeralKeyPair>(group);
        }
    }

    /// <summary>Writes the public key as it travels in an ECPoint and returns its length.</summary>
    public int WritePublicKey(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (destination.Length < _publicKey.Length)
        {
            CryptoThrowHelper.ThrowArgument(nameof(destination), "Destination is too small for the public key.");
        }

        _publicKey.CopyTo(destination);
        return _publicKey.Length;
    }

    /// <summary>
    /// Computes the shared secret Z with the peer's public key (as received in the peer's ECPoint) into
    /// <paramref name="sharedSecret"/>. Returns false, with nothing written (the first 32 bytes are cleared), when the
    /// peer's key is not a valid public key on this curve or X25519 yields the all-zero secret: the checks RFC 8422
    /// §5.11 requires. The handshake then fails; illegal_parameter fits ("a field ... was out of range", RFC 5246
    /// §7.2.2).
    /// </summary>
    /// <remarks>
    /// A key pair agrees once: whatever the outcome, the private key is released before this returns, and a second
    /// call throws <see cref="InvalidOperationException"/>.
    /// </remarks>
    public bool TryAgree(ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret, out int written)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_agreed)
        {
            ThrowAlreadyAgreed();
        }

        if (sharedSecret.Length < SharedSecretLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(sharedSecret), "Destination is too small for the shared secret.");
        }

        _agreed = true;
        Span<byte> z = sharedSecret[..SharedSecretLength];
        bool agreed;
        try
        {
            agreed = _x25519 is not null
                ? TryAgreeX25519(_x25519, peerPublicKey, z)
                : TryAgreeP256(_p256!, peerPublicKey, z);
        }
        finally
        {
            ReleasePrivateKey();
        }

        if (!agreed)
        {
            z.Clear();
        }

        written = agreed ? SharedSecretLength : 0;
        return agreed;
    }

    /// <summary>Releases the private key, if an agreement has not already done so.</summary>
    public void Dispose()
    {
        _disposed = true;
        ReleasePrivateKey();
    }

    private static EphemeralKeyPair FromX25519(byte[] scalar)
    {
        var publicKey = new byte[X25519PublicKeyLength];
        X25519.PublicKey(scalar, publicKey);
        return new EphemeralKeyPair(NamedGroup.X25519, scalar, null, publicKey);
    }

    private static EphemeralKeyPair FromP256(ECDiffieHellman key)
    {
        try
        {
            // ExportParameters pads each coordinate to the field length, which is what the fixed 65-byte form needs.
            ECParameters parameters = key.ExportParameters(includePrivateParameters: false);
            byte[]? x = parameters.Q.X;
            byte[]? y = parameters.Q.Y;
            if (x is not { Length: P256FieldLength } || y is not { Length: P256FieldLength })
            {
                throw new CryptographicException("The platform returned a P-256 public point of an unexpected length.");
            }

            var publicKey = new byte[P256PublicKeyLength];
            publicKey[0] = UncompressedPointFormat;
            x.CopyTo(publicKey, 1);
            y.CopyTo(publicKey, 1 + P256FieldLength);
            return new EphemeralKeyPair(NamedGroup.Secp256r1, null, key, publicKey);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    private static bool TryAgreeX25519(byte[] scalar, ReadOnlySpan<byte> peerPublicKey, Span<byte> z)
    {
        // RFC 7748 §5: receivers mask the top bit and accept non-canonical u-coordinates, so the length is the only
        // thing to check; libsodium refuses a result that is all zeros (a low-order peer key) itself.
        if (peerPublicKey.Length != X25519PublicKeyLength || !X25519.TryAgree(scalar, peerPublicKey, z))
        {
            return false;
        }

        // RFC 8422 §5.11 / RFC 7748 §6.1: an all-zero Z MUST abort the handshake. Checked here too, so the rule holds
        // whatever libsodium build is loaded; in constant time, because Z is secret whichever way it turns out.
        return !CryptographicOperations.FixedTimeEquals(z, s_zeroSecret);
    }

    private static bool TryAgreeP256(ECDiffieHellman key, ReadOnlySpan<byte> peerPublicKey, Span<byte> z)
    {
        // Validated here rather than left to the platform's import, so the same bytes fail the same way on OpenSSL,
        // CNG and Apple: RFC 8422 §5.4 allows the uncompressed form only, and an off-curve point must never reach the
        // scalar multiplication (invalid-curve attacks read the private key out of such results; a key used once has
        // little to give, but the check costs a few microseconds against the ~200 of the agreement).
        if (!IsValidP256Point(peerPublicKey))
        {
            return false;
        }

        var q = new ECPoint
        {
            X = peerPublicKey.Slice(1, P256FieldLength).ToArray(),
            Y = peerPublicKey.Slice(1 + P256FieldLength, P256FieldLength).ToArray(),
        };
        try
        {
            using ECDiffieHellman peer = ECDiffieHellman.Create(new ECParameters { Curve = ECCurve.NamedCurves.nistP256, Q = q });
            using ECDiffieHellmanPublicKey peerKey = peer.PublicKey;
            byte[] secret = key.DeriveRawSecretAgreement(peerKey);
            try
            {
                // The raw agreement is FE2OSP of x: always the field length, leading zeros kept (RFC 8422 §5.10).
                Debug.Assert(secret.Length == SharedSecretLength, "P-256 raw agreement is not 32 bytes.");
                if (secret.Length != SharedSecretLength)
                {
                    return false;
                }

                secret.CopyTo(z);
                return true;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(secret);
            }
        }
        catch (CryptographicException)
        {
            // The checks above should leave nothing for the platform to reject; if it still does, the peer's key
            // is refused like any other bad value rather than thrown at the handshake.
            return false;
        }
    }

    /// <summary>
    /// Whether <paramref name="encoded"/> is an uncompressed P-256 point with both coordinates in [0, p) that
    /// satisfies y² = x³ − 3x + b (mod p). P-256's cofactor is 1, so such a point is in the prime-order group and is
    /// not the identity (which has no uncompressed encoding), the full public-key validation of SP 800-56A
    /// §5.6.2.3.3.
    /// </summary>
    /// <remarks>
    /// Internal so tests can reach it directly: on Linux, OpenSSL's import refuses the same points, so through
    /// <see cref="TryAgree"/> alone a test could not tell this check from the platform's.
    /// </remarks>
    internal static bool IsValidP256Point(ReadOnlySpan<byte> encoded)
    {
        if (encoded.Length != P256PublicKeyLength || encoded[0] != UncompressedPointFormat)
        {
            return false;
        }

        var x = new BigInteger(encoded.Slice(1, P256FieldLength), isUnsigned: true, isBigEndian: true);
        var y = new BigInteger(encoded.Slice(1 + P256FieldLength, P256FieldLength), isUnsigned: true, isBigEndian: true);
        BigInteger p = s_p256Prime;
        if (x >= p || y >= p)
        {
            return false;
        }

        BigInteger left = y * y % p;
        BigInteger right = ((x * x * x) - (3 * x) + s_p256B) % p;
        if (right.Sign < 0)
        {
            right += p;
        }

        return left == right;
    }

    private static BigInteger FromHex(string hex) =>
        new(Convert.FromHexString(hex), isUnsigned: true, isBigEndian: true);

    private void ReleasePrivateKey()
    {
        if (_x25519 is not null)
        {
            CryptographicOperations.ZeroMemory(_x25519);
            _x25519 = null;
        }
        _p256?.Dispose();
        _p256 = null;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowAlreadyAgreed() =>
        throw new InvalidOperationException("An ephemeral key pair agrees once; generate a new one for another handshake.");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static T ThrowUnsupportedGroup<T>(NamedGroup group) =>
        throw new ArgumentOutOfRangeException(nameof(group), group, "Only secp256r1 and x25519 are supported.");
}
