using HotDtls.Records;

namespace HotDtls.Tests.Records;

public sealed class ReturnRoutabilityCheckTests
{
    [Theory]
    [InlineData(0, "000102030405060708")]
    [InlineData(1, "010102030405060708")]
    [InlineData(2, "020102030405060708")]
    public void Golden_bytes_both_ways(byte typeCode, string hex)
    {
        var type = (ReturnRoutabilityCheckType)typeCode;
        var bytes = new byte[ReturnRoutabilityCheck.Size];
        new ReturnRoutabilityCheck(type, 0x0102030405060708).Write(bytes);
        Assert.Equal(hex, Convert.ToHexString(bytes).ToLowerInvariant());

        Assert.True(ReturnRoutabilityCheck.TryRead(Convert.FromHexString(hex), out var read));
        Assert.Equal(type, read.Type);
        Assert.Equal(0x0102030405060708UL, read.Cookie);
    }

    [Theory]
    [InlineData("")]
    [InlineData("00")]
    [InlineData("0001020304050607")]
    [InlineData("00010203040506070809")]
    public void Anything_but_nine_bytes_is_refused(string hex)
        => Assert.False(ReturnRoutabilityCheck.TryRead(Convert.FromHexString(hex), out _));

    [Fact]
    public void An_unknown_type_is_kept_for_the_caller_to_drop()
    {
        Assert.True(ReturnRoutabilityCheck.TryRead(Convert.FromHexString("7f0000000000000000"), out var read));
        Assert.Equal((ReturnRoutabilityCheckType)0x7F, read.Type);
    }

    [Fact]
    public void Writing_into_too_little_room_throws()
        => Assert.Throws<ArgumentException>(() => new ReturnRoutabilityCheck(ReturnRoutabilityCheckType.PathChallenge, 1).Write(new byte[8]));
}
