using HotDtls.Records;

namespace HotDtls.Tests.Records;

public sealed class AlertTests
{
    [Theory]
    [InlineData(new byte[] { 0x02, 0x28 }, (byte)2, AlertDescription.HandshakeFailure)]
    [InlineData(new byte[] { 0x01, 0x00 }, (byte)1, AlertDescription.CloseNotify)]
    [InlineData(new byte[] { 0x02, 0x33 }, (byte)2, AlertDescription.DecryptError)]
    [InlineData(new byte[] { 0x01, 0x64 }, (byte)1, AlertDescription.NoRenegotiation)]
    public void Golden_bytes_both_ways(byte[] bytes, byte levelByte, AlertDescription description)
    {
        var level = (AlertLevel)levelByte;
        Assert.True(Alert.TryRead(bytes, out Alert alert));
        Assert.Equal(level, alert.Level);
        Assert.Equal(description, alert.Description);

        var written = new byte[Alert.Size];
        alert.Write(written);
        Assert.Equal(bytes, written);

        var fromFields = new byte[Alert.Size];
        new Alert(level, description).Write(fromFields);
        Assert.Equal(bytes, fromFields);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void Wrong_length_is_rejected(int length)
    {
        Assert.False(Alert.TryRead(new byte[length], out Alert alert));
        Assert.Equal(default, alert.Level);
    }

    [Fact]
    public void Unknown_level_and_description_keep_their_raw_bytes()
    {
        byte[] bytes = [0xFF, 0xC8];
        Assert.True(Alert.TryRead(bytes, out Alert alert));
        Assert.Equal(0xFF, (byte)alert.Level);
        Assert.Equal(0xC8, (byte)alert.Description);

        var written = new byte[Alert.Size];
        alert.Write(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void Write_to_a_short_destination_is_misuse()
    {
        var alert = new Alert(AlertLevel.Fatal, AlertDescription.InternalError);
        Assert.Throws<ArgumentException>(() => alert.Write(new byte[1]));
    }
}
