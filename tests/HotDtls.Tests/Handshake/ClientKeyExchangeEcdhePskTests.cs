using System.Text;
using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

// Golden bodies written by hand from RFC 5489 §2 and RFC 8422 §5.7:
//   psk_identity<0..2^16-1> | ClientECDiffieHellmanPublic: point<1..2^8-1>
public sealed class ClientKeyExchangeEcdhePskTests
{
    // RFC 7748 §6.1 Bob's public key, and NIST CAVP P-256 COUNT = 0's QIUT, as sample points.
    private const string X25519Point = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string P256Point = "04" +
        "ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230" +
        "28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141";

    // identity "client1", a 32-byte point.
    private const string X25519Body = "0007" + "636c69656e7431" + "20" + X25519Point;

    // Empty identity, a 65-byte uncompressed point.
    private const string P256Body = "0000" + "41" + P256Point;

    [Theory]
    [InlineData(X25519Body, "client1", X25519Point)]
    [InlineData(P256Body, "", P256Point)]
    public void Golden_bytes_round_trip(string hex, string expectedIdentity, string point)
    {
        byte[] body = Convert.FromHexString(hex);

        Assert.True(ClientKeyExchangeEcdhePsk.TryParse(body, out ReadOnlySpan<byte> identity, out ReadOnlySpan<byte> publicKey));

        Assert.Equal(expectedIdentity, Encoding.ASCII.GetString(identity));
        Assert.Equal(point, Convert.ToHexStringLower(publicKey));

        var written = new byte[ClientKeyExchangeEcdhePsk.GetLength(identity.Length, publicKey.Length)];
        Assert.Equal(body.Length, ClientKeyExchangeEcdhePsk.Write(written, identity, publicKey));
        Assert.Equal(body, written);
    }

    [Theory]
    [InlineData(X25519Body)]
    [InlineData(P256Body)]
    public void Every_truncation_and_a_trailing_byte_fail(string hex)
    {
        byte[] body = Convert.FromHexString(hex);
        for (int n = 0; n < body.Length; n++)
        {
            Assert.False(ClientKeyExchangeEcdhePsk.TryParse(body.AsSpan(0, n), out _, out _));
        }

        Assert.False(ClientKeyExchangeEcdhePsk.TryParse([.. body, 0], out _, out _));
    }

    [Fact]
    public void Failure_leaves_every_output_empty()
    {
        Assert.False(ClientKeyExchangeEcdhePsk.TryParse(Convert.FromHexString(X25519Body + "00"),
            out ReadOnlySpan<byte> identity, out ReadOnlySpan<byte> publicKey));

        Assert.True(identity.IsEmpty);
        Assert.True(publicKey.IsEmpty);
    }

    [Fact]
    public void An_empty_point_fails()
    {
        // ClientECDiffieHellmanPublic is opaque point<1..2^8-1>: RFC 8422 §5.7's implicit (empty) form is for
        // certificate keys, which PSK suites never have.
        Assert.False(ClientKeyExchangeEcdhePsk.TryParse(Convert.FromHexString("0007" + "636c69656e7431" + "00"), out _, out _));
    }

    [Fact]
    public void A_plain_PSK_body_fails()
    {
        // RFC 4279 §2's ClientKeyExchange (an identity alone) lacks the point.
        Assert.False(ClientKeyExchangeEcdhePsk.TryParse(Convert.FromHexString("0007" + "636c69656e7431"), out _, out _));
    }

    [Fact]
    public void Longest_identity_and_point_round_trip()
    {
        // RFC 4279 §5.3: identities of up to 128 bytes MUST be supported; the field itself allows 2^16-1.
        var identity = new byte[ushort.MaxValue];
        var point = new byte[byte.MaxValue];
        identity[^1] = 0xAA;
        point[^1] = 0xBB;
        var bytes = new byte[ClientKeyExchangeEcdhePsk.GetLength(identity.Length, point.Length)];
        Assert.Equal(2 + 65535 + 1 + 255, bytes.Length);

        Assert.Equal(bytes.Length, ClientKeyExchangeEcdhePsk.Write(bytes, identity, point));
        Assert.True(ClientKeyExchangeEcdhePsk.TryParse(bytes, out ReadOnlySpan<byte> parsedIdentity, out ReadOnlySpan<byte> parsedPoint));

        Assert.Equal(ushort.MaxValue, parsedIdentity.Length);
        Assert.Equal(0xAA, parsedIdentity[^1]);
        Assert.Equal(byte.MaxValue, parsedPoint.Length);
        Assert.Equal(0xBB, parsedPoint[^1]);
    }

    [Fact]
    public void Writer_refuses_misuse()
    {
        var point = new byte[32];
        Assert.Throws<ArgumentException>(() => ClientKeyExchangeEcdhePsk.Write(new byte[70000], new byte[ushort.MaxValue + 1], point));
        Assert.Throws<ArgumentException>(() => ClientKeyExchangeEcdhePsk.Write(new byte[100], [], []));
        Assert.Throws<ArgumentException>(() => ClientKeyExchangeEcdhePsk.Write(new byte[300], [], new byte[256]));
        Assert.Throws<ArgumentException>(() =>
            ClientKeyExchangeEcdhePsk.Write(new byte[ClientKeyExchangeEcdhePsk.GetLength(0, 32) - 1], [], point));
    }
}
