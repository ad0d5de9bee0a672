using HotDtls.Records;

namespace HotDtls.Tests.Records;

public sealed class ChangeCipherSpecTests
{
    [Fact]
    public void Golden_bytes_both_ways()
    {
        byte[] golden = [0x01];
        Assert.True(ChangeCipherSpec.IsValid(golden));

        var written = new byte[ChangeCipherSpec.Size];
        ChangeCipherSpec.Write(written);
        Assert.Equal(golden, written);
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { 0x00 })]
    [InlineData(new byte[] { 0x02 })]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0x01, 0x01 })]
    [InlineData(new byte[] { 0x01, 0x00 })]
    public void Anything_but_the_single_byte_1_is_invalid(byte[] body)
    {
        Assert.False(ChangeCipherSpec.IsValid(body));
    }

    [Fact]
    public void Write_to_an_empty_destination_is_misuse()
    {
        Assert.Throws<ArgumentException>(() => ChangeCipherSpec.Write([]));
    }
}
