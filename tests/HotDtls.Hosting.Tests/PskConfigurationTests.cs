using System.Text;
using Microsoft.Extensions.Options;
using static HotDtls.Hosting.Tests.TestConfiguration;

namespace HotDtls.Hosting.Tests;

/// <summary>The server's Psk section: one key, keys by identity, the list form, and secrets kept out of messages.</summary>
public sealed class PskConfigurationTests
{
    private const string SecretHex = "c0ffee0123456789abcdef";

    private static async Task<byte[]?> KeyOf(IPskStore store, string identity)
        => await store.GetKeyAsync(Encoding.UTF8.GetBytes(identity), CancellationToken.None);

    private static IReadOnlyList<string> Failures(Action bind)
        => Assert.Throws<OptionsValidationException>(bind).Failures.ToList();

    [Fact]
    public async Task Psk_Key_gives_every_identity_the_same_key()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(("Psk:Key", "1A2B3C4D5E6F")));

        Assert.Equal(Key, await KeyOf(options.PskStore!, "Qt DTLS example client"));
        Assert.Equal(Key, await KeyOf(options.PskStore!, "anyone"));
    }

    [Fact]
    public async Task Psk_Keys_by_identity_know_only_those_identities()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(("Psk:Keys:alice", "0102"), ("Psk:Keys:bob", "0304")));

        Assert.Equal([1, 2], await KeyOf(options.PskStore!, "alice"));
        Assert.Equal([3, 4], await KeyOf(options.PskStore!, "bob"));
        Assert.Null(await KeyOf(options.PskStore!, "carol"));
    }

    [Fact]
    public async Task Psk_Keys_as_a_list_take_any_identity_compared_exactly()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(
            ("Psk:Keys:0:Identity", "urn:dev:Sensor-1"), ("Psk:Keys:0:Key", "0102"),
            ("Psk:Keys:1:Identity", "urn:dev:sensor-1"), ("Psk:Keys:1:Key", "0304")));

        Assert.Equal([1, 2], await KeyOf(options.PskStore!, "urn:dev:Sensor-1"));
        Assert.Equal([3, 4], await KeyOf(options.PskStore!, "urn:dev:sensor-1"));
        Assert.Null(await KeyOf(options.PskStore!, "urn:dev:SENSOR-1"));
    }

    [Fact]
    public void A_key_given_as_the_Psk_value_itself_is_refused_without_showing_it()
    {
        var failure = Assert.Single(Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(("Psk", SecretHex)))));

        Assert.StartsWith("HotDtls:Server:Psk: a section (IdentityHint, Key or Keys) was given a single value", failure);
        Assert.DoesNotContain(SecretHex, failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_list_of_bare_keys_is_refused_rather_than_read_as_identities_0_and_1()
    {
        var failure = Assert.Single(Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(
            ("Psk:Keys:0", SecretHex), ("Psk:Keys:1", SecretHex)))));

        Assert.StartsWith("HotDtls:Server:Psk:Keys: is a list of bare keys", failure);
        Assert.DoesNotContain(SecretHex, failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Psk_Key_and_Psk_Keys_together_are_refused()
    {
        var failure = Assert.Single(Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(
            ("Psk:Key", SecretHex), ("Psk:Keys:alice", SecretHex)))));

        Assert.StartsWith("HotDtls:Server:Psk:Key: set either HotDtls:Server:Psk:Key", failure);
        Assert.DoesNotContain(SecretHex, failure, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("Psk:Key", "Psk:Key", "zz" + SecretHex, "not hexadecimal")]
    [InlineData("Psk:Key", "Psk:Key", SecretHex + "0", "not hexadecimal")]
    [InlineData("Psk:Keys:alice", "Psk:Keys:alice", SecretHex + SecretHex + SecretHex + SecretHex + SecretHex + SecretHex, "1 to 64 bytes")]
    [InlineData("Psk:Keys:0:Key", "Psk:Keys:0:Key", "0x" + SecretHex, "not hexadecimal")]
    [InlineData("SessionTicketKeys:0", "SessionTicketKeys:0", SecretHex, "exactly 48 bytes")]
    public void A_bad_secret_names_its_key_and_never_its_value(string key, string reported, string value, string reason)
    {
        var pairs = new List<(string, string?)> { (key, value) };
        if (key.StartsWith("Psk:Keys:0", StringComparison.Ordinal))
        {
            pairs.Add(("Psk:Keys:0:Identity", "alice"));
        }

        var failure = Assert.Single(Failures(() => DtlsConfiguration.BindServerOptions(ServerSection([.. pairs]))));

        Assert.StartsWith($"HotDtls:Server:{reported}: ", failure);
        Assert.Contains(reason, failure);
        Assert.DoesNotContain(SecretHex, failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void An_empty_identity_hint_sends_none()
    {
        var into = new DtlsServerOptions { PskIdentityHint = "old" };
        Assert.Null(DtlsConfiguration.BindServerOptions(ServerSection(("Psk:IdentityHint", "")), into).PskIdentityHint);
    }
}
