using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace HotDtls.Records;

/// <summary>The body of a change_cipher_spec record (RFC 5246 §7.1).</summary>
/// <remarks>
/// <code>
/// struct {
///     enum { change_cipher_spec(1), (255) } type;   // offset 0, 1 byte
/// } ChangeCipherSpec;
/// </code>
/// Anything but the single byte 1 is malformed. Whether a valid one is allowed now (HOSTILE cases 29–32)
/// is the handshake state machine's decision, not this parser's.
/// </remarks>
internal static class ChangeCipherSpec
{
    /// <summary>Bytes in a ChangeCipherSpec body.</summary>
    public const int Size = 1;

    private const byte ChangeCipherSpecValue = 1;

    /// <summary>True when <paramref name="body"/> is exactly the one byte 1.</summary>
    public static bool IsValid(ReadOnlySpan<byte> body) => body.Length == Size && body[0] == ChangeCipherSpecValue;

    /// <summary>Writes the message into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public static void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowDestinationTooShort();
        }

        destination[0] = ChangeCipherSpecValue;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooShort() =>
        throw new ArgumentException($"The destination must hold at least {Size} byte.", "destination");
}
