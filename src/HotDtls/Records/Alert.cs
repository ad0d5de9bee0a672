using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace HotDtls.Records;

/// <summary>The body of an alert record (RFC 5246 §7.2).</summary>
/// <remarks>
/// <code>
/// struct {
///     AlertLevel level;                  // offset 0, 1 byte
///     AlertDescription description;      // offset 1, 1 byte
/// } Alert;
/// </code>
/// Unknown levels and descriptions are kept as their raw bytes: RFC 5246 §7.2 leaves the reaction to an
/// unknown alert to the receiver, so deciding is the engine's job, not the parser's.
/// </remarks>
internal readonly struct Alert
{
    /// <summary>Bytes in an alert body.</summary>
    public const int Size = 2;

    private const int LevelOffset = 0;
    private const int DescriptionOffset = 1;

    /// <summary>Creates an alert.</summary>
    public Alert(AlertLevel level, AlertDescription description)
    {
        Level = level;
        Description = description;
    }

    /// <summary>warning or fatal (or the raw byte of an unknown level).</summary>
    public AlertLevel Level { get; }

    /// <summary>What happened (or the raw byte of an unknown description).</summary>
    public AlertDescription Description { get; }

    /// <summary>
    /// Decodes an alert body. False unless <paramref name="source"/> is exactly <see cref="Size"/> bytes:
    /// one record carrying a partial, or several, alerts is not something HotDtls or its peers send.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out Alert alert)
    {
        if (source.Length != Size)
        {
            alert = default;
            return false;
        }

        alert = new Alert((AlertLevel)source[LevelOffset], (AlertDescription)source[DescriptionOffset]);
        return true;
    }

    /// <summary>Writes the alert into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowDestinationTooShort();
        }

        destination[LevelOffset] = (byte)Level;
        destination[DescriptionOffset] = (byte)Description;
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooShort() =>
        throw new ArgumentException($"The destination must hold at least {Size} bytes.", "destination");
}
