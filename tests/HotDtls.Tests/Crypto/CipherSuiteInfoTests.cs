using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Tests.Crypto;

public sealed class CipherSuiteInfoTests
{
    [Fact]
    public void Aes128GcmSha256_has_the_rfc_5487_parameters()
    {
        Assert.True(CipherSuiteInfo.TryGet(0x00A8, out var info));
        Assert.Same(CipherSuiteInfo.Aes128GcmSha256, info);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, info.Suite);
        Assert.Equal(16, info.KeyLength);
        Assert.Equal(4, info.FixedIvLength);
        Assert.Equal(8, info.RecordIvLength);
        Assert.Equal(16, info.TagLength);
        Assert.Equal(HashAlgorithmName.SHA256, info.PrfHash);
        Assert.Equal(32, info.PrfHashLength);
        Assert.Equal(40, info.KeyBlockLength);
        Assert.Equal(24, info.MaxRecordOverhead);
    }

    [Fact]
    public void Aes256GcmSha384_has_the_rfc_5487_parameters()
    {
        Assert.True(CipherSuiteInfo.TryGet(0x00A9, out var info));
        Assert.Same(CipherSuiteInfo.Aes256GcmSha384, info);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384, info.Suite);
        Assert.Equal(32, info.KeyLength);
        Assert.Equal(4, info.FixedIvLength);
        Assert.Equal(8, info.RecordIvLength);
        Assert.Equal(16, info.TagLength);
        Assert.Equal(HashAlgorithmName.SHA384, info.PrfHash);
        Assert.Equal(48, info.PrfHashLength);
        Assert.Equal(72, info.KeyBlockLength);
        Assert.Equal(24, info.MaxRecordOverhead);
    }

    [Theory]
    [InlineData((ushort)0x0000)] // TLS_NULL_WITH_NULL_NULL
    [InlineData((ushort)0x00A4)] // a neighbouring non-PSK GCM suite
    [InlineData((ushort)0x00AA)] // TLS_DHE_PSK_WITH_AES_128_GCM_SHA256
    [InlineData((ushort)0x00FF)] // TLS_EMPTY_RENEGOTIATION_INFO_SCSV
    [InlineData((ushort)0x0A0A)] // GREASE
    [InlineData((ushort)0xC0AA)] // TLS_PSK_DHE_WITH_AES_128_CCM_8: DHE_PSK is out
    [InlineData((ushort)0xFFFF)]
    public void TryGet_does_not_find_other_code_points(ushort codePoint)
    {
        Assert.False(CipherSuiteInfo.TryGet(codePoint, out var info));
        Assert.Null(info);
    }

    [Fact]
    public void Get_returns_the_shared_instance_per_suite()
    {
        Assert.Same(CipherSuiteInfo.Aes128GcmSha256, CipherSuiteInfo.Get(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256));
        Assert.Same(CipherSuiteInfo.Aes256GcmSha384, CipherSuiteInfo.Get(CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384));
    }

    [Fact]
    public void Get_throws_for_a_value_outside_the_enum() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CipherSuiteInfo.Get((CipherSuite)0x1234));

    // suite, kx ECDHE?, protection, key, fixed IV, record IV, tag/MAC, MAC key, PRF hash length: RFC 5487, 5489, 6655,
    // 7905, 8442 (and RFC 5246 §6.3 for the key block).
    [Theory]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CCM, false, (int)RecordProtection.AesCcm, 16, 4, 8, 16, 0, 32)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_256_CCM, false, (int)RecordProtection.AesCcm, 32, 4, 8, 16, 0, 32)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, false, (int)RecordProtection.AesCcm, 16, 4, 8, 8, 0, 32)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_256_CCM_8, false, (int)RecordProtection.AesCcm, 32, 4, 8, 8, 0, 32)]
    [InlineData(CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256, false, (int)RecordProtection.ChaCha20Poly1305, 32, 12, 0, 16, 0, 32)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, true, (int)RecordProtection.ChaCha20Poly1305, 32, 12, 0, 16, 0, 32)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, true, (int)RecordProtection.AesGcm, 16, 4, 8, 16, 0, 32)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384, true, (int)RecordProtection.AesGcm, 32, 4, 8, 16, 0, 48)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256, true, (int)RecordProtection.AesCcm, 16, 4, 8, 8, 0, 32)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256, true, (int)RecordProtection.AesCcm, 16, 4, 8, 16, 0, 32)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256, false, (int)RecordProtection.AesCbcHmacSha256, 16, 0, 16, 32, 32, 32)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256, true, (int)RecordProtection.AesCbcHmacSha256, 16, 0, 16, 32, 32, 32)]
    public void Every_row_has_its_rfc_parameters(CipherSuite suite, bool ecdhe, int protection, int key,
        int fixedIv, int recordIv, int tag, int macKey, int prfHashLength)
    {
        var info = CipherSuiteInfo.Get(suite);
        Assert.Equal(suite, info.Suite);
        Assert.Equal(ecdhe, info.IsEcdhe);
        Assert.Equal((RecordProtection)protection, info.Protection);
        Assert.Equal((key, fixedIv, recordIv, tag, macKey, prfHashLength),
            (info.KeyLength, info.FixedIvLength, info.RecordIvLength, info.TagLength, info.MacKeyLength, info.PrfHashLength));
        Assert.Equal(2 * (key + fixedIv + macKey), info.KeyBlockLength);
        Assert.Equal((RecordProtection)protection != RecordProtection.AesCbcHmacSha256, info.IsAead);
    }

    [Fact]
    public void The_table_has_one_row_per_enum_member_and_the_default_order_names_each_once()
    {
        var members = Enum.GetValues<CipherSuite>();
        Assert.Equal(members.Length, CipherSuiteInfo.All.Count);
        foreach (var member in members)
        {
            Assert.True(CipherSuiteInfo.TryGet((ushort)member, out var info));
            Assert.Contains(info, CipherSuiteInfo.All);
        }
        Assert.Equal(members.Order(), DtlsOptions.DefaultCipherSuites.Order());
    }

    [Theory]
    [InlineData(0, 16 + 16 + 32)]
    [InlineData(15, 16 + 16 + 32)]
    [InlineData(16, 16 + 32 + 32)]
    [InlineData(1200, 16 + 1216 + 32)]
    public void A_cbc_record_pads_to_whole_blocks_with_at_least_one_byte(int plaintext, int sealedLength)
        => Assert.Equal(sealedLength, CipherSuiteInfo.Aes128CbcSha256.SealedLength(plaintext));
}
