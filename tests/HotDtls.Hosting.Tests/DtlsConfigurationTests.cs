using System.Net;
using Microsoft.Extensions.Options;
using static HotDtls.Hosting.Tests.TestConfiguration;

namespace HotDtls.Hosting.Tests;

/// <summary>Binding each server and client key by name: forms, lists that replace, errors under the key path.</summary>
public sealed class DtlsConfigurationTests
{
    private const string SecretHex = "c0ffee0123456789abcdef";

    private static IReadOnlyList<string> Failures(Action bind)
        => Assert.Throws<OptionsValidationException>(bind).Failures.ToList();

    [Fact]
    public void Every_server_key_sets_its_option()
    {
        var ticketKey = new string('a', 96);
        var section = ServerSection(
            ("EndPoint", "127.0.0.1:5684"),
            ("CipherSuites:0", "TLS_PSK_WITH_AES_128_CCM_8"),
            ("NamedGroups:0", "Secp256r1"),
            ("Mtu", "1280"),
            ("RecordSizeLimit", "512"),
            ("InitialRetransmitTimeout", "00:00:02"),
            ("MaxRetransmitTimeout", "30"),
            ("HandshakeTimeout", "00:01:00"),
            ("RequireExtendedMasterSecret", "true"),
            ("MaxHandshakeMessageLength", "4096"),
            ("MaxReassemblyBytes", "8192"),
            ("ReleaseIdleCiphersAfter", "Infinite"),
            ("IdleTimeout", "00:10:00"),
            ("MaxSessions", "1000"),
            ("MaxHandshakesInProgress", "100"),
            ("CookieSecretRotation", "60"),
            ("ReceiveLoops", "3"),
            ("ReceiveStrategy", "Async"),
            ("ConnectionIdLength", "null"),
            ("ConnectionIdNode", "7"),
            ("EnableSessionResumption", "true"),
            ("MaxCachedSessions", "500"),
            ("SessionLifetime", "02:00:00"),
            ("EnableSessionTickets", "True"),
            ("SessionTicketKeys:0", ticketKey),
            ("SessionTicketKeyRotation", "00:30:00"),
            ("Psk:IdentityHint", "hint"),
            ("Psk:RevealUnknownIdentity", "true"),
            ("Psk:Key", "1a2b3c4d5e6f"));

        var options = DtlsConfiguration.BindServerOptions(section);

        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 5684), options.EndPoint);
        Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_CCM_8], options.CipherSuites);
        Assert.Equal([NamedGroup.Secp256r1], options.NamedGroups);
        Assert.Equal(1280, options.Mtu);
        Assert.Equal(512, options.RecordSizeLimit);
        Assert.Equal(TimeSpan.FromSeconds(2), options.InitialRetransmitTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.MaxRetransmitTimeout);
        Assert.Equal(TimeSpan.FromMinutes(1), options.HandshakeTimeout);
        Assert.True(options.RequireExtendedMasterSecret);
        Assert.Equal(4096, options.MaxHandshakeMessageLength);
        Assert.Equal(8192, options.MaxReassemblyBytes);
        Assert.Equal(Timeout.InfiniteTimeSpan, options.ReleaseIdleCiphersAfter);
        Assert.Equal(TimeSpan.FromMinutes(10), options.IdleTimeout);
        Assert.Equal(1000, options.MaxSessions);
        Assert.Equal(100, options.MaxHandshakesInProgress);
        Assert.Equal(TimeSpan.FromMinutes(1), options.CookieSecretRotation);
        Assert.Equal(3, options.ReceiveLoops);
        Assert.Equal(DtlsReceiveStrategy.Async, options.ReceiveStrategy);
        Assert.Null(options.ConnectionIdLength);
        Assert.Equal(7, options.ConnectionIdNode);
        Assert.True(options.EnableSessionResumption);
        Assert.Equal(500, options.MaxCachedSessions);
        Assert.Equal(TimeSpan.FromHours(2), options.SessionLifetime);
        Assert.True(options.EnableSessionTickets);
        Assert.Equal([Convert.FromHexString(ticketKey)], options.SessionTicketKeys);
        Assert.Equal(TimeSpan.FromMinutes(30), options.SessionTicketKeyRotation);
        Assert.Equal("hint", options.PskIdentityHint);
        Assert.True(options.RevealUnknownPskIdentity);
        Assert.NotNull(options.PskStore);
        DtlsConfiguration.ValidateServerOptions(options, ServerPath);
    }

    [Fact]
    public void Absent_keys_leave_the_options_as_they_were()
    {
        var into = new DtlsServerOptions { Mtu = 1000, EndPoint = new IPEndPoint(IPAddress.Loopback, 1) };

        var options = DtlsConfiguration.BindServerOptions(ServerSection(("MaxSessions", "5")), into);

        Assert.Same(into, options);
        Assert.Equal(1000, options.Mtu);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 1), options.EndPoint);
        Assert.Equal(DtlsOptions.DefaultCipherSuites, options.CipherSuites);
        Assert.Equal(5, options.MaxSessions);
    }

    [Fact]
    public void A_cipher_suite_list_replaces_the_defaults_in_its_order()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(
            ("CipherSuites:0", "TLS_PSK_WITH_AES_128_CCM_8"),
            ("CipherSuites:1", "tls_psk_with_aes_128_gcm_sha256")));

        Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256], options.CipherSuites);
    }

    [Fact]
    public void A_comma_separated_value_is_a_list_too()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(
            ("CipherSuites", "TLS_PSK_WITH_AES_128_CCM_8, TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"),
            ("NamedGroups", "x25519")));

        Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256], options.CipherSuites);
        Assert.Equal([NamedGroup.X25519], options.NamedGroups);
    }

    [Fact]
    public void An_unknown_cipher_suite_is_named_with_its_key_and_the_valid_names()
    {
        var failures = Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(
            ("CipherSuites:0", "TLS_PSK_WITH_AES_128_CCM_8"),
            ("CipherSuites:1", "TLS_FOO"))));

        var failure = Assert.Single(failures);
        Assert.StartsWith("HotDtls:Server:CipherSuites:1: 'TLS_FOO' is not a cipher suite HotDtls speaks; valid: ", failure);
        Assert.Contains("TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", failure);
    }

    [Theory]
    [InlineData("168")] // 0x00A8 as a number: configuration names suites.
    [InlineData("-1")]
    [InlineData("")]
    public void Suite_numbers_are_not_names(string value)
    {
        var failure = Assert.Single(Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(("CipherSuites:0", value)))));
        Assert.StartsWith("HotDtls:Server:CipherSuites:0: ", failure);
    }

    [Fact]
    public void An_unknown_group_is_named_with_its_key()
    {
        var failure = Assert.Single(Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(("NamedGroups:0", "secp384r1")))));
        Assert.Equal("HotDtls:Server:NamedGroups:0: 'secp384r1' is not a named group HotDtls speaks; valid: Secp256r1, X25519.", failure);
    }

    [Theory]
    [InlineData("00:00:30", 30)]
    [InlineData("30", 30)]
    [InlineData("1.5", 1.5)]
    [InlineData("1.00:00:00", 86400)]
    public void Durations_are_hh_mm_ss_or_seconds(string text, double seconds)
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(("HandshakeTimeout", text)));
        Assert.Equal(TimeSpan.FromSeconds(seconds), options.HandshakeTimeout);
    }

    [Fact]
    public void Malformed_values_are_all_reported_at_once_each_under_its_key()
    {
        var failures = Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(
            ("EndPoint", "example.com:22334"),
            ("Mtu", "big"),
            ("HandshakeTimeout", "soon"),
            ("RequireExtendedMasterSecret", "yes"),
            ("ReceiveStrategy", "Fast"),
            ("ConnectionIdNode", "300"))));

        Assert.Equal(6, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:EndPoint: 'example.com:22334': ", StringComparison.Ordinal));
        Assert.Contains("HotDtls:Server:Mtu: 'big' is not a whole number.", failures);
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:HandshakeTimeout: 'soon' is not a duration", StringComparison.Ordinal));
        Assert.Contains("HotDtls:Server:RequireExtendedMasterSecret: 'yes' is not true or false.", failures);
        Assert.Contains("HotDtls:Server:ReceiveStrategy: 'Fast' is not a receive strategy; valid: BlockingThread, Async, Batched.", failures);
        Assert.Contains("HotDtls:Server:ConnectionIdNode: '300' is not a whole number from 0 to 255.", failures);
    }

    [Fact]
    public void An_unknown_key_is_reported_without_its_value()
    {
        var failures = Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(("MaxSesions", "5"), ("Psk:Kye", SecretHex))));

        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:MaxSesions: is not a setting HotDtls knows", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:Psk:Kye: is not a setting HotDtls knows", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains(SecretHex, StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Every_client_key_sets_its_option()
    {
        var section = Section("HotDtls:Client",
            ("PskIdentity", "Qt DTLS example client"),
            ("PskKey", "1a2b3c4d5e6f"),
            ("LocalEndPoint", "[::1]:40000"),
            ("ConnectionIdLength", "0"),
            ("UseSessionTickets", "false"),
            ("MaxFragmentLength", "1024"),
            ("CipherSuites:0", "TLS_PSK_WITH_AES_128_CCM_8"),
            ("HandshakeTimeout", "5"));

        var options = DtlsConfiguration.BindClientOptions(section);

        Assert.Equal("Qt DTLS example client", options.PskIdentity);
        Assert.Equal(Key, options.PskKey);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 40000), options.LocalEndPoint);
        Assert.Equal(0, options.ConnectionIdLength);
        Assert.False(options.UseSessionTickets);
        Assert.Equal(1024, options.MaxFragmentLength);
        Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_CCM_8], options.CipherSuites);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HandshakeTimeout);
    }

    [Fact]
    public void A_bad_client_key_names_its_key_and_not_its_value()
    {
        var failures = Failures(() => DtlsConfiguration.BindClientOptions(Section("HotDtls:Client",
            ("PskKey", SecretHex + "x"), ("EndPoint", "127.0.0.1:1"))));

        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Client:PskKey: is not hexadecimal", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Client:EndPoint: is not a setting", StringComparison.Ordinal));
        Assert.DoesNotContain(failures, f => f.Contains(SecretHex, StringComparison.OrdinalIgnoreCase));
    }
}
