using HotDtls.Crypto;

namespace HotDtls.Tests.Crypto;

// Known answers:
//   X25519: RFC 7748 §6.1, the Diffie-Hellman example (Alice's and Bob's keys and the shared K).
//   P-256:  NIST CAVP "KAS ECC CDH primitive" test vectors (ecccdhtestvectors.zip, KAS_ECC_CDH_PrimitiveTest.txt),
//           [P-256] COUNT = 0; cross-checked with Python's cryptography 48.0 (the QIUT it derives from dIUT and the
//           Z it computes both match the file).
//   The other P-256 answers were derived with Python's cryptography 48.0:
//     ec.derive_private_key(d, ec.SECP256R1()).exchange(ec.ECDH(), EllipticCurvePublicNumbers(x, y, SECP256R1()).public_key())
//   - d = 302 with QCAVS: the smallest d whose Z starts with a zero byte (it must be kept, RFC 8422 §5.10);
//   - dIUT with the point x = 0 (on P-256: 0³ − 3·0 + b is a square mod p), whose x + p still fits 32 bytes.
public sealed class EphemeralKeyPairTests
{
    private const string AlicePrivate = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private const string AlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private const string BobPrivate = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private const string BobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private const string X25519SharedSecret = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    private const string QcavsX = "700c48f77f56584c5cc632ca65640db91b6bacce3a4df6b42ce7cc838833d287";
    private const string QcavsY = "db71e509e3fd9b060ddb20ba5c51dcc5948d46fbf640dfe0441782cab85fa4ac";
    private const string DIut = "7d7dc5f71eb29ddaf80d6214632eeae03d9058af1fb6d22ed80badb62bc1a534";
    private const string QiutX = "ead218590119e8876b29146ff89ca61770c4edbbf97d38ce385ed281d8a6b230";
    private const string QiutY = "28af61281fd35e2fa7002523acc85a429cb06ee6648325389f59edfce1405141";
    private const string ZIut = "46fc62106420ff012e54a434fbdd2d25ccc5852060561e68040dd7778997bd7b";

    private const string P256Prime = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff";
    private const string XZeroPointY = "66485c780e2f83d72433bd5d84a06bb6541c2af31dae871728bf856a174f93f4";

    private static readonly byte[] s_qcavs = Convert.FromHexString("04" + QcavsX + QcavsY);

    // ---- X25519 -----------------------------------------------------------------------------------------------

    [Fact]
    public void X25519_matches_the_RFC_7748_Diffie_Hellman_example()
    {
        using var alice = EphemeralKeyPair.FromPrivateKey(NamedGroup.X25519, Convert.FromHexString(AlicePrivate));
        using var bob = EphemeralKeyPair.FromPrivateKey(NamedGroup.X25519, Convert.FromHexString(BobPrivate));

        Assert.Equal(AlicePublic, PublicKeyHex(alice));
        Assert.Equal(BobPublic, PublicKeyHex(bob));
        Assert.Equal(X25519SharedSecret, Agree(alice, Convert.FromHexString(BobPublic)));
        Assert.Equal(X25519SharedSecret, Agree(bob, Convert.FromHexString(AlicePublic)));
    }

    [Fact]
    public void X25519_ignores_the_top_bit_of_the_peer_key()
    {
        // RFC 7748 §5: "implementations of X25519 ... MUST mask the most significant bit in the final byte".
        byte[] bob = Convert.FromHexString(BobPublic);
        bob[31] |= 0x80;
        using var alice = EphemeralKeyPair.FromPrivateKey(NamedGroup.X25519, Convert.FromHexString(AlicePrivate));

        Assert.Equal(X25519SharedSecret, Agree(alice, bob));
    }

    [Theory]
    // The points of small order (libsodium's blacklist, after RFC 7748 §7 and cr.yp.to/ecdh.html): each gives the
    // all-zero secret, which RFC 8422 §5.11 says MUST abort the handshake.
    [InlineData("0000000000000000000000000000000000000000000000000000000000000000")] // 0, order 4
    [InlineData("0100000000000000000000000000000000000000000000000000000000000000")] // 1, order 1
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")] // order 8
    [InlineData("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157")] // order 8
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p - 1, order 2
    [InlineData("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p, i.e. 0
    [InlineData("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")] // p + 1, i.e. 1
    // The same points with the top bit set, which the receiver masks off (RFC 7748 §5).
    [InlineData("0000000000000000000000000000000000000000000000000000000000000080")]
    [InlineData("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880")]
    [InlineData("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")]
    public void X25519_refuses_low_order_points(string peerPublicKey)
    {
        using var pair = EphemeralKeyPair.Generate(NamedGroup.X25519);
        AssertRefused(pair, Convert.FromHexString(peerPublicKey));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(65)]
    public void X25519_refuses_a_key_of_the_wrong_length(int length)
    {
        byte[] peer = new byte[length];
        Convert.FromHexString(BobPublic).AsSpan(0, Math.Min(length, 32)).CopyTo(peer);
        using var pair = EphemeralKeyPair.Generate(NamedGroup.X25519);

        AssertRefused(pair, peer);
    }

    // ---- secp256r1 ----------------------------------------------------------------------------------------------

    [Fact]
    public void P256_matches_the_NIST_CAVP_ECC_CDH_vector()
    {
        using var pair = EphemeralKeyPair.FromPrivateKey(NamedGroup.Secp256r1, Convert.FromHexString(DIut));

        Assert.Equal("04" + QiutX + QiutY, PublicKeyHex(pair));
        Assert.Equal(ZIut, Agree(pair, s_qcavs));
    }

    [Fact]
    public void P256_keeps_the_leading_zero_bytes_of_the_shared_secret()
    {
        // RFC 8422 §5.10: Z is FE2OSP of x, fixed length; "leading zeros ... MUST NOT be truncated".
        byte[] d = new byte[32];
        d[30] = 0x01;
        d[31] = 0x2e; // 302
        using var pair = EphemeralKeyPair.FromPrivateKey(NamedGroup.Secp256r1, d);

        Assert.Equal("0090ecae15bb98b6fb5dd140b47451c89773e3b939326062c0f3ef8a0f996fdb", Agree(pair, s_qcavs));
    }

    [Fact]
    public void P256_accepts_a_point_with_a_zero_coordinate_but_not_its_encoding_plus_p()
    {
        // (0, y) is on the curve; (p, y) is the same point mod p, but SEC 1 §2.3.4 requires coordinates in [0, p).
        using (var pair = EphemeralKeyPair.FromPrivateKey(NamedGroup.Secp256r1, Convert.FromHexString(DIut)))
        {
            byte[] canonical = Convert.FromHexString("04" + new string('0', 64) + XZeroPointY);
            Assert.Equal("0de74ef396108923bf0490c97cbf4e45fdf00f6ad7aef20b7f7ceb4906acd810", Agree(pair, canonical));
        }

        using var other = EphemeralKeyPair.FromPrivateKey(NamedGroup.Secp256r1, Convert.FromHexString(DIut));
        AssertRefused(other, Convert.FromHexString("04" + P256Prime + XZeroPointY));
    }

    public static TheoryData<string, string> InvalidP256Points => new()
    {
        { "off the curve (last bit of y flipped)", "04" + QcavsX + QcavsY[..^1] + "d" },
        { "off the curve (the point (0, 0))", "04" + new string('0', 128) },
        { "x = p, y of the on-curve point (0, y): on the curve only after reducing x", "04" + P256Prime + XZeroPointY },
        { "x = p", "04" + P256Prime + QcavsY },
        { "y = p", "04" + QcavsX + P256Prime },
        { "x = 2^256 - 1", "04" + new string('f', 64) + QcavsY },
        { "compressed, even y", "02" + QcavsX },
        { "compressed, odd y", "03" + QcavsX },
        { "65 bytes behind a compressed prefix", "02" + QcavsX + QcavsY },
        { "hybrid form", "06" + QcavsX + QcavsY },
        { "point at infinity", "00" },
        { "empty", "" },
        { "no prefix", QcavsX + QcavsY },
        { "one byte short", "04" + QcavsX + QcavsY[..^2] },
        { "one byte long", "04" + QcavsX + QcavsY + "00" },
        { "an X25519 key", BobPublic },
    };

    [Theory]
    [MemberData(nameof(InvalidP256Points))]
    public void P256_refuses_invalid_points(string why, string peerPublicKey)
    {
        _ = why;
        using var pair = EphemeralKeyPair.FromPrivateKey(NamedGroup.Secp256r1, Convert.FromHexString(DIut));
        AssertRefused(pair, Convert.FromHexString(peerPublicKey));
    }

    [Theory]
    [MemberData(nameof(InvalidP256Points))]
    public void P256_validation_refuses_invalid_points_itself(string why, string peerPublicKey)
    {
        // Directly, because OpenSSL's import would refuse these too and hide a missing check.
        _ = why;
        Assert.False(EphemeralKeyPair.IsValidP256Point(Convert.FromHexString(peerPublicKey)));
    }

    [Theory]
    [InlineData("04" + QcavsX + QcavsY)]
    [InlineData("04" + QiutX + QiutY)]
    [InlineData("04" + "0000000000000000000000000000000000000000000000000000000000000000" + XZeroPointY)]
    public void P256_validation_accepts_points_on_the_curve(string point)
    {
        Assert.True(EphemeralKeyPair.IsValidP256Point(Convert.FromHexString(point)));
    }

    // ---- both groups --------------------------------------------------------------------------------------------

    [Theory]
    [InlineData((ushort)NamedGroup.X25519)]
    [InlineData((ushort)NamedGroup.Secp256r1)]
    public void Two_generated_pairs_agree_on_the_same_secret(ushort code)
    {
        var group = (NamedGroup)code;
        using var client = EphemeralKeyPair.Generate(group);
        using var server = EphemeralKeyPair.Generate(group);
        Assert.Equal(group, client.Group);

        byte[] clientPublic = PublicKey(client);
        byte[] serverPublic = PublicKey(server);
        Assert.Equal(EphemeralKeyPair.PublicKeyLength(group), clientPublic.Length);

        string clientSecret = Agree(client, serverPublic);
        string serverSecret = Agree(server, clientPublic);
        Assert.Equal(clientSecret, serverSecret);
        Assert.NotEqual(new string('0', 64), clientSecret);
    }

    [Theory]
    [InlineData((ushort)NamedGroup.X25519)]
    [InlineData((ushort)NamedGroup.Secp256r1)]
    public void Every_generated_pair_is_fresh(ushort code)
    {
        var group = (NamedGroup)code;
        var seen = new HashSet<string>();
        for (int i = 0; i < 8; i++)
        {
            using var pair = EphemeralKeyPair.Generate(group);
            Assert.True(seen.Add(Convert.ToHexStringLower(PublicKey(pair))));
        }
    }

    [Fact]
    public void Public_keys_have_the_RFC_8422_lengths()
    {
        Assert.Equal(32, EphemeralKeyPair.PublicKeyLength(NamedGroup.X25519));
        Assert.Equal(65, EphemeralKeyPair.PublicKeyLength(NamedGroup.Secp256r1));

        using var p256 = EphemeralKeyPair.Generate(NamedGroup.Secp256r1);
        Assert.Equal(0x04, PublicKey(p256)[0]);
    }

    [Theory]
    [InlineData((ushort)NamedGroup.X25519)]
    [InlineData((ushort)NamedGroup.Secp256r1)]
    public void A_pair_agrees_once_even_when_the_peer_key_was_bad(ushort code)
    {
        var group = (NamedGroup)code;
        using var peer = EphemeralKeyPair.Generate(group);
        byte[] peerPublic = PublicKey(peer);

        using (var pair = EphemeralKeyPair.Generate(group))
        {
            Agree(pair, peerPublic);
            Assert.Throws<InvalidOperationException>(() => pair.TryAgree(peerPublic, new byte[32], out _));
        }

        using var refused = EphemeralKeyPair.Generate(group);
        Assert.False(refused.TryAgree([], new byte[32], out _));
        Assert.Throws<InvalidOperationException>(() => refused.TryAgree(peerPublic, new byte[32], out _));
    }

    [Theory]
    [InlineData((ushort)NamedGroup.X25519)]
    [InlineData((ushort)NamedGroup.Secp256r1)]
    public void The_public_key_outlives_the_agreement_but_not_Dispose(ushort code)
    {
        var group = (NamedGroup)code;
        using var peer = EphemeralKeyPair.Generate(group);
        var pair = EphemeralKeyPair.Generate(group);
        byte[] before = PublicKey(pair);

        Agree(pair, PublicKey(peer));
        Assert.Equal(before, PublicKey(pair));

        pair.Dispose();
        pair.Dispose();
        Assert.Throws<ObjectDisposedException>(() => pair.WritePublicKey(new byte[65]));
    }

    [Theory]
    [InlineData((ushort)NamedGroup.X25519)]
    [InlineData((ushort)NamedGroup.Secp256r1)]
    public void Agreeing_after_Dispose_throws(ushort code)
    {
        var group = (NamedGroup)code;
        using var peer = EphemeralKeyPair.Generate(group);
        var pair = EphemeralKeyPair.Generate(group);
        pair.Dispose();

        Assert.Throws<ObjectDisposedException>(() => pair.TryAgree(PublicKey(peer), new byte[32], out _));
    }

    [Fact]
    public void A_short_destination_throws_without_using_up_the_pair()
    {
        using var alice = EphemeralKeyPair.FromPrivateKey(NamedGroup.X25519, Convert.FromHexString(AlicePrivate));
        byte[] bob = Convert.FromHexString(BobPublic);

        Assert.Throws<ArgumentException>(() => alice.TryAgree(bob, new byte[31], out _));
        Assert.Throws<ArgumentException>(() => alice.WritePublicKey(new byte[31]));
        Assert.Equal(X25519SharedSecret, Agree(alice, bob));
    }

    [Fact]
    public void The_secret_is_written_at_the_start_of_a_longer_destination()
    {
        using var alice = EphemeralKeyPair.FromPrivateKey(NamedGroup.X25519, Convert.FromHexString(AlicePrivate));
        byte[] destination = new byte[40];
        destination.AsSpan().Fill(0xEE);

        Assert.True(alice.TryAgree(Convert.FromHexString(BobPublic), destination, out int written));

        Assert.Equal(32, written);
        Assert.Equal(X25519SharedSecret, Convert.ToHexStringLower(destination.AsSpan(0, 32)));
        Assert.Equal(0xEE, destination[32]);
    }

    [Fact]
    public void Only_secp256r1_and_x25519_are_supported()
    {
        Assert.True(EphemeralKeyPair.IsSupported(NamedGroup.X25519));
        Assert.True(EphemeralKeyPair.IsSupported(NamedGroup.Secp256r1));

        var secp384r1 = (NamedGroup)24;
        Assert.False(EphemeralKeyPair.IsSupported(secp384r1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EphemeralKeyPair.Generate(secp384r1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EphemeralKeyPair.PublicKeyLength(secp384r1));
    }

    [Fact]
    public void Named_groups_carry_their_IANA_code_points()
    {
        Assert.Equal(23, (ushort)NamedGroup.Secp256r1);
        Assert.Equal(29, (ushort)NamedGroup.X25519);
    }

    private static byte[] PublicKey(EphemeralKeyPair pair)
    {
        var buffer = new byte[EphemeralKeyPair.PublicKeyLength(pair.Group)];
        Assert.Equal(buffer.Length, pair.WritePublicKey(buffer));
        return buffer;
    }

    private static string PublicKeyHex(EphemeralKeyPair pair) => Convert.ToHexStringLower(PublicKey(pair));

    private static string Agree(EphemeralKeyPair pair, byte[] peerPublicKey)
    {
        var secret = new byte[EphemeralKeyPair.SharedSecretLength];
        Assert.True(pair.TryAgree(peerPublicKey, secret, out int written));
        Assert.Equal(EphemeralKeyPair.SharedSecretLength, written);
        return Convert.ToHexStringLower(secret);
    }

    private static void AssertRefused(EphemeralKeyPair pair, byte[] peerPublicKey)
    {
        // Whatever was in the destination, a refusal leaves no partial secret there.
        var secret = new byte[EphemeralKeyPair.SharedSecretLength];
        secret.AsSpan().Fill(0xEE);

        Assert.False(pair.TryAgree(peerPublicKey, secret, out int written));

        Assert.Equal(0, written);
        Assert.All(secret, b => Assert.Equal(0, b));
    }
}
