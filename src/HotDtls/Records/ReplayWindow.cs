namespace HotDtls.Records;

/// <summary>
/// Anti-replay sliding window for one epoch's record sequence numbers (RFC 6347 §4.1.2.6, after
/// RFC 4303 §3.4.3).
/// </summary>
/// <remarks>
/// <code>
///            left edge                           highest seen
///               |&lt;------------- Size (64) -------------&gt;|
///   ... reject  | bit 63 ........................ bit 0 |  accept (slides the window) ...
/// </code>
/// Bit <c>i</c> of the bitmap is set when <c>highest - i</c> has been accepted. The default value has
/// highest = 0 and an empty bitmap, so sequence 0 is acceptable and nothing has been seen.
/// <para>
/// RFC 6347 §4.1.2.6: "The receive window is updated only if the MAC verification succeeds." Hence the
/// split: <see cref="CanAccept"/> before decryption (cheap rejection of duplicates), <see cref="Accept"/>
/// only after the record authenticated, so a forged record cannot slide the window.
/// </para>
/// </remarks>
internal struct ReplayWindow
{
    /// <summary>How many sequence numbers up to the highest one seen are tracked.</summary>
    public const int Size = 64;

    private ulong _highest;
    private ulong _bitmap;

    /// <summary>False if <paramref name="sequenceNumber"/> was already accepted or is left of the window.</summary>
    public readonly bool CanAccept(ulong sequenceNumber)
    {
        if (sequenceNumber > _highest)
        {
            return true;
        }

        ulong offset = _highest - sequenceNumber;
        return offset < Size && (_bitmap & (1UL << (int)offset)) == 0;
    }

    /// <summary>
    /// Marks <paramref name="sequenceNumber"/> as seen, sliding the window when it is the new highest.
    /// Call only after the record authenticated and <see cref="CanAccept"/> returned true.
    /// </summary>
    /// <summary>Whether <paramref name="sequenceNumber"/> is newer than every number accepted so far (RFC 9146 §6).</summary>
    public readonly bool IsNewest(ulong sequenceNumber) => sequenceNumber > _highest || _bitmap == 0;

    public void Accept(ulong sequenceNumber)
    {
        if (sequenceNumber > _highest)
        {
            ulong shift = sequenceNumber - _highest;
            _bitmap = shift >= Size ? 1UL : (_bitmap << (int)shift) | 1UL;
            _highest = sequenceNumber;
            return;
        }

        ulong offset = _highest - sequenceNumber;
        if (offset < Size)
        {
            _bitmap |= 1UL << (int)offset;
        }
    }

    /// <summary>Forgets everything seen; used when a new epoch starts.</summary>
    public void Reset()
    {
        _highest = 0;
        _bitmap = 0;
    }
}
