using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace HotDtls.Crypto;

/// <summary>
/// Throws for API misuse in the crypto types. Kept out of line so the per-record methods stay small
/// enough to inline and carry no exception-construction code on the hot path.
/// </summary>
internal static class CryptoThrowHelper
{
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowArgument(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowArgumentOutOfRange(string paramName, string message) =>
        throw new ArgumentOutOfRangeException(paramName, message);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowUnsupportedHash(string paramName) =>
        throw new ArgumentException("Only SHA-256 and SHA-384 are used by the supported cipher suites.", paramName);
}
