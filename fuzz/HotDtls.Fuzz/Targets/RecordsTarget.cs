using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The datagram → records parser (RFC 6347 §4.1): every record it yields lies inside the datagram, the bodies of
/// plaintext record types parse or are refused, and the replay window never accepts a number twice.
/// </summary>
internal static class RecordsTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        var reader = new DatagramReader(input);
        var window = default(ReplayWindow);
        var end = 0;
        while (reader.TryReadRecord(out var header, out var offset))
        {
            if (offset < end + RecordHeader.Size || offset + header.Length > input.Length)
            {
                throw new FuzzOracleException($"record body [{offset}, {offset + header.Length}) escapes the datagram of {input.Length} bytes");
            }
            if (header.SequenceNumber > RecordHeader.MaxSequenceNumber || header.Length > DatagramReader.MaxCiphertextLength)
            {
                throw new FuzzOracleException("a record header outside RFC 6347's ranges was accepted");
            }
            end = offset + header.Length;
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
    }
}
