using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>
/// X25519 (RFC 7748) through libsodium's one-shot functions — the libsodium that the NSec.Cryptography package ships
/// and loads for every runtime it supports.
/// </summary>
/// <remarks>
/// NSec's own API makes every key and shared secret a guarded allocation (mmap, mprotect, mlock and back: about twenty
/// system calls), which for an ephemeral key used once costs about five times the arithmetic: 233 µs against 47 µs
/// for a key pair and one agreement on the benchmark machine (docs/benchmarks.md, "ECDHE cost"). An ephemeral scalar
/// needs none of that: it lives for one handshake in a pinned array that is zeroed after its one agreement.
/// </remarks>
internal static class X25519
{
    public const int ScalarLength = 32;
    public const int PointLength = 32;

    private const string Libsodium = "libsodium";

    /// <summary>Whether libsodium loaded and initialised (false only on a platform NSec does not ship it for).</summary>
    public static bool IsAvailable { get; } = Initialise();

    private static bool Initialise()
    {
        try
        {
            // 0: initialised now; 1: already (NSec got there first); -1: failure. Idempotent and thread-safe.
            return sodium_init() >= 0;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>A 32-byte array the GC never moves, so a scalar in it leaves no copies behind when it is zeroed.</summary>
    public static byte[] NewScalarArray() => GC.AllocateArray<byte>(ScalarLength, pinned: true);

    /// <summary>The public key of <paramref name="scalar"/>: scalar · 9 (RFC 7748 §6.1).</summary>
    public static void PublicKey(ReadOnlySpan<byte> scalar, Span<byte> publicKey)
    {
        Check(scalar, publicKey);
        if (!IsAvailable || crypto_scalarmult_curve25519_base(ref MemoryMarshal.GetReference(publicKey), in MemoryMarshal.GetReference(scalar)) != 0)
        {
            throw new CryptographicException("libsodium could not compute an X25519 public key.");
        }
    }

    /// <summary>
    /// The shared secret of <paramref name="scalar"/> and a peer's 32-byte public key. False when libsodium refuses the
    /// result (all zeros: a peer key of small order, RFC 7748 §6.1); the output is then unspecified.
    /// </summary>
    public static bool TryAgree(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> peerPublicKey, Span<byte> sharedSecret)
    {
        Check(scalar, sharedSecret);
        if (peerPublicKey.Length != PointLength)
        {
            return false;
        }
        if (!IsAvailable)
        {
            throw new CryptographicException("libsodium is not available: X25519 cannot be used on this platform.");
        }
        return crypto_scalarmult_curve25519(ref MemoryMarshal.GetReference(sharedSecret), in MemoryMarshal.GetReference(scalar),
            in MemoryMarshal.GetReference(peerPublicKey)) == 0;
    }

    private static void Check(ReadOnlySpan<byte> scalar, ReadOnlySpan<byte> output)
    {
        if (scalar.Length != ScalarLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(scalar), "An X25519 scalar is 32 bytes.");
        }
        if (output.Length < PointLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(output), "An X25519 output is 32 bytes.");
        }
    }

    // DllImport, not LibraryImport: the generated stub needs unsafe code, which the library does not allow. Byref
    // arguments to blittable bytes are pinned for the call.
    [DllImport(Libsodium, ExactSpelling = true)]
    private static extern int sodium_init();

    [DllImport(Libsodium, ExactSpelling = true)]
    private static extern int crypto_scalarmult_curve25519_base(ref byte q, in byte n);

    [DllImport(Libsodium, ExactSpelling = true)]
    private static extern int crypto_scalarmult_curve25519(ref byte q, in byte n, in byte p);
}
