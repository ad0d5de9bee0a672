using Microsoft.Extensions.Options;
using static HotDtls.Hosting.Tests.TestConfiguration;

namespace HotDtls.Hosting.Tests;

/// <summary>The library's option rules, reported under the configuration key that breaks them, without secrets.</summary>
public sealed class ServerOptionsValidationTests
{
    private const string SecretHex = "c0ffee0123456789abcdef";

    [Theory]
    [InlineData("Mtu", "100", "HotDtls:Server:Mtu: Mtu must be between 256 and 65507 bytes. (configured: 100)")]
    [InlineData("ReceiveLoops", "0", "HotDtls:Server:ReceiveLoops: ReceiveLoops must be 1 to 1024")]
    [InlineData("MaxRetransmitTimeout", "0.5", "HotDtls:Server:MaxRetransmitTimeout: MaxRetransmitTimeout must not be less than InitialRetransmitTimeout.")]
    [InlineData("IdleTimeout", "0", "HotDtls:Server:IdleTimeout: IdleTimeout must be positive.")]
    [InlineData("SessionLifetime", "2.00:00:00", "HotDtls:Server:SessionLifetime: SessionLifetime must be positive and at most 24 hours")]
    [InlineData("ConnectionIdLength", "2", "HotDtls:Server:ConnectionIdLength: ConnectionIdLength must be null")]
    [InlineData("NamedGroups", "", "HotDtls:Server:NamedGroups: NamedGroups is empty but CipherSuites names ECDHE_PSK suites")]
    [InlineData("CipherSuites", "", "HotDtls:Server:CipherSuites: CipherSuites is empty")]
    [InlineData("CipherSuites", "TLS_PSK_WITH_AES_128_CCM_8,TLS_PSK_WITH_AES_128_CCM_8", "HotDtls:Server:CipherSuites: CipherSuites names TLS_PSK_WITH_AES_128_CCM_8 twice")]
    public void Validation_names_the_key_that_breaks_a_rule(string key, string value, string expected)
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(
            ("EndPoint", "127.0.0.1:0"), ("Psk:Key", SecretHex), (key, value)));

        var failure = Assert.Single(Assert.Throws<OptionsValidationException>(
            () => DtlsConfiguration.ValidateServerOptions(options, ServerPath)).Failures);

        Assert.StartsWith(expected, failure);
        Assert.DoesNotContain(SecretHex, failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Validation_names_the_missing_endpoint_and_keys()
    {
        var noEndPoint = DtlsConfiguration.BindServerOptions(ServerSection(("Psk:Key", SecretHex)));
        var noKeys = DtlsConfiguration.BindServerOptions(ServerSection(("EndPoint", "127.0.0.1:0")));

        Assert.StartsWith("HotDtls:Server:EndPoint: required",
            Assert.Throws<OptionsValidationException>(() => DtlsConfiguration.ValidateServerOptions(noEndPoint, ServerPath)).Message);
        Assert.StartsWith("HotDtls:Server:Psk: no pre-shared keys: set HotDtls:Server:Psk:Key",
            Assert.Throws<OptionsValidationException>(() => DtlsConfiguration.ValidateServerOptions(noKeys, ServerPath)).Message);
    }

    [Fact]
    public void Validation_of_a_ticket_key_added_in_code_names_its_index()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(("EndPoint", "127.0.0.1:0"), ("Psk:Key", "01")));
        options.SessionTicketKeys.Add(new byte[48]);
        options.SessionTicketKeys.Add(new byte[47]);

        var failure = Assert.Single(Assert.Throws<OptionsValidationException>(
            () => DtlsConfiguration.ValidateServerOptions(options, ServerPath)).Failures);

        Assert.StartsWith("HotDtls:Server:SessionTicketKeys:1: SessionTicketKeys[1] must be 48 bytes", failure);
    }
}
