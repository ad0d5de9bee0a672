namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// One DTLS 1.2 record header as it crossed the wire, for tests that check which records carry a Connection ID.
/// </summary>
/// <param name="ContentType">The outer type: 25 (tls12_cid) for a record with a CID, whose real type is encrypted.</param>
/// <param name="Epoch">The record's epoch.</param>
/// <param name="SequenceNumber">The record's 48-bit sequence number.</param>
/// <param name="ConnectionId">The CID a tls12_cid record carries; empty for any other record.</param>
/// <param name="Length">The length field: the bytes of the record's fragment.</param>
public sealed record WireRecord(byte ContentType, int Epoch, long SequenceNumber, byte[] ConnectionId, int Length)
{
    /// <summary>RFC 9146 §4: the content type of a record that carries a CID.</summary>
    public const byte Tls12Cid = 25;

    // RFC 6347 §4.1 / RFC 9146 §4:
    //   type(1) version(2) epoch(2) sequence_number(6) [cid(L), tls12_cid only] length(2) fragment(length)
    private const int HeaderBeforeCid = 11;

    /// <summary>
    /// The records of <paramref name="datagram"/>, reading a CID of <paramref name="cidLength"/> bytes from each
    /// tls12_cid record (the wire does not say how long it is: the receiver knows the CID it asked for). Stops at the
    /// first record that does not fit.
    /// </summary>
    public static List<WireRecord> Parse(ReadOnlySpan<byte> datagram, int cidLength)
    {
        var records = new List<WireRecord>();
        while (datagram.Length >= HeaderBeforeCid + 2)
        {
            var type = datagram[0];
            var cid = type == Tls12Cid ? cidLength : 0;
            if (datagram.Length < HeaderBeforeCid + cid + 2)
            {
                break;
            }
            var epoch = (datagram[3] << 8) | datagram[4];
            long sequence = 0;
            for (var i = 5; i < 11; i++)
            {
                sequence = (sequence << 8) | datagram[i];
            }
            var length = (datagram[HeaderBeforeCid + cid] << 8) | datagram[HeaderBeforeCid + cid + 1];
            var end = HeaderBeforeCid + cid + 2 + length;
            if (end > datagram.Length)
            {
                break;
            }
            records.Add(new WireRecord(type, epoch, sequence, datagram.Slice(HeaderBeforeCid, cid).ToArray(), length));
            datagram = datagram[end..];
        }
        return records;
    }
}
