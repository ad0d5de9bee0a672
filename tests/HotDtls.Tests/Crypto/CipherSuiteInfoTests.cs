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
}
