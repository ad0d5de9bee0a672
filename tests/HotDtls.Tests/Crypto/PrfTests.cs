using System.Security.Cryptography;
using HotDtls.Crypto;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Crypto;

public sealed class PrfTests
{
    // The widely published TLS 1.2 PRF test vectors (IETF TLS WG mailing list, 2009), full values checked with:
    //   openssl kdf -keylen 100 -kdfopt digest:SHA256 -kdfopt hexsecret:9bbe436ba940f017b17652849a71db35 \
    //     -kdfopt hexseed:$(printf 'test label' | xxd -p)a0ba9f936cda311827a6f796ffd5198c TLS1-PRF
    //   openssl kdf -keylen 148 -kdfopt digest:SHA384 -kdfopt hexsecret:b80b733d6ceefcdc71566ea48e5567df \
    //     -kdfopt hexseed:$(printf 'test label' | xxd -p)cd665cf6a8447dd6ff8b27555edb7465 TLS1-PRF
    private const string PublishedSha256 =
        "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af" +
        "0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701" +
        "87347b66";

    private const string PublishedSha384 =
        "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0" +
        "e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425" +
        "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e099070" +
        "3d73e56f";

    [Fact]
    public void Sha256_matches_the_published_vector()
    {
        var output = new byte[100];
        Prf.Derive(HashAlgorithmName.SHA256, Hex("9bbe436ba940f017b17652849a71db35"), "test label"u8,
            Hex("a0ba9f936cda311827a6f796ffd5198c"), output);
        Assert.Equal(PublishedSha256, Convert.ToHexStringLower(output));
    }

    [Fact]
    public void Sha384_matches_the_published_vector()
    {
        var output = new byte[148];
        Prf.Derive(HashAlgorithmName.SHA384, Hex("b80b733d6ceefcdc71566ea48e5567df"), "test label"u8,
            Hex("cd665cf6a8447dd6ff8b27555edb7465"), output);
        Assert.Equal(PublishedSha384, Convert.ToHexStringLower(output));
    }

    // A secret longer than the HMAC block (64 / 128 bytes) is hashed into the key first (RFC 2104 §2).
    //   LONG=$(python3 -c 'print(bytes(range(200)).hex())')
    //   openssl kdf -keylen 80 -kdfopt digest:SHA256 (or SHA384) -kdfopt hexsecret:$LONG \
    //     -kdfopt hexseed:$(printf 'test label' | xxd -p)a0ba9f936cda311827a6f796ffd5198c TLS1-PRF
    [Theory]
    [InlineData("SHA256", "c6810473408b539c6e185b534121555d45abe30937dff20aa60bc36be3d27da1f0d636694d3c5fa29519b8ac5454a5d6006fefbb64e23a5d9091c7f4f615acbde2de6e38fed604bed307d8a47d2adeed")]
    [InlineData("SHA384", "052c252ce3d3fab4d3dd236ffbb186247467d39694db56639586aa19d75dc79f3f458a46a40a1789095dbb922908cb02e2cd38d0a72afe3e4b1106e8891bd4653065543718930ad827a1f48d5ea34e2d")]
    public void Secret_longer_than_the_hmac_block_matches_openssl(string hash, string expected)
    {
        var output = new byte[80];
        Prf.Derive(new HashAlgorithmName(hash), Range(0, 200), "test label"u8, Hex("a0ba9f936cda311827a6f796ffd5198c"), output);
        Assert.Equal(expected, Convert.ToHexStringLower(output));
    }

    // A label + seed too long for the stack buffer takes the pooled path.
    //   SEED=$(python3 -c 'print(bytes(range(256)).hex()+bytes(range(44)).hex())')
    //   openssl kdf -keylen 64 -kdfopt digest:SHA384 -kdfopt hexsecret:0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b \
    //     -kdfopt hexseed:$(printf 'test label' | xxd -p)$SEED TLS1-PRF
    [Fact]
    public void Long_seed_matches_openssl()
    {
        var seed = new byte[300];
        Range(0, 256).CopyTo(seed, 0);
        Range(0, 44).CopyTo(seed, 256);
        var output = new byte[64];
        Prf.Derive(HashAlgorithmName.SHA384, Hex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), "test label"u8, seed, output);
        Assert.Equal(
            "7d5a7de84022744a823e87a999458b7074bc8ec7435e6d24f0c84f187f9c9714fa1c96dda10f824e5926130a502b2ef1" +
            "4263c36415a9ecf5a316e23ea7273189",
            Convert.ToHexStringLower(output));
    }

    [Fact]
    public void Every_output_length_is_a_prefix_of_the_longer_output()
    {
        var secret = Hex("9bbe436ba940f017b17652849a71db35");
        var seed = Hex("a0ba9f936cda311827a6f796ffd5198c");
        var full = Hex(PublishedSha256);
        for (int length = 0; length <= full.Length; length++)
        {
            var output = new byte[length];
            Prf.Derive(HashAlgorithmName.SHA256, secret, "test label"u8, seed, output);
            Assert.Equal(full.AsSpan(0, length).ToArray(), output);
        }
    }

    // An empty secret is a valid HMAC key; HMAC zero-pads keys to the block size (RFC 2104 §2), so it
    // equals a single zero byte. A zero-length PSK is rejected elsewhere, not by the PRF.
    //   openssl kdf -keylen 20 -kdfopt digest:SHA256 -kdfopt hexsecret: -kdfopt hexseed:7879 TLS1-PRF
    [Fact]
    public void Empty_secret_matches_openssl()
    {
        var empty = new byte[20];
        var zero = new byte[20];
        Prf.Derive(HashAlgorithmName.SHA256, ReadOnlySpan<byte>.Empty, "x"u8, "y"u8, empty);
        Prf.Derive(HashAlgorithmName.SHA256, new byte[1], "x"u8, "y"u8, zero);
        Assert.Equal("934a12d5af74f9ee53b61381c4e1c947657fc92b", Convert.ToHexStringLower(empty));
        Assert.Equal(empty, zero);
    }

    [Fact]
    public void Other_hashes_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => Prf.Derive(HashAlgorithmName.SHA1, new byte[16], "x"u8, "y"u8, new byte[16]));
        Assert.Throws<ArgumentException>(() => Prf.Derive(HashAlgorithmName.SHA512, new byte[16], "x"u8, "y"u8, new byte[16]));
    }

    [Fact]
    public void Output_overlapping_an_input_is_rejected()
    {
        var buffer = new byte[96];
        Assert.Throws<ArgumentException>(() =>
            Prf.Derive(HashAlgorithmName.SHA256, buffer.AsSpan(0, 48), "x"u8, "y"u8, buffer.AsSpan(40, 48)));
        Assert.Throws<ArgumentException>(() =>
            Prf.Derive(HashAlgorithmName.SHA256, new byte[48], "x"u8, buffer.AsSpan(0, 64), buffer.AsSpan(0, 12)));
    }

    [Theory]
    [InlineData("SHA256", 12, 6)]
    [InlineData("SHA256", 48, 48)]
    [InlineData("SHA256", 200, 132)]
    [InlineData("SHA384", 72, 48)]
    [InlineData("SHA384", 200, 200)]
    public void Both_key_forms_give_the_P_hash_of_RFC_5246_computed_with_HMAC_one_shots(string hashName, int length, int secretLength)
    {
        // Secrets longer than the hash's block (64 or 128 bytes) take RFC 2104's hashed-key path in the composed HMAC.
        var hash = new HashAlgorithmName(hashName);
        var secret = Enumerable.Range(0, secretLength).Select(i => (byte)(i * 7 + 1)).ToArray();
        var seed = Enumerable.Range(0, 64).Select(i => (byte)(255 - i)).ToArray();
        var expected = ReferencePrf(hash, secret, "key expansion"u8.ToArray(), seed, length);

        var composed = new byte[length];
        Prf.Derive(hash, secret, "key expansion"u8, seed, composed);
        using var keyed = IncrementalHash.CreateHMAC(hash, secret);
        var first = new byte[length];
        var second = new byte[length];
        Prf.Derive(keyed, hash, "key expansion"u8, seed, first);
        Prf.Derive(keyed, hash, "key expansion"u8, seed, second);

        Assert.Equal(expected, composed);
        Assert.Equal(expected, first);
        Assert.Equal(expected, second); // the keyed HMAC is left reset for the next derivation
    }

    [Fact]
    public void Deriving_from_a_secret_used_once_allocates_nothing()
    {
        // The premaster secret → master secret derivation of every handshake: no keyed HMAC object for a key used once.
        var secret = new byte[132];
        var seed = new byte[64];
        var output = new byte[48];

        Prf.Derive(HashAlgorithmName.SHA384, secret, "master secret"u8, seed, output);
        var allocated = Allocations.Least(_ =>
        {
            for (var i = 0; i < 100; i++)
            {
                Prf.Derive(HashAlgorithmName.SHA384, secret, "master secret"u8, seed, output);
            }
        });

        Assert.Equal(0, allocated);
    }

    /// <summary>P_hash written out with .NET's one-shot HMAC, independently of the code under test.</summary>
    private static byte[] ReferencePrf(HashAlgorithmName hash, byte[] secret, byte[] label, byte[] seed, int length)
    {
        byte[] Hmac(byte[] data) => hash == HashAlgorithmName.SHA384 ? HMACSHA384.HashData(secret, data) : HMACSHA256.HashData(secret, data);
        var labelSeed = label.Concat(seed).ToArray();
        var result = new List<byte>();
        var a = Hmac(labelSeed);
        while (result.Count < length)
        {
            result.AddRange(Hmac([.. a, .. labelSeed]));
            a = Hmac(a);
        }
        return [.. result.Take(length)];
    }

    private static byte[] Hex(string hex) => Convert.FromHexString(hex);

    private static byte[] Range(int start, int end)
    {
        var bytes = new byte[end - start];
        for (int i = 0; i < bytes.Length; i++)
        {
            bytes[i] = (byte)(start + i);
        }

        return bytes;
    }
}
