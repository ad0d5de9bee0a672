using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Tests.Handshake;

public sealed class HelloVerifyRequestTests
{
    [Fact]
    public void Golden_bytes_round_trip()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.HelloVerifyRequest);

        Assert.True(HelloVerifyRequest.TryParse(body, out ushort version, out ReadOnlySpan<byte> cookie));

        Assert.Equal(ProtocolVersion.Dtls10, version);
        Assert.Equal(Convert.FromHexString("B37E26535EE951762DF285C9C2D484AFD1227A2B"), cookie.ToArray());
        var written = new byte[HelloVerifyRequest.GetLength(cookie.Length)];
        Assert.Equal(body.Length, HelloVerifyRequest.Write(written, version, cookie));
        Assert.Equal(body, written);
    }

    [Fact]
    public void Every_truncation_and_a_trailing_byte_fail()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.HelloVerifyRequest);
        for (int n = 0; n < body.Length; n++)
        {
            Assert.False(HelloVerifyRequest.TryParse(body.AsSpan(0, n), out _, out _));
        }

        Assert.False(HelloVerifyRequest.TryParse([.. body, 0], out _, out _));
    }

    [Fact]
    public void Empty_and_maximum_cookies_round_trip()
    {
        var empty = new byte[3];
        Assert.Equal(3, HelloVerifyRequest.Write(empty, ProtocolVersion.Dtls10, default));
        Assert.Equal(Convert.FromHexString("FEFF00"), empty);
        Assert.True(HelloVerifyRequest.TryParse(empty, out _, out ReadOnlySpan<byte> none));
        Assert.True(none.IsEmpty);

        var cookie = new byte[255];
        var max = new byte[258];
        Assert.Equal(258, HelloVerifyRequest.Write(max, ProtocolVersion.Dtls10, cookie));
        Assert.True(HelloVerifyRequest.TryParse(max, out _, out ReadOnlySpan<byte> parsed));
        Assert.Equal(255, parsed.Length);
    }

    [Fact]
    public void Writer_refuses_misuse()
    {
        Assert.Throws<ArgumentException>(() => HelloVerifyRequest.Write(new byte[300], ProtocolVersion.Dtls10, new byte[256]));
        Assert.Throws<ArgumentException>(() => HelloVerifyRequest.Write(new byte[22], ProtocolVersion.Dtls10, new byte[20]));
    }
}
