namespace HotDtls.Records;

/// <summary>
/// Walks the records packed in one datagram, handing back each header and where its body starts.
/// </summary>
/// <remarks>
/// <code>
///  datagram:  | header (13) | body (length) | header (13) | body (length) | ... |
///             ^ record 0                     ^ record 1
/// </code>
/// RFC 6347 §4.1.1: "Multiple DTLS records may be placed in a single datagram. [...] Records
/// [...] MUST NOT span datagrams." So a record whose length runs past the end of the datagram is
/// malformed, and since record boundaries can no longer be trusted, so is everything after it.
/// RFC 6347 §4.1.2.7: invalid records SHOULD be silently discarded; the records before the bad one
/// were framed correctly and are still returned (HOSTILE cases 1 and 6).
/// <para>
/// The reader hands back an offset rather than a slice so the caller can cut a writable
/// <see cref="Span{T}"/> out of its own receive buffer and decrypt the body in place.
/// </para>
/// </remarks>
internal ref struct DatagramReader
{
    /// <summary>
    /// 2^14: the most plaintext a record may carry (RFC 5246 §6.2.1, RFC 6347 §4.1). An epoch-0 record
    /// is plaintext, so the caller drops one longer than this; the reader only applies the looser cap below.
    /// </summary>
    public const int MaxPlaintextLength = 16384;

    /// <summary>
    /// 2^14 + 2048: "The length MUST NOT exceed 2^14 + 2048" for a protected record (RFC 5246 §6.2.3).
    /// Nothing is ever sized from a length field; this only rejects frames no peer may send (CVE-2016-6308).
    /// </summary>
    public const int MaxCiphertextLength = 16384 + 2048;

    private readonly ReadOnlySpan<byte> _datagram;
    private readonly int _connectionIdLength;
    private int _offset;
    private bool _stopped;

    /// <summary>Starts at the first record of <paramref name="datagram"/>.</summary>
    public DatagramReader(ReadOnlySpan<byte> datagram)
        : this(datagram, 0)
    {
    }

    /// <summary>
    /// Starts at the first record of <paramref name="datagram"/>, framing tls12_cid records with the
    /// <paramref name="connectionIdLength"/>-byte CIDs this receiver issues (RFC 9146 §4; 0: it issues none, and a
    /// tls12_cid record is malformed).
    /// </summary>
    public DatagramReader(ReadOnlySpan<byte> datagram, int connectionIdLength)
    {
        _datagram = datagram;
        _connectionIdLength = connectionIdLength;
        _offset = 0;
        _stopped = false;
        Malformed = false;
    }

    /// <summary>True when reading stopped on bytes that are not a whole record, rather than at the end.</summary>
    public bool Malformed { readonly get; private set; }

    /// <summary>
    /// Reads the next record. The body is <c>datagram.Slice(bodyOffset, header.Length)</c>; a tls12_cid record's CID
    /// is the <see cref="RecordHeader.ConnectionIdLength"/> bytes ending 2 bytes before it (<see cref="ConnectionIdOf"/>).
    /// False at the end of the datagram or at the first malformed record; every later call is false too.
    /// </summary>
    public bool TryReadRecord(out RecordHeader header, out int bodyOffset)
    {
        if (_stopped || _offset == _datagram.Length)
        {
            return Stop(malformed: false, out header, out bodyOffset);
        }

        ReadOnlySpan<byte> rest = _datagram[_offset..];
        if (!RecordHeader.TryRead(rest, _connectionIdLength, out RecordHeader candidate)
            || candidate.Length > MaxCiphertextLength
            || candidate.Length > rest.Length - candidate.WireSize)
        {
            return Stop(malformed: true, out header, out bodyOffset);
        }

        header = candidate;
        bodyOffset = _offset + candidate.WireSize;
        _offset = bodyOffset + candidate.Length;
        return true;
    }

    /// <summary>The CID of a record <see cref="TryReadRecord"/> returned (empty unless it is a tls12_cid record).</summary>
    public static Span<byte> ConnectionIdOf(Span<byte> datagram, scoped in RecordHeader header, int bodyOffset)
        => datagram.Slice(bodyOffset - 2 - header.ConnectionIdLength, header.ConnectionIdLength);

    private bool Stop(bool malformed, out RecordHeader header, out int bodyOffset)
    {
        // Only the first stop decides: a later call must not turn a malformed stop into a clean end.
        if (!_stopped)
        {
            _stopped = true;
            Malformed = malformed;
        }

        header = default;
        bodyOffset = 0;
        return false;
    }
}
