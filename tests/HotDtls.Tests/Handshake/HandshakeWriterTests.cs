using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed class HandshakeWriterTests
{
    [Fact]
    public void Writes_big_endian_fields_and_vectors()
    {
        var buffer = new byte[16];
        var writer = new HandshakeWriter(buffer);
        writer.WriteUInt8(0x01);
        writer.WriteUInt16(0x0203);
        writer.WriteUInt24(0x040506);
        writer.WriteOpaque8([0xAA]);
        writer.WriteOpaque16([0xBB, 0xCC]);
        int written = writer.Written;

        Assert.Equal(Convert.FromHexString("01020304050601AA0002BBCC"), buffer[..written]);
    }

    [Fact]
    public void Misuse_throws()
    {
        Assert.Throws<ArgumentException>(() => HandshakeWriter.EnsureCapacity(new byte[3], 4));
        Assert.Throws<ArgumentException>(() => HandshakeWriter.EnsureLength(new byte[3], 4, 5, "value"));
        Assert.Throws<ArgumentException>(() => HandshakeWriter.EnsureLength(new byte[6], 4, 5, "value"));
        HandshakeWriter.EnsureCapacity(new byte[4], 4);
        HandshakeWriter.EnsureLength(new byte[5], 4, 5, "value");
    }
}
