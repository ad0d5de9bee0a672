using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The datagram → records parser (RFC 6347 §4.1, RFC 9146 §4): every record it yields lies inside the datagram, the
/// bodies of plaintext record types parse or are refused, and the replay window never accepts a number twice. Each
/// input is read once per CID length a receiver may have issued (<see cref="ConnectionIdLengths"/>).
/// </summary>
/// <remarks>
/// <code>
///  without a CID:  | type | version (2) | epoch (2) | seq (6) | length (2)     | body |
///  tls12_cid:      | 25   | version (2) | epoch (2) | seq (6) | cid (n) | length (2) | body |
/// </code>
/// The CID's length n is not on the wire: the receiver knows it (RFC 9146 §4). A receiver that issued none (n = 0)
/// cannot frame a tls12_cid record, so the reader must stop there.
/// </remarks>
internal static class RecordsTarget
{
    /// <summary>0 (no CID issued), the smallest and largest a HotDtls server issues, its default, and a client's 1 byte.</summary>
    public static readonly int[] ConnectionIdLengths =
        [0, 1, DtlsServerOptions.MinServerConnectionIdLength, 6, DtlsServerOptions.MaxServerConnectionIdLength];

    /// <summary>tls12_cid records the last input framed, over every CID length (replay prints it).</summary>
    public static int LastConnectionIdRecords { get; private set; }

    public static void Run(ReadOnlySpan<byte> input)
    {
        LastConnectionIdRecords = 0;
        foreach (var connectionIdLength in ConnectionIdLengths)
        {
            LastConnectionIdRecords += Read(input, connectionIdLength);
        }
    }

    private static int Read(ReadOnlySpan<byte> input, int connectionIdLength)
    {
        var reader = new DatagramReader(input, connectionIdLength);
        var window = default(ReplayWindow);
        var end = 0;
        var cidRecords = 0;
        // ConnectionIdOf cuts from a writable datagram (the receive buffer): it gets a copy of each header.
        Span<byte> headerScratch = stackalloc byte[RecordHeader.Size + byte.MaxValue];
        while (reader.TryReadRecord(out var header, out var offset))
        {
            var isCidRecord = header.Type == ContentType.Tls12Cid;
            if (isCidRecord ? header.ConnectionIdLength != connectionIdLength || connectionIdLength == 0 : header.ConnectionIdLength != 0)
            {
                throw new FuzzOracleException(
                    $"a {(byte)header.Type} record was framed with a {header.ConnectionIdLength}-byte CID by a reader of {connectionIdLength}-byte CIDs");
            }
            if (header.WireSize != RecordHeader.Size + header.ConnectionIdLength
                || offset != end + header.WireSize || offset + header.Length > input.Length)
            {
                throw new FuzzOracleException(
                    $"record body [{offset}, {offset + header.Length}) after a header of {header.WireSize} bytes at {end} escapes the datagram of {input.Length} bytes (CID length {connectionIdLength})");
            }
            if (header.SequenceNumber > RecordHeader.MaxSequenceNumber || header.Length > DatagramReader.MaxCiphertextLength)
            {
                throw new FuzzOracleException("a record header outside RFC 6347's ranges was accepted");
            }
            // The header's fields are where RFC 6347 §4.1 and RFC 9146 §4 put them: the CID right after the sequence
            // number, the length field right after the CID.
            var headerBytes = input.Slice(end, header.WireSize);
            var headerCopy = headerScratch[..header.WireSize];
            headerBytes.CopyTo(headerCopy);
            var connectionId = DatagramReader.ConnectionIdOf(headerCopy, header, header.WireSize);
            if (headerBytes[0] != (byte)header.Type
                || ((headerBytes[1] << 8) | headerBytes[2]) != header.Version
                || ((headerBytes[3] << 8) | headerBytes[4]) != header.Epoch
                || ((headerBytes[^2] << 8) | headerBytes[^1]) != header.Length
                || connectionId.Length != header.ConnectionIdLength
                || !connectionId.SequenceEqual(headerBytes.Slice(11, header.ConnectionIdLength)))
            {
                throw new FuzzOracleException($"a header of {header.WireSize} bytes at {end} was read from the wrong places (CID length {connectionIdLength})");
            }
            end = offset + header.Length;
            cidRecords += isCidRecord ? 1 : 0;
            var body = input.Slice(offset, header.Length);
            switch (header.Type)
            {
                case ContentType.Alert:
                    _ = Alert.TryRead(body, out _);
                    break;
                case ContentType.Handshake when header.Epoch == 0:
                    if (HandshakeHeader.TryRead(body, out var handshake)
                        && handshake.FragmentOffset + handshake.FragmentLength > handshake.Length)
                    {
                        throw new FuzzOracleException("a handshake fragment reaching past its message was accepted");
                    }
                    break;
            }
            if (window.CanAccept(header.SequenceNumber))
            {
                window.Accept(header.SequenceNumber);
                if (window.CanAccept(header.SequenceNumber))
                {
                    throw new FuzzOracleException($"the replay window accepts sequence number {header.SequenceNumber} twice");
                }
            }
        }
        // A stop before the end is a malformed record; a clean end consumed every byte.
        if (!reader.Malformed && end != input.Length)
        {
            throw new FuzzOracleException($"the reader ended cleanly at byte {end} of {input.Length} (CID length {connectionIdLength})");
        }
        return cidRecords;
    }
}
