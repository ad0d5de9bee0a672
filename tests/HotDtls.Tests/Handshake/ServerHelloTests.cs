using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Tests.Handshake;

public sealed class ServerHelloTests
{
    private static readonly string s_random = new('5', 64);

    [Fact]
    public void Golden_server_hello_parses()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ServerHello);

        Assert.True(ServerHello.TryParse(body, out ServerHello hello));

        Assert.Equal(ProtocolVersion.Dtls12, hello.ServerVersion);
        Assert.Equal(body[2..34], hello.Random.ToArray());
        Assert.True(hello.SessionId.IsEmpty);
        Assert.Equal((ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, hello.CipherSuite);
        Assert.Equal(0, hello.CompressionMethod);
        Assert.True(hello.HasExtendedMasterSecret);
        Assert.True(hello.HasRenegotiationInfo);
        Assert.True(hello.RenegotiationInfo.IsEmpty);

        // session_ticket (0023), echoed empty because OpenSSL's client offered it (RFC 5077 §3.2).
        Assert.True(hello.HasSessionTicket);
        Assert.False(hello.HasNonEmptySessionTicket);
        Assert.False(hello.HasUnknownExtension);
    }

    [Fact]
    public void Writing_the_golden_fields_gives_the_golden_bytes_without_session_ticket()
    {
        byte[] golden = OpenSslCapture.Body(OpenSslCapture.ServerHello);
        Assert.True(ServerHello.TryParse(golden, out ServerHello hello));
        var destination = new byte[128];

        int written = ServerHello.Write(destination, hello.ServerVersion, hello.Random, hello.SessionId, hello.CipherSuite, hello.HasExtendedMasterSecret, hello.HasRenegotiationInfo);

        // The golden block is 000D FF01000100 00230000 00170000; ours drops the 4-byte session_ticket.
        byte[] expected = [.. golden[..^15], .. Convert.FromHexString("0009FF0100010000170000")];
        Assert.Equal(expected, destination[..written]);
        Assert.Equal(ServerHello.GetLength(0, true, true), written);
    }

    [Fact]
    public void Writing_the_golden_fields_with_session_ticket_gives_the_golden_bytes()
    {
        // OpenSSL's block is renegotiation_info, session_ticket (empty), extended_master_secret: the empty
        // session_ticket HotDtls appends goes last, so the golden order differs only there.
        byte[] golden = OpenSslCapture.Body(OpenSslCapture.ServerHello);
        Assert.True(ServerHello.TryParse(golden, out ServerHello hello));
        var destination = new byte[128];

        int written = ServerHello.Write(destination, hello.ServerVersion, hello.Random, hello.SessionId, hello.CipherSuite,
            hello.HasExtendedMasterSecret, hello.HasRenegotiationInfo, sessionTicket: true);

        byte[] expected = [.. golden[..^15], .. Convert.FromHexString("000DFF010001000017000000230000")];
        Assert.Equal(expected, destination[..written]);
        Assert.Equal(ServerHello.GetLength(0, true, true, sessionTicket: true), written);
        Assert.True(ServerHello.TryParse(destination.AsSpan(0, written), out var parsed));
        Assert.True(parsed.HasSessionTicket);
        Assert.False(parsed.HasNonEmptySessionTicket);
    }

    [Fact]
    public void A_session_ticket_extension_with_data_is_flagged()
    {
        var body = new byte[128];
        var length = ServerHello.Write(body, ProtocolVersion.Dtls12, Convert.FromHexString(s_random), [], 0x00A8,
            extendedMasterSecret: false, renegotiationInfo: false);
        byte[] withTicket = [.. body[..length], .. Convert.FromHexString("0005002300010A")];

        Assert.True(ServerHello.TryParse(withTicket, out var hello));
        Assert.True(hello.HasNonEmptySessionTicket);
    }

    [Fact]
    public void Own_writer_output_round_trips_both_ways()
    {
        byte[] random = Convert.FromHexString(s_random);
        byte[] sessionId = Convert.FromHexString(new string('9', 64));
        var first = new byte[ServerHello.GetLength(32, true, false)];

        int written = ServerHello.Write(first, ProtocolVersion.Dtls12, random, sessionId, 0x00A9, extendedMasterSecret: true, renegotiationInfo: false);

        Assert.Equal(first.Length, written);
        Assert.Equal("FEFD" + s_random + "20" + new string('9', 64) + "00A9" + "00" + "000400170000", Convert.ToHexString(first));
        Assert.True(ServerHello.TryParse(first, out ServerHello hello));
        Assert.False(hello.HasUnknownExtension);
        Assert.False(hello.HasRenegotiationInfo);
        var second = new byte[written];
        ServerHello.Write(second, hello.ServerVersion, hello.Random, hello.SessionId, hello.CipherSuite, hello.HasExtendedMasterSecret, hello.HasRenegotiationInfo);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Without_extensions_the_block_is_omitted()
    {
        var bytes = new byte[64];
        int written = ServerHello.Write(bytes, ProtocolVersion.Dtls12, Convert.FromHexString(s_random), default, 0x00A8, false, false);

        Assert.Equal("FEFD" + s_random + "00" + "00A8" + "00", Convert.ToHexString(bytes, 0, written));
        Assert.True(ServerHello.TryParse(bytes.AsSpan(0, written), out ServerHello hello));
        Assert.False(hello.HasExtendedMasterSecret || hello.HasRenegotiationInfo || hello.HasUnknownExtension);
    }

    [Fact]
    public void Every_truncation_fails_except_the_one_that_drops_the_whole_extension_block()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ServerHello);
        const int WithoutExtensions = 2 + 32 + 1 + 2 + 1;
        for (int n = 0; n < body.Length; n++)
        {
            Assert.Equal(n == WithoutExtensions, ServerHello.TryParse(body.AsSpan(0, n), out _));
        }
    }

    [Fact]
    public void Bad_input_fails()
    {
        string head = "FEFD" + s_random;
        Assert.True(ServerHello.TryParse(Convert.FromHexString(head + "00" + "00A8" + "00"), out _));
        Assert.False(ServerHello.TryParse([.. OpenSslCapture.Body(OpenSslCapture.ServerHello), 0], out _));
        Assert.False(ServerHello.TryParse(Convert.FromHexString(head + "00" + "00A8" + "00" + "00"), out _));
        Assert.False(ServerHello.TryParse(Convert.FromHexString(head + "21" + new string('1', 66) + "00A8" + "00"), out _));
        Assert.False(ServerHello.TryParse(Convert.FromHexString(head + "00" + "00A8" + "00" + "0008" + "00170000" + "00170000"), out _));
        Assert.False(ServerHello.TryParse(Convert.FromHexString(head + "00" + "00A8" + "00" + "0004" + "00170004"), out _));
        Assert.False(ServerHello.TryParse(Convert.FromHexString(head + "00" + "00A8" + "00" + "0005" + "00170000"), out _));
    }

    [Fact]
    public void Writer_refuses_misuse()
    {
        byte[] random = Convert.FromHexString(s_random);
        Assert.Throws<ArgumentException>(() => ServerHello.Write(new byte[128], 0xFEFD, random[1..], default, 0x00A8, false, false));
        Assert.Throws<ArgumentException>(() => ServerHello.Write(new byte[128], 0xFEFD, random, new byte[33], 0x00A8, false, false));
        Assert.Throws<ArgumentException>(() => ServerHello.Write(new byte[40], 0xFEFD, random, default, 0x00A8, true, false));
    }

    [Fact]
    public void A_server_hello_answering_record_size_limit_and_max_fragment_length_round_trips()
    {
        var random = Convert.FromHexString(s_random);
        byte[] sessionId = [1, 2, 3, 4];
        var buffer = new byte[160];
        var length = ServerHello.Write(buffer, ProtocolVersion.Dtls12, random, sessionId,
            (ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, extendedMasterSecret: true, renegotiationInfo: false);
        length = HelloExtensions.AppendRecordLimits(buffer, length, ServerHello.GetExtensionBlockStart(sessionId.Length), 512, 2);

        // version, random, session_id, suite, compression, then the block: extended_master_secret, record_size_limit 512,
        // max_fragment_length 2^10.
        var golden = Convert.FromHexString("FEFD" + s_random + "0401020304" + "00A8" + "00"
            + "000F" + "00170000" + "001C00020200" + "0001000102");
        Assert.Equal(golden, buffer[..length]);

        Assert.True(ServerHello.TryParse(golden, out var hello));
        Assert.True(hello.HasRecordSizeLimit);
        Assert.Equal(512, hello.RecordSizeLimit);
        Assert.True(hello.HasMaxFragmentLength);
        Assert.Equal(2, hello.MaxFragmentLength);
        Assert.True(hello.HasExtendedMasterSecret);
        Assert.False(hello.HasUnknownExtension);
    }
}
