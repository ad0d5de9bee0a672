namespace HotDtls.Fuzz.Targets;

/// <summary>Checks that a parsed field is a view of the bytes it was parsed from, never a copy or a stray span.</summary>
internal static class Slices
{
    /// <summary>Throws unless <paramref name="part"/> is empty or lies wholly inside <paramref name="whole"/>.</summary>
    public static void RequireWithin(ReadOnlySpan<byte> whole, ReadOnlySpan<byte> part, string what)
    {
        if (!part.IsEmpty && !(whole.Overlaps(part, out var offset) && offset >= 0 && offset + part.Length <= whole.Length))
        {
            throw new FuzzOracleException($"{what} is not a slice of the bytes it was parsed from");
        }
    }

    /// <summary>Throws unless <paramref name="part"/> starts exactly <paramref name="offset"/> bytes into <paramref name="whole"/>.</summary>
    public static void RequireAt(ReadOnlySpan<byte> whole, ReadOnlySpan<byte> part, int offset, string what)
    {
        RequireWithin(whole, part, what);
        if (!part.IsEmpty && (!whole.Overlaps(part, out var actual) || actual != offset))
        {
            throw new FuzzOracleException($"{what} was read from the wrong place: byte {actual}, expected {offset}");
        }
    }

    /// <summary>Whether two spans are the same view: both empty, or the same start and length.</summary>
    public static bool Same(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
        => (a.IsEmpty && b.IsEmpty) || (a.Length == b.Length && a.Overlaps(b, out var offset) && offset == 0);
}
