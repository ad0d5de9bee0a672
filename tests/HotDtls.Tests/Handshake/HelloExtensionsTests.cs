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
}
