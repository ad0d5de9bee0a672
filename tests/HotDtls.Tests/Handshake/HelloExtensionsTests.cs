using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed class HelloExtensionsTests
{
    [Fact]
    public void OpenSsl_client_extensions_scan_with_ems_and_unknown_types()
    {
        // session_ticket, encrypt_then_mac, extended_master_secret, signature_algorithms.
        byte[] block = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithoutCookie)[^58..];

        Assert.True(HelloExtensions.TryScan(block, out bool ems, out bool hasReneg, out ReadOnlySpan<byte> reneg, out bool unknown));

        Assert.True(ems);
        Assert.False(hasReneg);
        Assert.True(reneg.IsEmpty);
        Assert.True(unknown);
    }

    [Fact]
    public void Empty_content_scans_to_nothing()
    {
        Assert.True(HelloExtensions.TryScan(default, out bool ems, out bool hasReneg, out _, out bool unknown));
        Assert.False(ems || hasReneg || unknown);
    }

    [Theory]
    [InlineData("0017", "truncated type")]
    [InlineData("001700", "truncated length")]
    [InlineData("00170001", "data past the end")]
    [InlineData("0017000100", "extended_master_secret with data")]
    [InlineData("FF010000", "renegotiation_info without its length byte")]
    [InlineData("FF01000101", "renegotiated_connection past the end")]
    [InlineData("FF0100020000", "renegotiation_info with a trailing byte")]
    [InlineData("0017000000170000", "duplicate extended_master_secret")]
    [InlineData("FF01000100FF01000100", "duplicate renegotiation_info")]
    [InlineData("ABCD0000001700001234000000ABCD0000", "duplicate unknown type")]
    public void Malformed_blocks_fail(string hex, string why)
    {
        Assert.False(HelloExtensions.TryScan(Convert.FromHexString(hex), out _, out _, out _, out _), why);
    }

    [Fact]
    public void Renegotiation_info_content_is_exposed()
    {
        Assert.True(HelloExtensions.TryScan(Convert.FromHexString("FF01000302112200170000"), out bool ems, out bool hasReneg, out ReadOnlySpan<byte> reneg, out bool unknown));
        Assert.True(ems);
        Assert.True(hasReneg);
        Assert.Equal(new byte[] { 0x11, 0x22 }, reneg.ToArray());
        Assert.False(unknown);
    }

    [Fact]
    public void Many_distinct_extensions_pass_and_one_repeat_among_them_fails()
    {
        // Above the pairwise limit the duplicate check switches to a bitmap over all types.
        Assert.True(HelloExtensions.TryScan(ManyExtensions(2000, repeatLast: false), out _, out _, out _, out bool unknown));
        Assert.True(unknown);
        Assert.False(HelloExtensions.TryScan(ManyExtensions(2000, repeatLast: true), out _, out _, out _, out _));
        Assert.True(HelloExtensions.TryScan(ManyExtensions(32, repeatLast: false), out _, out _, out _, out _));
        Assert.False(HelloExtensions.TryScan(ManyExtensions(31, repeatLast: true), out _, out _, out _, out _));
        Assert.False(HelloExtensions.TryScan(ManyExtensions(33, repeatLast: true), out _, out _, out _, out _));
    }

    [Fact]
    public void Writer_emits_the_empty_renegotiation_info_then_ems_or_nothing()
    {
        Assert.Equal("0009FF0100010000170000", WriteBlock(renegotiationInfo: true, ems: true));
        Assert.Equal("0005FF01000100", WriteBlock(renegotiationInfo: true, ems: false));
        Assert.Equal("000400170000", WriteBlock(renegotiationInfo: false, ems: true));
        Assert.Equal(string.Empty, WriteBlock(renegotiationInfo: false, ems: false));
    }

    [Fact]
    public void Block_is_optional_but_when_present_must_end_the_message()
    {
        var absent = new HandshakeReader(default);
        Assert.True(HelloExtensions.TryReadBlock(ref absent, out ReadOnlySpan<byte> none));
        Assert.True(none.IsEmpty);

        var empty = new HandshakeReader(Convert.FromHexString("0000"));
        Assert.True(HelloExtensions.TryReadBlock(ref empty, out _));

        var oneByte = new HandshakeReader(Convert.FromHexString("00"));
        Assert.False(HelloExtensions.TryReadBlock(ref oneByte, out _));

        var trailing = new HandshakeReader(Convert.FromHexString("000400170000FF"));
        Assert.False(HelloExtensions.TryReadBlock(ref trailing, out _));

        var pastEnd = new HandshakeReader(Convert.FromHexString("0005001700"));
        Assert.False(HelloExtensions.TryReadBlock(ref pastEnd, out _));
    }

    [Fact]
    public void Encrypt_then_mac_supported_groups_and_point_formats_are_interpreted()
    {
        // encrypt_then_mac, supported_groups (x25519, secp256r1), ec_point_formats (uncompressed, compressed).
        var block = Convert.FromHexString("00160000" + "000a00060004001d0017" + "000b0003020001");

        Assert.True(HelloExtensions.TryScan(block, out HelloExtensionSummary summary));

        Assert.True(summary.EncryptThenMac);
        Assert.True(summary.HasSupportedGroups);
        Assert.Equal(Convert.FromHexString("001d0017"), summary.SupportedGroups.ToArray());
        Assert.True(summary.HasEcPointFormats);
        Assert.Equal(new byte[] { 0, 1 }, summary.EcPointFormats.ToArray());
        Assert.False(summary.HasUnknown || summary.ExtendedMasterSecret || summary.HasRenegotiationInfo);
    }

    [Theory]
    [InlineData("0016000100", "encrypt_then_mac with data")]
    [InlineData("000a0000", "supported_groups without its list length")]
    [InlineData("000a00020000", "supported_groups with an empty list")]
    [InlineData("000a0005000300170a", "supported_groups with an odd list")]
    [InlineData("000a00060002001d0017", "supported_groups list shorter than its extension")]
    [InlineData("000b000100", "ec_point_formats with an empty list")]
    [InlineData("000b00020200", "ec_point_formats list past the end")]
    [InlineData("000b0003010000", "ec_point_formats with a trailing byte")]
    [InlineData("0016000000160000", "duplicate encrypt_then_mac")]
    [InlineData("000a00040002001d000a00040002001d", "duplicate supported_groups")]
    public void Malformed_new_extensions_fail(string hex, string why)
    {
        Assert.False(HelloExtensions.TryScan(Convert.FromHexString(hex), out HelloExtensionSummary summary), why);
        Assert.False(summary.EncryptThenMac || summary.HasSupportedGroups || summary.HasEcPointFormats);
    }

    [Fact]
    public void A_client_block_with_every_extension_round_trips()
    {
        var buffer = new byte[64];
        var writer = new HandshakeWriter(buffer);
        HelloExtensions.Write(ref writer, renegotiationInfo: true, extendedMasterSecret: true, encryptThenMac: true,
            supportedGroups: [0x001D, 0x0017], ecPointFormats: true);
        Assert.Equal(HelloExtensions.GetBlockLength(true, true, true, 2, true), writer.Written);
        Assert.Equal("001d" + "ff01000100" + "00170000" + "00160000" + "000a00060004001d0017" + "000b00020100",
            Convert.ToHexString(buffer, 0, writer.Written).ToLowerInvariant());

        var reader = new HandshakeReader(buffer.AsSpan(0, writer.Written));
        Assert.True(HelloExtensions.TryReadBlock(ref reader, out var content));
        Assert.True(HelloExtensions.TryScan(content, out HelloExtensionSummary summary));
        Assert.True(summary.ExtendedMasterSecret && summary.HasRenegotiationInfo && summary.EncryptThenMac);
        Assert.Equal(Convert.FromHexString("001d0017"), summary.SupportedGroups.ToArray());
        Assert.Equal(new byte[] { 0 }, summary.EcPointFormats.ToArray());
    }

    private static string WriteBlock(bool renegotiationInfo, bool ems)
    {
        var buffer = new byte[32];
        var writer = new HandshakeWriter(buffer);
        HelloExtensions.Write(ref writer, renegotiationInfo, ems);
        Assert.Equal(HelloExtensions.GetBlockLength(renegotiationInfo, ems), writer.Written);
        return Convert.ToHexString(buffer, 0, writer.Written);
    }

    private static byte[] ManyExtensions(int count, bool repeatLast)
    {
        var bytes = new byte[(count + (repeatLast ? 1 : 0)) * 4];
        for (int i = 0; i < count; i++)
        {
            // Types 0x1000 + 3i: all distinct, none interpreted, each with empty data.
            int type = 0x1000 + (3 * i);
            bytes[4 * i] = (byte)(type >> 8);
            bytes[(4 * i) + 1] = (byte)type;
        }

        if (repeatLast)
        {
            Array.Copy(bytes, 4 * (count - 1), bytes, 4 * count, 4);
        }

        return bytes;
    }

    [Fact]
    public void Connection_id_and_rrc_are_interpreted()
    {
        // connection_id carrying 01 02 03 (RFC 9146 §3), then rrc (draft-ietf-tls-dtls-rrc: empty).
        var block = Convert.FromHexString("0036000403010203" + "003d0000");

        Assert.True(HelloExtensions.TryScan(block, out HelloExtensionSummary summary));

        Assert.True(summary.HasConnectionId);
        Assert.Equal(new byte[] { 1, 2, 3 }, summary.ConnectionId.ToArray());
        Assert.True(summary.ReturnRoutabilityCheck);
        Assert.False(summary.HasUnknown);
    }

    [Fact]
    public void An_empty_connection_id_is_present_with_no_bytes()
    {
        Assert.True(HelloExtensions.TryScan(Convert.FromHexString("0036000100"), out HelloExtensionSummary summary));
        Assert.True(summary.HasConnectionId);
        Assert.True(summary.ConnectionId.IsEmpty);
    }

    [Theory]
    [InlineData("00360000", "connection_id without its length byte")]
    [InlineData("003600020300", "connection_id shorter than its length byte says")]
    [InlineData("00360003010203", "connection_id with a trailing byte")]
    [InlineData("003d000100", "rrc with data")]
    [InlineData("00360001000036000100", "duplicate connection_id")]
    public void Malformed_connection_id_and_rrc_fail(string hex, string why)
    {
        Assert.False(HelloExtensions.TryScan(Convert.FromHexString(hex), out HelloExtensionSummary summary), why);
        Assert.False(summary.HasConnectionId || summary.ReturnRoutabilityCheck);
    }

    [Fact]
    public void A_block_with_connection_id_and_rrc_round_trips()
    {
        var buffer = new byte[64];
        var writer = new HandshakeWriter(buffer);
        HelloExtensions.Write(ref writer, renegotiationInfo: false, extendedMasterSecret: true, encryptThenMac: false,
            supportedGroups: default, ecPointFormats: false, writeConnectionId: true, connectionId: [0xAA, 0xBB],
            returnRoutabilityCheck: true);

        Assert.Equal(HelloExtensions.GetBlockLength(false, true, false, 0, false, 2, true), writer.Written);
        Assert.Equal("000f" + "00170000" + "00360003" + "02aabb" + "003d0000",
            Convert.ToHexString(buffer, 0, writer.Written).ToLowerInvariant());
        var reader = new HandshakeReader(buffer.AsSpan(0, writer.Written));
        Assert.True(HelloExtensions.TryReadBlock(ref reader, out var content));
        Assert.True(HelloExtensions.TryScan(content, out HelloExtensionSummary summary));
        Assert.Equal(new byte[] { 0xAA, 0xBB }, summary.ConnectionId.ToArray());
        Assert.True(summary.ReturnRoutabilityCheck && summary.ExtendedMasterSecret);
    }

    // record_size_limit (RFC 8449 §4): type 0x001C, a uint16; max_fragment_length (RFC 6066 §4): type 0x0001, one byte.
    [Theory]
    [InlineData("001C00020100", 256, 0)]
    [InlineData("001C00024000", 16384, 0)]
    [InlineData("001C0002003F", 63, 0)]       // below 64: well formed, the role refuses it (illegal_parameter)
    [InlineData("0001000101", 0, 1)]
    [InlineData("0001000104", 0, 4)]
    [InlineData("0001000107", 0, 7)]          // an unknown code: well formed, the role refuses it
    [InlineData("001C000201000001000102", 256, 2)]
    public void Record_limit_extensions_round_trip_as_golden_bytes(string hex, int recordSizeLimit, int maxFragmentLengthCode)
    {
        var content = Convert.FromHexString(hex);

        Assert.True(HelloExtensions.TryScan(content, out HelloExtensionSummary summary));
        Assert.Equal(recordSizeLimit != 0, summary.HasRecordSizeLimit);
        Assert.Equal(recordSizeLimit, summary.RecordSizeLimit);
        Assert.Equal(maxFragmentLengthCode != 0, summary.HasMaxFragmentLength);
        Assert.Equal(maxFragmentLengthCode, summary.MaxFragmentLength);
        Assert.False(summary.HasUnknown);

        // Written back, as AppendRecordLimits adds them to a hello without a block: the block length, then the same bytes.
        var message = new byte[3 + HelloExtensions.RecordLimitsAppendedLength];
        var length = HelloExtensions.AppendRecordLimits(message, 3, 3, summary.RecordSizeLimit, summary.MaxFragmentLength);
        Assert.Equal(Convert.FromHexString($"000000{content.Length:X4}{hex}"), message[..length]);
    }

    [Theory]
    [InlineData("001C0000", "record_size_limit without a value")]
    [InlineData("001C000101", "record_size_limit of one byte")]
    [InlineData("001C0003010000", "record_size_limit with a trailing byte")]
    [InlineData("00010000", "max_fragment_length without a code")]
    [InlineData("000100020101", "max_fragment_length of two bytes")]
    [InlineData("001C00020100001C00020100", "duplicate record_size_limit")]
    [InlineData("00010001010001000101", "duplicate max_fragment_length")]
    public void Malformed_record_limit_extensions_fail(string hex, string why)
    {
        Assert.False(HelloExtensions.TryScan(Convert.FromHexString(hex), out HelloExtensionSummary summary), why);
        Assert.False(summary.HasRecordSizeLimit || summary.HasMaxFragmentLength);
    }

    [Fact]
    public void Appending_to_an_existing_block_extends_its_length()
    {
        // A block holding extended_master_secret: 0004 0017 0000.
        var message = new byte[6 + HelloExtensions.RecordLimitsAppendedLength];
        Convert.FromHexString("000400170000").CopyTo(message, 0);

        var length = HelloExtensions.AppendRecordLimits(message, 6, 0, 1024, 3);

        Assert.Equal(Convert.FromHexString("000F00170000" + "001C00020400" + "0001000103"), message[..length]);
    }

    [Theory]
    [InlineData(512, 1)]
    [InlineData(1024, 2)]
    [InlineData(2048, 3)]
    [InlineData(4096, 4)]
    public void Max_fragment_length_codes_are_the_rfc_6066_ones(int length, byte code)
    {
        Assert.Equal(code, HelloExtensions.MaxFragmentLengthCode(length));
        Assert.Equal(length, HelloExtensions.MaxFragmentLengthOf(code));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(255)]
    public void Codes_outside_1_to_4_stand_for_no_length(byte code) => Assert.Equal(0, HelloExtensions.MaxFragmentLengthOf(code));
}
