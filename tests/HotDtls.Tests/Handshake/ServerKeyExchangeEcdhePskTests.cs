using HotDtls.Crypto;
using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

// Golden bodies written by hand from RFC 5489 §2 and RFC 8422 §5.4:
//   psk_identity_hint<0..2^16-1> | curve_type (named_curve = 3) | namedcurve (uint16) | point<1..2^8-1>
public sealed class ServerKeyExchangeEcdhePskTests
{
    // RFC 7748 §6.1 Alice's public key, and NIST CAVP P-256 COUNT = 0's QCAVS, as sample points.
    private const string X25519Point = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string P256Point = "04" +
        "700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287" +
        "db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac";

    // hint "hint", x25519 (29 = 0x001d), a 32-byte point.
    private const string X25519Body = "0004" + "68696e74" + "03" + "001d" + "20" + X25519Point;

    // No hint, secp256r1 (23 = 0x0017), a 65-byte uncompressed point.
    private const string P256Body = "0000" + "03" + "0017" + "41" + P256Point;

    [Theory]
    [InlineData(X25519Body, "68696e74", (ushort)NamedGroup.X25519, X25519Point)]
    [InlineData(P256Body, "", (ushort)NamedGroup.Secp256r1, P256Point)]
    public void Golden_bytes_round_trip(string hex, string hint, ushort code, string point)
    {
        var group = (NamedGroup)code;
        byte[] body = Convert.FromHexString(hex);

        Assert.True(ServerKeyExchangeEcdhePsk.TryParse(body, out ReadOnlySpan<byte> identityHint, out ushort namedGroup,
            out ReadOnlySpan<byte> publicKey));

        Assert.Equal(hint, Convert.ToHexStringLower(identityHint));
        Assert.Equal((ushort)group, namedGroup);
        Assert.Equal(point, Convert.ToHexStringLower(publicKey));

        var written = new byte[ServerKeyExchangeEcdhePsk.GetLength(identityHint.Length, publicKey.Length)];
        Assert.Equal(body.Length, ServerKeyExchangeEcdhePsk.Write(written, identityHint, group, publicKey));
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
            Assert.False(ServerKeyExchangeEcdhePsk.TryParse(body.AsSpan(0, n), out _, out _, out _));
        }

        Assert.False(ServerKeyExchangeEcdhePsk.TryParse([.. body, 0], out _, out _, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)] // explicit_prime: deprecated by RFC 8422 §5.4
    [InlineData(2)] // explicit_char2: deprecated by RFC 8422 §5.4
    [InlineData(4)]
    [InlineData(255)]
    public void Only_named_curve_parameters_parse(byte curveType)
    {
        byte[] body = Convert.FromHexString(X25519Body);
        body[6] = curveType;

        Assert.False(ServerKeyExchangeEcdhePsk.TryParse(body, out _, out _, out _));
    }

    [Fact]
    public void Failure_leaves_every_output_empty()
    {
        Assert.False(ServerKeyExchangeEcdhePsk.TryParse(Convert.FromHexString(X25519Body + "00"),
            out ReadOnlySpan<byte> hint, out ushort namedGroup, out ReadOnlySpan<byte> publicKey));

        Assert.True(hint.IsEmpty);
        Assert.Equal(0, namedGroup);
        Assert.True(publicKey.IsEmpty);
    }

    [Fact]
    public void An_empty_point_fails()
    {
        // ECPoint is opaque point<1..2^8-1>: at least one byte.
        Assert.False(ServerKeyExchangeEcdhePsk.TryParse(Convert.FromHexString("0000" + "03" + "001d" + "00"), out _, out _, out _));
    }

    [Fact]
    public void A_point_length_past_the_end_fails()
    {
        Assert.False(ServerKeyExchangeEcdhePsk.TryParse(Convert.FromHexString("0000" + "03" + "001d" + "21" + X25519Point),
            out _, out _, out _));
    }

    [Fact]
    public void Any_named_group_parses_and_is_handed_back()
    {
        // The parser checks structure; whether the group was offered is the handshake's decision.
        Assert.True(ServerKeyExchangeEcdhePsk.TryParse(Convert.FromHexString("0000" + "03" + "0018" + "01" + "04"),
            out _, out ushort namedGroup, out ReadOnlySpan<byte> publicKey));

        Assert.Equal(24, namedGroup); // secp384r1
        Assert.Equal(1, publicKey.Length);
    }

    [Fact]
    public void Longest_hint_and_point_round_trip()
    {
        var hint = new byte[ushort.MaxValue];
        var point = new byte[byte.MaxValue];
        hint[^1] = 0xAA;
        point[^1] = 0xBB;
        var bytes = new byte[ServerKeyExchangeEcdhePsk.GetLength(hint.Length, point.Length)];
        Assert.Equal(2 + 65535 + 1 + 2 + 1 + 255, bytes.Length);

        Assert.Equal(bytes.Length, ServerKeyExchangeEcdhePsk.Write(bytes, hint, NamedGroup.Secp256r1, point));
        Assert.True(ServerKeyExchangeEcdhePsk.TryParse(bytes, out ReadOnlySpan<byte> parsedHint, out ushort namedGroup,
            out ReadOnlySpan<byte> parsedPoint));

        Assert.Equal(ushort.MaxValue, parsedHint.Length);
        Assert.Equal(0xAA, parsedHint[^1]);
        Assert.Equal((ushort)NamedGroup.Secp256r1, namedGroup);
        Assert.Equal(byte.MaxValue, parsedPoint.Length);
        Assert.Equal(0xBB, parsedPoint[^1]);
    }

    [Fact]
    public void Writer_refuses_misuse()
    {
        var point = new byte[32];
        Assert.Throws<ArgumentException>(() =>
            ServerKeyExchangeEcdhePsk.Write(new byte[70000], new byte[ushort.MaxValue + 1], NamedGroup.X25519, point));
        Assert.Throws<ArgumentException>(() => ServerKeyExchangeEcdhePsk.Write(new byte[100], [], NamedGroup.X25519, []));
        Assert.Throws<ArgumentException>(() =>
            ServerKeyExchangeEcdhePsk.Write(new byte[300], [], NamedGroup.X25519, new byte[256]));
        Assert.Throws<ArgumentException>(() =>
            ServerKeyExchangeEcdhePsk.Write(new byte[ServerKeyExchangeEcdhePsk.GetLength(0, 32) - 1], [], NamedGroup.X25519, point));
    }
}
