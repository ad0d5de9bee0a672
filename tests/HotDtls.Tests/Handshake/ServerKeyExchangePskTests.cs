using System.Text;
using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed class ServerKeyExchangePskTests
{
    [Fact]
    public void Golden_bytes_round_trip()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ServerKeyExchange);

        Assert.True(ServerKeyExchangePsk.TryParse(body, out ReadOnlySpan<byte> identityHint));

        Assert.Equal("Qt DTLS example server", Encoding.ASCII.GetString(identityHint));
        var written = new byte[ServerKeyExchangePsk.GetLength(identityHint.Length)];
        Assert.Equal(body.Length, ServerKeyExchangePsk.Write(written, identityHint));
        Assert.Equal(body, written);
    }

    [Fact]
    public void Every_truncation_and_a_trailing_byte_fail()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ServerKeyExchange);
        for (int n = 0; n < body.Length; n++)
        {
            Assert.False(ServerKeyExchangePsk.TryParse(body.AsSpan(0, n), out _));
        }

        Assert.False(ServerKeyExchangePsk.TryParse([.. body, 0], out _));
        Assert.False(ServerKeyExchangePsk.TryParse(Convert.FromHexString("0003AABB"), out _));
    }

    [Fact]
    public void Empty_and_long_values_round_trip()
    {
        Assert.True(ServerKeyExchangePsk.TryParse(Convert.FromHexString("0000"), out ReadOnlySpan<byte> empty));
        Assert.True(empty.IsEmpty);

        // RFC 4279 §5.3: identities of up to 128 bytes MUST be supported; the field itself allows 2^16-1.
        var value = new byte[ushort.MaxValue];
        var bytes = new byte[2 + ushort.MaxValue];
        Assert.Equal(bytes.Length, ServerKeyExchangePsk.Write(bytes, value));
        Assert.True(ServerKeyExchangePsk.TryParse(bytes, out ReadOnlySpan<byte> parsed));
        Assert.Equal(ushort.MaxValue, parsed.Length);
    }

    [Fact]
    public void Writer_refuses_misuse()
    {
        Assert.Throws<ArgumentException>(() => ServerKeyExchangePsk.Write(new byte[70000], new byte[ushort.MaxValue + 1]));
        Assert.Throws<ArgumentException>(() => ServerKeyExchangePsk.Write(new byte[3], new byte[2]));
    }
}
