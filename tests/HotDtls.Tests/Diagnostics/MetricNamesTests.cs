using HotDtls.Diagnostics;
using HotDtls.Handshake;

namespace HotDtls.Tests.Diagnostics;

public sealed class MetricNamesTests
{
    [Theory]
    [InlineData(nameof(AlertDescription.CloseNotify), "close_notify")]
    [InlineData(nameof(AlertDescription.DecryptError), "decrypt_error")]
    [InlineData(nameof(DropReason.AuthenticationFailed), "authentication_failed")]
    [InlineData(nameof(DtlsCloseReason.HandshakeTimeout), "handshake_timeout")]
    [InlineData("Fatal", "fatal")]
    [InlineData("TLSError", "tls_error")]
    public void Enum_names_become_snake_case_tag_values(string name, string expected)
        => Assert.Equal(expected, MetricNames.SnakeCase(name));

    [Fact]
    public void A_name_is_converted_once_and_the_same_string_returned()
        => Assert.Same(MetricNames.SnakeCase("UnknownPskIdentity"), MetricNames.SnakeCase("UnknownPskIdentity"));

    [Fact]
    public void Handshake_duration_buckets_rise_from_100_microseconds_to_10_seconds()
    {
        var buckets = MetricNames.HandshakeDurationBuckets;
        Assert.Equal(0.0001, buckets[0]);
        Assert.Equal(10, buckets[^1]);
        for (var i = 1; i < buckets.Count; i++)
        {
            Assert.True(buckets[i] > buckets[i - 1]);
        }
    }

    [Fact]
    public void Every_instrument_name_has_the_dtls_prefix()
    {
        foreach (var field in typeof(MetricNames).GetFields())
        {
            if (field.IsLiteral && !field.Name.EndsWith("Tag", StringComparison.Ordinal) && field.Name != nameof(MetricNames.MeterName)
                && field.GetRawConstantValue() is string value && value.Contains('.', StringComparison.Ordinal))
            {
                Assert.StartsWith("dtls.", value, StringComparison.Ordinal);
            }
        }
    }
}
