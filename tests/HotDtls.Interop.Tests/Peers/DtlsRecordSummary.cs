namespace HotDtls.Interop.Tests.Peers;

/// <summary>A one-line summary of the DTLS records in a datagram, for <see cref="LossyUdpRelayOptions.Trace"/>.</summary>
internal static class DtlsRecordSummary
{
    // RFC 6347 §4.1: type(1) version(2) epoch(2) sequence_number(6) length(2), then the fragment; an epoch-0
    // handshake fragment starts with msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3).
    private const int RecordHeaderLength = 13;

    public static string Describe(ReadOnlySpan<byte> datagram)
    {
        var parts = new List<string>();
        while (datagram.Length >= RecordHeaderLength)
        {
            var type = datagram[0];
            var epoch = (datagram[3] << 8) | datagram[4];
            if (type == 25)
            {
                // RFC 9146 tls12_cid: the CID's length is not on the wire, so neither is where this record ends.
                parts.Add($"CID(e{epoch})");
                break;
            }
            var length = (datagram[11] << 8) | datagram[12];
            var body = datagram[RecordHeaderLength..Math.Min(datagram.Length, RecordHeaderLength + length)];
            parts.Add(type switch
            {
                22 when epoch == 0 && body.Length >= 12 =>
                    $"{HandshakeName(body[0])}{(((body[6] << 16) | (body[7] << 8) | body[8]) is var offset && offset > 0 ? $"@{offset}" : "")}",
                22 => $"HS(e{epoch})",
                20 => "CCS",
                21 => $"Alert(e{epoch})",
                23 => $"App(e{epoch})",
                _ => $"?{type}",
            });
            datagram = datagram[Math.Min(datagram.Length, RecordHeaderLength + length)..];
        }
        return string.Join(' ', parts);
    }

    private static string HandshakeName(byte type) => type switch
    {
        1 => "ClientHello",
        2 => "ServerHello",
        3 => "HelloVerifyRequest",
        12 => "ServerKeyExchange",
        14 => "ServerHelloDone",
        16 => "ClientKeyExchange",
        20 => "Finished",
        _ => $"HS{type}",
    };
}
