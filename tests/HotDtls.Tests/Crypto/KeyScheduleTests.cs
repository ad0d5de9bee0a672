using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Tests.Crypto;

// Known answers produced with OpenSSL 3.0's TLS1-PRF KDF, independently of our PRF:
//
//   prf() { openssl kdf -keylen $5 -kdfopt digest:$1 -kdfopt hexsecret:$2 \
//             -kdfopt hexseed:$(printf '%s' "$3" | xxd -p | tr -d '\n')$4 TLS1-PRF | tr -d ':' | tr A-F a-f; }
//   PSK=000102030405060708090a0b0c0d0e0f
//   PM=0010$(printf '0%.0s' {1..32})0010$PSK                   # RFC 4279 §2 premaster secret
//   CR=000102...1f (32 bytes)  SR=808182...9f (32 bytes)
//   MS=$(prf SHA256 $PM 'master secret' $CR$SR 48)
//   prf SHA256 $PM 'extended master secret' 404142...5f 48   # session hash 0x40.. (32 or 48 bytes)
//   prf SHA256 $MS 'key expansion' $SR$CR 40                 # 72 bytes for SHA384
//   prf SHA256 $MS 'client finished' c0c1c2...df 12          # handshake hash 0xc0.. (32 or 48 bytes)
//   prf SHA256 $MS 'server finished' c0c1c2...df 12
// and the same with SHA384.
public sealed class KeyScheduleTests
{
    private const string Psk = "000102030405060708090a0b0c0d0e0f";
    private const string Premaster = "0010" + "00000000000000000000000000000000" + "0010" + Psk;

    private static readonly Vector s_sha256 = new(
        Master: "432ee2fe65aa3697e09dbd51319cf737d501137569e244253db99864f056334d2e33d7abb39162e86a97a9ffe587a57f",
        Ems: "f5dde2f9dd6c667251784bf31baa82c717843df50e57ea3dc43f4b886e0ecbf3282d621b9a9d26c2b02f18722aee3896",
        KeyBlock: "b6b45422a3db9615f3b98de743c2967f57ad4e7c946f71c9812e322f1442e2baeac04239a06d93cf",
        ClientFinished: "52e16e90460e793b18af2ca1",
        ServerFinished: "8ccd56171934d620c1906ecc");

    private static readonly Vector s_sha384 = new(
        Master: "f3439f24321195b399a148154eea72bdf8d78d3d3b9457adfd870a8c0ab8d00180d247f946ead472e7d37e39d8849067",
        Ems: "6a8a39787ba6d70af966492c42de2d76596d5806038095b59442a07fc5ed34fbb76a4aae05067a2015656e199e4b31e9",
        KeyBlock: "82d19a4362b0d114fc2314e11eda5021927345d42299160e44c74cfce985c8c29638a97edc7ceb58c39035d3ae462900" +
                  "097f15180fa010877822a7535c8aa0eff3002286d199e265",
        ClientFinished: "85cc0b59cf4304eae3ab4221",
        ServerFinished: "df71073a6525b6820f71c52f");

    [Fact]
    public void Psk_premaster_secret_is_length_zeros_length_psk()
    {
        var psk = Convert.FromHexString("1a2b3c4d5e6f");
        var destination = new byte[KeySchedule.PskPremasterSecretLength(psk.Length)];
        int written = KeySchedule.WritePskPremasterSecret(psk, destination);
        Assert.Equal(16, written);
        Assert.Equal("0006" + "000000000000" + "0006" + "1a2b3c4d5e6f", Convert.ToHexStringLower(destination));
    }

    [Fact]
    public void Psk_premaster_secret_overwrites_whatever_was_in_the_zero_field()
    {
        var destination = new byte[40];
        destination.AsSpan().Fill(0xEE);
        int written = KeySchedule.WritePskPremasterSecret(Convert.FromHexString(Psk), destination);
        Assert.Equal(36, written);
        Assert.Equal(Premaster, Convert.ToHexStringLower(destination.AsSpan(0, written)));
        Assert.Equal(0xEE, destination[36]);
    }

    [Theory]
    [InlineData(0, 4)]
    [InlineData(1, 6)]
    [InlineData(64, 132)]
    [InlineData(65535, 131074)]
    public void Psk_premaster_secret_length(int pskLength, int expected) =>
        Assert.Equal(expected, KeySchedule.PskPremasterSecretLength(pskLength));

    [Theory]
    [InlineData(-1)]
    [InlineData(65536)]
    public void Psk_premaster_secret_length_rejects_psks_a_uint16_cannot_describe(int pskLength) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => KeySchedule.PskPremasterSecretLength(pskLength));

    [Fact]
    public void Psk_premaster_secret_into_a_short_destination_throws() =>
        Assert.Throws<ArgumentException>(() => KeySchedule.WritePskPremasterSecret(new byte[4], new byte[11]));

    [Theory]
    [InlineData("SHA256")]
    [InlineData("SHA384")]
    public void Master_secret_matches_openssl(string hash)
    {
        var expected = For(hash);
        var actual = new byte[KeySchedule.MasterSecretLength];
        KeySchedule.MasterSecret(new HashAlgorithmName(hash), Convert.FromHexString(Premaster), Range(0x00, 32), Range(0x80, 32), actual);
        Assert.Equal(expected.Master, Convert.ToHexStringLower(actual));
    }

    [Theory]
    [InlineData("SHA256")]
    [InlineData("SHA384")]
    public void Extended_master_secret_matches_openssl(string hash)
    {
        var expected = For(hash);
        var name = new HashAlgorithmName(hash);
        var actual = new byte[KeySchedule.MasterSecretLength];
        KeySchedule.ExtendedMasterSecret(name, Convert.FromHexString(Premaster), Range(0x40, HashLength(name)), actual);
        Assert.Equal(expected.Ems, Convert.ToHexStringLower(actual));
    }

    [Theory]
    [InlineData("SHA256")]
    [InlineData("SHA384")]
    public void Key_block_matches_openssl_with_server_random_first(string hash)
    {
        var expected = For(hash);
        var actual = new byte[expected.KeyBlock.Length / 2];
        KeySchedule.KeyBlock(new HashAlgorithmName(hash), Convert.FromHexString(expected.Master), Range(0x80, 32), Range(0x00, 32), actual);
        Assert.Equal(expected.KeyBlock, Convert.ToHexStringLower(actual));
    }

    [Theory]
    [InlineData("SHA256")]
    [InlineData("SHA384")]
    public void Verify_data_matches_openssl(string hash)
    {
        var expected = For(hash);
        var name = new HashAlgorithmName(hash);
        var handshakeHash = Range(0xC0, HashLength(name));
        var client = new byte[KeySchedule.VerifyDataLength];
        var server = new byte[KeySchedule.VerifyDataLength];
        KeySchedule.VerifyData(name, Convert.FromHexString(expected.Master), fromClient: true, handshakeHash, client);
        KeySchedule.VerifyData(name, Convert.FromHexString(expected.Master), fromClient: false, handshakeHash, server);
        Assert.Equal(expected.ClientFinished, Convert.ToHexStringLower(client));
        Assert.Equal(expected.ServerFinished, Convert.ToHexStringLower(server));
    }

    [Fact]
    public void Key_block_length_matches_the_suite()
    {
        // Key block lengths in the vectors are the suites' KeyBlockLength: 2*16+2*4 and 2*32+2*4.
        Assert.Equal(40, CipherSuiteInfo.Aes128GcmSha256.KeyBlockLength);
        Assert.Equal(72, CipherSuiteInfo.Aes256GcmSha384.KeyBlockLength);
    }

    [Fact]
    public void Wrong_lengths_are_api_misuse()
    {
        var sha256 = HashAlgorithmName.SHA256;
        var pm = Convert.FromHexString(Premaster);
        Assert.Throws<ArgumentException>(() => KeySchedule.MasterSecret(sha256, pm, new byte[31], new byte[32], new byte[48]));
        Assert.Throws<ArgumentException>(() => KeySchedule.MasterSecret(sha256, pm, new byte[32], new byte[33], new byte[48]));
        Assert.Throws<ArgumentException>(() => KeySchedule.MasterSecret(sha256, pm, new byte[32], new byte[32], new byte[47]));
        Assert.Throws<ArgumentException>(() => KeySchedule.ExtendedMasterSecret(sha256, pm, new byte[48], new byte[48]));
        Assert.Throws<ArgumentException>(() => KeySchedule.KeyBlock(sha256, new byte[47], new byte[32], new byte[32], new byte[40]));
        Assert.Throws<ArgumentException>(() => KeySchedule.VerifyData(sha256, new byte[48], true, new byte[32], new byte[11]));
        Assert.Throws<ArgumentException>(() => KeySchedule.VerifyData(HashAlgorithmName.SHA384, new byte[48], true, new byte[32], new byte[12]));
    }

    private static Vector For(string hash) => hash == "SHA256" ? s_sha256 : s_sha384;

    private static int HashLength(HashAlgorithmName hash) => hash == HashAlgorithmName.SHA256 ? 32 : 48;

    private static byte[] Range(int start, int count)
    {
        var bytes = new byte[count];
        for (int i = 0; i < count; i++)
        {
            bytes[i] = (byte)(start + i);
        }

        return bytes;
    }

    private sealed record Vector(string Master, string Ems, string KeyBlock, string ClientFinished, string ServerFinished);
}
