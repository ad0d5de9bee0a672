using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed class HandshakeReaderTests
{
    [Fact]
    public void Integers_are_big_endian_and_advance_the_cursor()
    {
        var reader = new HandshakeReader(Convert.FromHexString("01020304050607"));

        Assert.True(reader.TryReadUInt8(out byte a));
        Assert.True(reader.TryReadUInt16(out ushort b));
        Assert.True(reader.TryReadUInt24(out int c));

        Assert.Equal(0x01, a);
        Assert.Equal(0x0203, b);
        Assert.Equal(0x040506, c);
        Assert.Equal(6, reader.Consumed);
        Assert.Equal(1, reader.Remaining);
        Assert.False(reader.IsEmpty);
    }

    [Fact]
    public void A_failed_read_leaves_the_cursor_where_it_was()
    {
        var reader = new HandshakeReader(Convert.FromHexString("0303AA"));

        Assert.False(reader.TryReadOpaque16(0, ushort.MaxValue, out _));
        Assert.Equal(0, reader.Consumed);
        Assert.False(reader.TryReadOpaque8(0, 255, out _));
        Assert.Equal(0, reader.Consumed);
        Assert.False(reader.TryReadBytes(4, out _));
        Assert.False(reader.TryReadBytes(-1, out _));
        Assert.Equal(3, reader.Remaining);
    }

    [Fact]
    public void Vectors_enforce_their_bounds()
    {
        var reader = new HandshakeReader(Convert.FromHexString("02AABB"));
        Assert.False(reader.TryReadOpaque8(3, 255, out _));
        Assert.False(reader.TryReadOpaque8(0, 1, out _));
        Assert.True(reader.TryReadOpaque8(2, 2, out ReadOnlySpan<byte> value));
        Assert.Equal(new byte[] { 0xAA, 0xBB }, value.ToArray());
        Assert.True(reader.IsEmpty);

        var wide = new HandshakeReader(Convert.FromHexString("0001CC"));
        Assert.True(wide.TryReadOpaque16(1, 1, out ReadOnlySpan<byte> one));
        Assert.Equal(0xCC, one[0]);

        Assert.False(new HandshakeReader(Convert.FromHexString("FFFF00")).TryReadOpaque16(0, ushort.MaxValue, out _));
        Assert.False(new HandshakeReader(Convert.FromHexString("00")).TryReadOpaque16(0, ushort.MaxValue, out _));
        Assert.False(new HandshakeReader(default).TryReadOpaque8(0, 255, out _));
        Assert.False(new HandshakeReader(default).TryReadUInt8(out _));
        Assert.False(new HandshakeReader(Convert.FromHexString("01")).TryReadUInt16(out _));
    }
}
