using System.Net;
using Microsoft.Extensions.Options;
using static HotDtls.Hosting.Tests.TestConfiguration;

namespace HotDtls.Hosting.Tests;

/// <summary>The <c>Cluster</c> section: every key binds, secrets are never repeated, and a broken rule names its key.</summary>
public sealed class ClusterConfigurationTests
{
    private static readonly string s_cookie = new('1', 64);
    private static readonly string s_ticket = new('2', 96);
    private static readonly string s_channel = new('3', 64);

    private static IReadOnlyList<string> Failures(Action bind)
        => Assert.Throws<OptionsValidationException>(bind).Failures.ToList();

    /// <summary>A node with inline keys; <paramref name="extra"/> adds keys or replaces them.</summary>
    private static (string, string?)[] Inline(params (string Key, string? Value)[] extra)
    {
        (string Key, string? Value)[] node =
        [
            ("EndPoint", "127.0.0.1:0"), ("Psk:Key", "1a2b3c4d5e6f"),
            ("Cluster:NodeId", "2"),
            ("Cluster:Keys:CookieSecrets:0", s_cookie), ("Cluster:Keys:CookieSecrets:1", new string('4', 64)),
            ("Cluster:Keys:SessionTicketKeys", s_ticket),
            ("Cluster:Keys:ChannelKeys:0", s_channel),
        ];
        var replaced = new HashSet<string>(extra.Select(pair => pair.Key));
        return [.. node.Where(pair => !replaced.Contains(pair.Key)).Select(pair => (pair.Key, pair.Value)), .. extra.Select(pair => (pair.Key, pair.Value))];
    }

    [Fact]
    public void Every_cluster_key_sets_its_option()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(Inline(
            ("Cluster:ChannelEndPoint", "127.0.0.12:5685"),
            ("Cluster:Nodes:1", "127.0.0.11:5685"),
            ("Cluster:Nodes:3", "127.0.0.13:5685"),
            ("Cluster:HeartbeatInterval", "00:00:00.500"),
            ("Cluster:NodeTimeout", "2"))));

        var cluster = Assert.IsType<DtlsClusterOptions>(options.Cluster);
        Assert.Equal(2, cluster.NodeId);
        var keys = Assert.IsType<DtlsClusterKeys>(cluster.Keys);
        Assert.Equal([Convert.FromHexString(s_cookie), Convert.FromHexString(new string('4', 64))], keys.CookieSecrets);
        Assert.Equal(Convert.FromHexString(s_ticket), Assert.Single(keys.SessionTicketKeys));
        Assert.Equal(Convert.FromHexString(s_channel), Assert.Single(keys.ChannelKeys));
        Assert.Equal(IPEndPoint.Parse("127.0.0.12:5685"), cluster.ChannelEndPoint);
        Assert.Equal(IPEndPoint.Parse("127.0.0.11:5685"), cluster.Nodes[1]);
        Assert.Equal(IPEndPoint.Parse("127.0.0.13:5685"), cluster.Nodes[3]);
        Assert.Equal(2, cluster.Nodes.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(500), cluster.HeartbeatInterval);
        Assert.Equal(TimeSpan.FromSeconds(2), cluster.NodeTimeout);
        DtlsConfiguration.ValidateServerOptions(options, ServerPath);
    }

    [Fact]
    public void A_key_file_instead_of_inline_keys()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(
            ("Cluster:NodeId", "1"), ("Cluster:KeyFile", "/etc/hotdtls/cluster.keys")));

        Assert.Equal("/etc/hotdtls/cluster.keys", options.Cluster!.KeyFile);
        Assert.Null(options.Cluster.Keys);
    }

    [Fact]
    public void Malformed_values_are_reported_under_their_keys_without_the_secrets()
    {
        var failures = Failures(() => DtlsConfiguration.BindServerOptions(ServerSection(
            ("Cluster:NodeId", "300"),
            ("Cluster:Keys:CookieSecrets:0", "zz" + s_cookie),
            ("Cluster:Keys:SessionTicketKeys:0", s_ticket[..90]),
            ("Cluster:Nodes:0", "127.0.0.1:5685"),
            ("Cluster:Nodes:4", "nowhere"),
            ("Cluster:Colour", "blue"))));

        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:Cluster:NodeId:", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:Cluster:Keys:CookieSecrets:0: is not hexadecimal", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:Cluster:Keys:SessionTicketKeys:0: must be exactly 48 bytes", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:Cluster:Keys:ChannelKeys: required", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:Cluster:Nodes:0: is not a node id", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:Cluster:Nodes:4: 'nowhere'", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("HotDtls:Server:Cluster:Colour: is not a setting", StringComparison.Ordinal));
        foreach (var failure in failures)
        {
            Assert.DoesNotContain(s_cookie, failure, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(s_ticket[..90], failure, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Theory]
    [InlineData("Cluster:NodeId", "0", "HotDtls:Server:Cluster:NodeId: DtlsClusterOptions.NodeId is required")]
    [InlineData("Cluster:HeartbeatInterval", "0", "HotDtls:Server:Cluster:HeartbeatInterval: DtlsClusterOptions.HeartbeatInterval must be 10 ms")]
    [InlineData("Cluster:NodeTimeout", "00:00:01", "HotDtls:Server:Cluster:NodeTimeout: DtlsClusterOptions.NodeTimeout must be at least two heartbeat intervals")]
    [InlineData("Cluster:Nodes:2", "127.0.0.1:5686", "HotDtls:Server:Cluster:Nodes: DtlsClusterOptions.Nodes is set but ChannelEndPoint is not")]
    [InlineData("ConnectionIdNode", "5", "HotDtls:Server:ConnectionIdNode: DtlsServerOptions.ConnectionIdNode (5) differs from DtlsClusterOptions.NodeId (2)")]
    [InlineData("Cluster:KeyFile", "/nonexistent/hotdtls/cluster.keys", "HotDtls:Server: A cluster needs its shared keys from exactly one place")]
    public void Validation_names_the_cluster_key_that_breaks_a_rule(string key, string value, string expected)
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(Inline((key, value))));

        var failure = Assert.Single(Assert.Throws<OptionsValidationException>(
            () => DtlsConfiguration.ValidateServerOptions(options, ServerPath)).Failures);

        Assert.StartsWith(expected, failure, StringComparison.Ordinal);
        Assert.DoesNotContain(s_cookie, failure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_key_file_that_does_not_read_is_a_configuration_error_before_the_start()
    {
        var options = DtlsConfiguration.BindServerOptions(ServerSection(
            ("EndPoint", "127.0.0.1:0"), ("Psk:Key", "1a2b3c4d5e6f"),
            ("Cluster:NodeId", "1"), ("Cluster:KeyFile", "/nonexistent/hotdtls/cluster.keys")));

        var failure = Assert.Single(Assert.Throws<OptionsValidationException>(
            () => DtlsConfiguration.ValidateServerOptions(options, ServerPath)).Failures);

        Assert.StartsWith("HotDtls:Server:Cluster:KeyFile: ", failure, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/hotdtls/cluster.keys", failure, StringComparison.Ordinal);
    }
}
