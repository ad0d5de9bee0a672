using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed class FinishedTests
{
    [Fact]
    public void Golden_bytes_round_trip_for_both_sides()
    {
        foreach (byte[] message in new[] { OpenSslCapture.ClientFinished, OpenSslCapture.ServerFinished })
        {
            byte[] body = OpenSslCapture.Body(message);

            Assert.True(Finished.TryParse(body, out ReadOnlySpan<byte> verifyData));

            Assert.Equal(Finished.VerifyDataLength, verifyData.Length);
            var written = new byte[Finished.VerifyDataLength];
            Assert.Equal(Finished.VerifyDataLength, Finished.Write(written, verifyData));
            Assert.Equal(body, written);
        }
    }

    [Fact]
    public void Anything_but_twelve_bytes_fails()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ClientFinished);
        for (int n = 0; n < body.Length; n++)
        {
            Assert.False(Finished.TryParse(body.AsSpan(0, n), out _));
        }

        Assert.False(Finished.TryParse([.. body, 0], out _));
    }

    [Fact]
    public void Writer_refuses_misuse()
    {
        Assert.Throws<ArgumentException>(() => Finished.Write(new byte[12], new byte[11]));
        Assert.Throws<ArgumentException>(() => Finished.Write(new byte[11], new byte[12]));
    }
}
