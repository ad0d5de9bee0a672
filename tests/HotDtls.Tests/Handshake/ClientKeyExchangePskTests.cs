using System.Text;
using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed class ClientKeyExchangePskTests
{
    [Fact]
    public void Golden_bytes_round_trip()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ClientKeyExchange);

        Assert.True(ClientKeyExchangePsk.TryParse(body, out ReadOnlySpan<byte> identity));

        Assert.Equal("Qt DTLS example client", Encoding.ASCII.GetString(identity));
        var written = new byte[ClientKeyExchangePsk.GetLength(identity.Length)];
        Assert.Equal(body.Length, ClientKeyExchangePsk.Write(written, identity));
        Assert.Equal(body, written);
    }

    [Fact]
    public void Every_truncation_and_a_trailing_byte_fail()
    {
        byte[] body = OpenSslCapture.Body(OpenSslCapture.ClientKeyExchange);
        for (int n = 0; n < body.Length; n++)
        {
            Assert.False(ClientKeyExchangePsk.TryParse(body.AsSpan(0, n), out _));
        }

        Assert.False(ClientKeyExchangePsk.TryParse([.. body, 0], out _));
        Assert.False(ClientKeyExchangePsk.TryParse(Convert.FromHexString("0003AABB"), out _));
    }

    [Fact]
    public void Empty_and_long_values_round_trip()
    {
        Assert.True(ClientKeyExchangePsk.TryParse(Convert.FromHexString("0000"), out ReadOnlySpan<byte> empty));
        Assert.True(empty.IsEmpty);

        // RFC 4279 §5.3: identities of up to 128 bytes MUST be supported; the field itself allows 2^16-1.
        var value = new byte[ushort.MaxValue];
        var bytes = new byte[2 + ushort.MaxValue];
        Assert.Equal(bytes.Length, ClientKeyExchangePsk.Write(bytes, value));
        Assert.True(ClientKeyExchangePsk.TryParse(bytes, out ReadOnlySpan<byte> parsed));
        Assert.Equal(ushort.MaxValue, parsed.Length);
    }

    [Fact]
    public void Writer_refuses_misuse()
    {
        Assert.Throws<ArgumentException>(() => ClientKeyExchangePsk.Write(new byte[70000], new byte[ushort.MaxValue + 1]));
        Assert.Throws<ArgumentException>(() => ClientKeyExchangePsk.Write(new byte[3], new byte[2]));
    }
}
