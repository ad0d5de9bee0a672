using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Tests.Handshake;

public sealed class ClientHelloTests
{
    private static readonly string s_random = new('7', 64);

    [Fact]
    public void Golden_first_client_hello_parses()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithoutCookie);

        Assert.True(ClientHello.TryParse(body, out ClientHello hello));

        Assert.Equal(ProtocolVersion.Dtls12, hello.ClientVersion);
        Assert.Equal(body[2..34], hello.Random.ToArray());
        Assert.True(hello.SessionId.IsEmpty);
        Assert.True(hello.Cookie.IsEmpty);
        Assert.Equal(Convert.FromHexString("00A800FF"), hello.CipherSuites.ToArray());
        Assert.True(hello.OffersCipherSuite((ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256));
        Assert.False(hello.OffersCipherSuite((ushort)CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384));
        Assert.True(hello.OffersRenegotiationScsv);
        Assert.Equal(new byte[] { 0 }, hello.CompressionMethods.ToArray());
        Assert.True(hello.OffersNullCompression);
        Assert.True(hello.OffersExtendedMasterSecret);
        Assert.False(hello.HasRenegotiationInfo);
        Assert.Equal(body[46..], hello.Extensions.ToArray());
        Assert.Equal(body[..35], hello.CookieBindingPrefix.ToArray());
        Assert.Equal(Convert.FromHexString("000400A800FF0100"), hello.CookieBindingSuffix.ToArray());
    }

    [Fact]
    public void Golden_second_client_hello_carries_the_cookie_and_binds_like_the_first()
    {
        byte[] first = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithoutCookie);
        byte[] second = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithCookie);
        Assert.True(HelloVerifyRequest.TryParse(OpenSslCapture.Body(OpenSslCapture.HelloVerifyRequest), out _, out ReadOnlySpan<byte> sentCookie));

        Assert.True(ClientHello.TryParse(first, out ClientHello a));
        Assert.True(ClientHello.TryParse(second, out ClientHello b));

        Assert.Equal(sentCookie.ToArray(), b.Cookie.ToArray());
        Assert.Equal(20, b.Cookie.Length);
        Assert.Equal(a.CookieBindingPrefix.ToArray(), b.CookieBindingPrefix.ToArray());
        Assert.Equal(a.CookieBindingSuffix.ToArray(), b.CookieBindingSuffix.ToArray());
        Assert.Equal(a.Extensions.ToArray(), b.Extensions.ToArray());
    }

    [Fact]
    public void Writing_the_golden_fields_reproduces_the_golden_bytes_up_to_the_extensions()
    {
        // OpenSSL also sends session_ticket, encrypt_then_mac and signature_algorithms, which HotDtls never
        // writes; everything before the extension block must match byte for byte.
        byte[] golden = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithCookie);
        Assert.True(ClientHello.TryParse(golden, out ClientHello hello));
        var destination = new byte[256];

        int written = ClientHello.Write(destination, hello.ClientVersion, hello.Random, hello.SessionId, hello.Cookie, [0x00A8, 0x00FF], offerExtendedMasterSecret: true, offerRenegotiationInfo: false);

        int beforeExtensions = golden.Length - 2 - hello.Extensions.Length;
        Assert.Equal(golden[..beforeExtensions], destination[..beforeExtensions]);
        Assert.Equal(Convert.FromHexString("000400170000"), destination[beforeExtensions..written]);
        Assert.Equal(ClientHello.GetLength(0, 20, 2, true, false), written);
    }

    [Fact]
    public void Own_writer_output_round_trips_both_ways()
    {
        byte[] random = Convert.FromHexString(s_random);
        byte[] sessionId = [1, 2, 3];
        byte[] cookie = Convert.FromHexString("C0FFEE");
        var first = new byte[ClientHello.GetLength(3, 3, 2, true, true)];

        int written = ClientHello.Write(first, ProtocolVersion.Dtls12, random, sessionId, cookie, [0x00A8, 0x00A9], offerExtendedMasterSecret: true, offerRenegotiationInfo: true);

        Assert.Equal(first.Length, written);
        Assert.Equal(
            "FEFD" + s_random + "03010203" + "03C0FFEE" + "000400A800A9" + "0100" + "0009FF0100010000170000",
            Convert.ToHexString(first));
        Assert.True(ClientHello.TryParse(first, out ClientHello hello));
        Assert.True(hello.OffersExtendedMasterSecret);
        Assert.True(hello.HasRenegotiationInfo);
        Assert.True(hello.RenegotiationInfo.IsEmpty);
        Assert.False(hello.OffersRenegotiationScsv);
        Assert.Equal(sessionId, hello.SessionId.ToArray());
        Assert.Equal(cookie, hello.Cookie.ToArray());

        var second = new byte[written];
        ClientHello.Write(second, hello.ClientVersion, hello.Random, hello.SessionId, hello.Cookie, [0x00A8, 0x00A9], hello.OffersExtendedMasterSecret, hello.HasRenegotiationInfo);
        Assert.Equal(first, second);
    }

    [Theory]
    [InlineData(false, "")]
    [InlineData(true, "")]
    [InlineData(true, "0102030405")]
    public void A_session_ticket_is_written_last_and_parses_back(bool extensions, string ticketHex)
    {
        var ticket = Convert.FromHexString(ticketHex);
        var random = new byte[32];
        var sessionId = Enumerable.Repeat((byte)7, 32).ToArray();
        var buffer = new byte[ClientHello.GetLength(32, 0, 1, extensions, extensions, sessionTicketLength: ticket.Length)];

        var written = ClientHello.Write(buffer, ProtocolVersion.Dtls12, random, sessionId, [], [0x00A8], extensions, extensions,
            offerSessionTicket: true, sessionTicket: ticket);

        Assert.Equal(buffer.Length, written);
        // session_ticket (0023), its length, the ticket: the last bytes of the message.
        Assert.Equal([0x00, 0x23, 0x00, (byte)ticket.Length, .. ticket], buffer[^(4 + ticket.Length)..]);
        Assert.True(ClientHello.TryParse(buffer, out var hello));
        Assert.True(hello.HasSessionTicket);
        Assert.Equal(ticket, hello.SessionTicket.ToArray());
        Assert.Equal(sessionId, hello.SessionId.ToArray());
        Assert.Equal(extensions, hello.OffersExtendedMasterSecret);
    }

    [Fact]
    public void The_golden_hello_offers_an_empty_session_ticket()
    {
        Assert.True(ClientHello.TryParse(OpenSslCapture.Body(OpenSslCapture.ClientHelloWithoutCookie), out var hello));
        Assert.True(hello.HasSessionTicket);
        Assert.True(hello.SessionTicket.IsEmpty);
    }

    [Fact]
    public void Without_extensions_the_block_is_omitted_and_parses_as_absent()
    {
        var bytes = new byte[ClientHello.GetLength(0, 0, 1, false, false)];
        int written = ClientHello.Write(bytes, ProtocolVersion.Dtls12, Convert.FromHexString(s_random), default, default, [0x00A8], false, false);

        Assert.Equal("FEFD" + s_random + "0000" + "000200A8" + "0100", Convert.ToHexString(bytes, 0, written));
        Assert.True(ClientHello.TryParse(bytes, out ClientHello hello));
        Assert.True(hello.Extensions.IsEmpty);
        Assert.False(hello.OffersExtendedMasterSecret);
        Assert.False(hello.HasRenegotiationInfo);
    }

    [Fact]
    public void Every_truncation_fails_except_the_one_that_drops_the_whole_extension_block()
    {
        foreach (byte[] message in new[] { OpenSslCapture.ClientHelloWithoutCookie, OpenSslCapture.ClientHelloWithCookie })
        {
            byte[] body = OpenSslCapture.Body(message);
            Assert.True(ClientHello.TryParse(body, out ClientHello full));
            int withoutExtensions = body.Length - 2 - full.Extensions.Length;
            for (int n = 0; n < body.Length; n++)
            {
                Assert.Equal(n == withoutExtensions, ClientHello.TryParse(body.AsSpan(0, n), out _));
            }
        }
    }

    [Fact]
    public void Trailing_byte_fails()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithCookie);
        Assert.False(ClientHello.TryParse([.. body, 0], out _));
        Assert.False(ClientHello.TryParse(Build(extensions: "00"), out _));
    }

    [Theory]
    [InlineData("0003", "00A800", "odd cipher_suites length")]
    [InlineData("0001", "00", "odd cipher_suites length of one")]
    [InlineData("0000", "", "empty cipher_suites")]
    [InlineData("0006", "00A8", "cipher_suites past the end")]
    public void Bad_cipher_suites_fail(string length, string suites, string why)
    {
        Assert.False(ClientHello.TryParse(Build(cipherSuites: length + suites), out _), why);
    }

    [Fact]
    public void Bad_lengths_fail()
    {
        Assert.True(ClientHello.TryParse(Build(), out _));
        Assert.True(ClientHello.TryParse(Build(sessionId: "20" + new string('A', 64)), out _));
        Assert.False(ClientHello.TryParse(Build(sessionId: "21" + new string('A', 66)), out _));
        Assert.True(ClientHello.TryParse(Build(cookie: "FF" + new string('C', 510)), out _));
        Assert.False(ClientHello.TryParse(Build(cookie: "15" + new string('C', 40)), out _));
        Assert.False(ClientHello.TryParse(Build(compression: "00"), out _));
        Assert.False(ClientHello.TryParse(Build(compression: "02"), out _));
    }

    [Fact]
    public void Cookie_length_past_the_end_fails()
    {
        string beforeCookie = "FEFD" + s_random + "00";
        Assert.False(ClientHello.TryParse(Convert.FromHexString(beforeCookie + "FF" + "00112233"), out _));
    }

    [Fact]
    public void Bad_extension_blocks_fail()
    {
        Assert.True(ClientHello.TryParse(Build(extensions: "0000"), out ClientHello empty));
        Assert.True(empty.Extensions.IsEmpty);
        Assert.False(ClientHello.TryParse(Build(extensions: "0008" + "00170000" + "00170000"), out _));
        Assert.False(ClientHello.TryParse(Build(extensions: "0006" + "00230004" + "0000"), out _));
        Assert.False(ClientHello.TryParse(Build(extensions: "0009" + "00170000"), out _));
        Assert.False(ClientHello.TryParse(Build(extensions: "0005" + "0017000100"), out _));
    }

    [Fact]
    public void Null_compression_must_be_listed_to_be_offered()
    {
        Assert.True(ClientHello.TryParse(Build(compression: "020100"), out ClientHello withNull));
        Assert.True(withNull.OffersNullCompression);
        Assert.True(ClientHello.TryParse(Build(compression: "0101"), out ClientHello deflateOnly));
        Assert.False(deflateOnly.OffersNullCompression);
    }

    [Fact]
    public void Writer_refuses_misuse()
    {
        byte[] random = Convert.FromHexString(s_random);
        var big = new byte[1024];
        Assert.Throws<ArgumentException>(() => ClientHello.Write(big, 0xFEFD, random[..31], default, default, [0x00A8], false, false));
        Assert.Throws<ArgumentException>(() => ClientHello.Write(big, 0xFEFD, random, new byte[33], default, [0x00A8], false, false));
        Assert.Throws<ArgumentException>(() => ClientHello.Write(big, 0xFEFD, random, default, new byte[256], [0x00A8], false, false));
        Assert.Throws<ArgumentException>(() => ClientHello.Write(big, 0xFEFD, random, default, default, default, false, false));
        Assert.Throws<ArgumentException>(() => ClientHello.Write(new byte[40], 0xFEFD, random, default, default, [0x00A8], false, false));
    }

    [Fact]
    public void Parsing_allocates_nothing_even_on_the_bitmap_duplicate_path()
    {
        byte[] golden = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithCookie);
        var manyExtensions = new System.Text.StringBuilder();
        for (int i = 0; i < 100; i++)
        {
            manyExtensions.Append((0x2000 + i).ToString("X4", System.Globalization.CultureInfo.InvariantCulture)).Append("0000");
        }

        byte[] crowded = Build(extensions: (manyExtensions.Length / 2).ToString("X4", System.Globalization.CultureInfo.InvariantCulture) + manyExtensions);
        Assert.True(ClientHello.TryParse(golden, out _));
        Assert.True(ClientHello.TryParse(crowded, out _));

        long before = GC.GetAllocatedBytesForCurrentThread();
        bool parsed = ClientHello.TryParse(golden, out ClientHello hello) & ClientHello.TryParse(crowded, out _);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(parsed);
        Assert.True(hello.OffersExtendedMasterSecret);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Random_bytes_and_bit_flips_never_throw()
    {
        var random = new Random(6347);
        byte[] golden = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithCookie);
        var buffer = new byte[golden.Length];
        for (int i = 0; i < 20_000; i++)
        {
            golden.CopyTo(buffer, 0);
            buffer[random.Next(buffer.Length)] ^= (byte)(1 << random.Next(8));
            ClientHello.TryParse(buffer.AsSpan(0, random.Next(buffer.Length + 1)), out _);

            random.NextBytes(buffer);
            ClientHello.TryParse(buffer, out _);
        }
    }

    private static byte[] Build(
        string sessionId = "00",
        string cookie = "00",
        string cipherSuites = "000200A8",
        string compression = "0100",
        string extensions = "") =>
        Convert.FromHexString("FEFD" + s_random + sessionId + cookie + cipherSuites + compression + extensions);

    [Fact]
    public void Record_size_limit_and_max_fragment_length_are_written_after_the_block_and_parse_back()
    {
        byte[] random = Convert.FromHexString(s_random);
        byte[] cookie = [0xC0, 0xFF, 0xEE];
        var bytes = new byte[256];
        int written = ClientHello.Write(bytes, ProtocolVersion.Dtls12, random, default, cookie, [0x00A8], true, false);
        written = HelloExtensions.AppendRecordLimits(bytes, written, ClientHello.GetExtensionBlockStart(0, cookie.Length, 1), 64, 1);

        var golden = "FEFD" + s_random + "00" + "03C0FFEE" + "000200A8" + "0100"
            + "000F" + "00170000" + "001C00020040" + "0001000101";
        Assert.Equal(golden, Convert.ToHexString(bytes, 0, written));

        Assert.True(ClientHello.TryParse(Convert.FromHexString(golden), out var hello));
        Assert.True(hello.HasRecordSizeLimit);
        Assert.Equal(64, hello.RecordSizeLimit);
        Assert.True(hello.HasMaxFragmentLength);
        Assert.Equal(1, hello.MaxFragmentLength);
        Assert.True(hello.OffersExtendedMasterSecret);
        Assert.Equal(cookie, hello.Cookie.ToArray());
    }

    [Fact]
    public void A_hello_without_a_block_gets_one_for_the_limit()
    {
        var bytes = new byte[128];
        int written = ClientHello.Write(bytes, ProtocolVersion.Dtls12, Convert.FromHexString(s_random), default, default, [0x00A8], false, false);
        written = HelloExtensions.AppendRecordLimits(bytes, written, ClientHello.GetExtensionBlockStart(0, 0, 1), 16384, 0);

        Assert.Equal("FEFD" + s_random + "0000" + "000200A8" + "0100" + "0006" + "001C00024000", Convert.ToHexString(bytes, 0, written));
    }
}
