using System.Net;

namespace HotDtls.Cli.Tests;

/// <summary>serve's cluster flags: --node-id, --cluster-keys, --cluster-listen, --cluster-node.</summary>
public sealed class ClusterArgumentsTests
{
    private static string? NoEnvironment(string name) => null;

    private static DtlsServerOptions Applied(params string[] args)
    {
        var options = new DtlsServerOptions();
        Arguments.Parse(["serve", .. args], NoEnvironment).ApplyClusterTo(options);
        return options;
    }

    [Fact]
    public void Without_cluster_flags_the_server_is_on_its_own()
    {
        Assert.Null(Applied().Cluster);
    }

    [Fact]
    public void The_flags_make_a_cluster_node()
    {
        var options = Applied("--node-id", "2", "--cluster-keys", "/etc/hotdtls/cluster.keys", "--cluster-listen", "127.0.0.12:5685",
            "--cluster-node", "1=127.0.0.11:5685", "--cluster-node", "3=[::1]:5687");

        var cluster = Assert.IsType<DtlsClusterOptions>(options.Cluster);
        Assert.Equal(2, cluster.NodeId);
        Assert.Equal("/etc/hotdtls/cluster.keys", cluster.KeyFile);
        Assert.Equal(IPEndPoint.Parse("127.0.0.12:5685"), cluster.ChannelEndPoint);
        Assert.Equal(IPEndPoint.Parse("127.0.0.11:5685"), cluster.Nodes[1]);
        Assert.Equal(IPEndPoint.Parse("[::1]:5687"), cluster.Nodes[3]);
        Assert.Equal(2, cluster.Nodes.Count);
    }

    [Fact]
    public void A_node_without_keys_is_told_to_give_them()
    {
        var exception = Assert.Throws<UsageException>(() => Applied("--node-id", "1"));
        Assert.Contains("--cluster-keys FILE", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--node-id", "0", "--node-id needs a node id from 1 to 255")]
    [InlineData("--node-id", "256", "--node-id needs a node id from 1 to 255")]
    [InlineData("--cluster-listen", "127.0.0.1", "--cluster-listen needs ADDRESS:PORT")]
    [InlineData("--cluster-node", "2=127.0.0.1", "--cluster-node needs ID=ADDRESS:PORT")]
    [InlineData("--cluster-node", "0=127.0.0.1:5685", "--cluster-node needs ID=ADDRESS:PORT")]
    [InlineData("--cluster-node", "127.0.0.1:5685", "--cluster-node needs ID=ADDRESS:PORT")]
    public void A_malformed_flag_says_what_it_needs(string flag, string value, string message)
    {
        var exception = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", flag, value], NoEnvironment));
        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
    }
}
