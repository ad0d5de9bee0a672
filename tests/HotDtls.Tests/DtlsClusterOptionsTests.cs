using System.Net;
using HotDtls.Tests.Cookies;

namespace HotDtls.Tests;

public sealed class DtlsClusterOptionsTests
{
    private static DtlsServerOptions Server(Action<DtlsClusterOptions> configure)
    {
        var cluster = new DtlsClusterOptions { NodeId = 1, Keys = CookieVerifierSharedTests.Keys(1) };
        configure(cluster);
        return new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskStore = PskStore.Single([1, 2, 3]),
            Cluster = cluster,
        };
    }

    [Fact]
    public void A_complete_cluster_node_validates()
    {
        var options = Server(c =>
        {
            c.ChannelEndPoint = new IPEndPoint(IPAddress.Loopback, 5685);
            c.Nodes[1] = new IPEndPoint(IPAddress.Loopback, 5685);
            c.Nodes[2] = new IPEndPoint(IPAddress.Loopback, 5686);
        });

        options.ValidateServer();
        Assert.Equal(1, options.EffectiveConnectionIdNode);
    }

    [Theory]
    [InlineData("node0", "NodeId is required")]
    [InlineData("both", "exactly one place")]
    [InlineData("neither", "exactly one place")]
    [InlineData("heartbeat", "HeartbeatInterval")]
    [InlineData("timeout", "NodeTimeout must be at least two heartbeat intervals")]
    [InlineData("nodes-without-channel", "ChannelEndPoint is not")]
    [InlineData("node-id-0-listed", "node id 0")]
    [InlineData("node-without-port", "node 2 needs the address and port")]
    public void A_wrong_setting_is_refused_with_what_to_do(string wrong, string message)
    {
        var options = Server(c =>
        {
            switch (wrong)
            {
                case "node0": c.NodeId = 0; break;
                case "both": c.KeyFile = "/etc/hotdtls/keys"; break;
                case "neither": c.Keys = null; break;
                case "heartbeat": c.HeartbeatInterval = TimeSpan.Zero; break;
                case "timeout": c.NodeTimeout = c.HeartbeatInterval; break;
                case "nodes-without-channel": c.Nodes[2] = new IPEndPoint(IPAddress.Loopback, 5686); break;
                case "node-id-0-listed":
                    c.ChannelEndPoint = new IPEndPoint(IPAddress.Loopback, 5685);
                    c.Nodes[0] = new IPEndPoint(IPAddress.Loopback, 5686);
                    break;
                case "node-without-port":
                    c.ChannelEndPoint = new IPEndPoint(IPAddress.Loopback, 5685);
                    c.Nodes[2] = new IPEndPoint(IPAddress.Loopback, 0);
                    break;
            }
        });

        var exception = Assert.ThrowsAny<ArgumentException>(options.ValidateServer);
        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_node_byte_comes_from_the_cluster_and_a_different_ConnectionIdNode_is_refused()
    {
        var options = Server(c => c.NodeId = 7);
        options.ConnectionIdNode = 3;

        var exception = Assert.Throws<ArgumentException>(options.ValidateServer);
        Assert.Contains("ConnectionIdNode (3) differs from DtlsClusterOptions.NodeId (7)", exception.Message, StringComparison.Ordinal);

        options.ConnectionIdNode = 7;
        options.ValidateServer();
        options.ConnectionIdNode = 0;
        options.ValidateServer();
        Assert.Equal(7, options.EffectiveConnectionIdNode);
    }

    [Fact]
    public void Ticket_keys_come_from_the_cluster_not_from_SessionTicketKeys()
    {
        var options = Server(_ => { });
        options.SessionTicketKeys.Add(new byte[48]);

        var exception = Assert.Throws<ArgumentException>(options.ValidateServer);
        Assert.Contains("leave SessionTicketKeys empty", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_channel_needs_Connection_IDs_to_forward()
    {
        var options = Server(c => c.ChannelEndPoint = new IPEndPoint(IPAddress.Loopback, 5685));
        options.ConnectionIdLength = null;

        var exception = Assert.Throws<ArgumentException>(options.ValidateServer);
        Assert.Contains("ConnectionIdLength to 4 or more", exception.Message, StringComparison.Ordinal);
    }
}
