using System.Net;
using System.Text;
using HotDtls.Cluster;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Cookies;
using HotDtls.Tests.Support;
using HotDtls.Transport;

namespace HotDtls.Tests.Server;

/// <summary>
/// Cluster nodes as engines (no sockets): a cookie from one node and a ticket from one node are accepted by another that
/// shares the keys, and a Connection ID record that reaches the wrong node goes to its owner through the node-to-node
/// channel (a fake here) and is answered back through the node it came from.
/// </summary>
public sealed class ClusterEngineTests
{
    private static readonly IPEndPoint s_client = new(IPAddress.Loopback, 43000);
    // The address the second node sees the same client at (behind a balancer, its own upstream socket).
    private static readonly IPEndPoint s_clientAtOtherNode = new(IPAddress.Parse("127.0.0.10"), 47000);

    private static ServerHarness Node(byte id, DtlsClusterKeys? keys = null, int seed = 1) => new(o =>
    {
        o.EnableSessionTickets = true;
        o.Cluster = new DtlsClusterOptions { NodeId = id, Keys = keys ?? CookieVerifierSharedTests.Keys(1) };
    }, seed);

    private static TestClient Client(ServerHarness server, IPEndPoint address, int? connectionIdLength = null, DtlsSavedSession? session = null, int seed = 7)
    {
        var options = TestClient.PlainPskOptions(server);
        options.ConnectionIdLength = connectionIdLength;
        options.Session = session;
        return new TestClient(server, address, options, seed);
    }

    private static long Dropped(ServerHarness node, DropReason reason)
    {
        var totals = new long[HotDtls.Server.DropCounts.Length];
        node.Engine.AddDropCounts(totals);
        return totals[(int)reason];
    }

    [Fact]
    public void A_HelloVerifyRequest_from_one_node_and_the_second_ClientHello_at_another_complete_the_handshake()
    {
        using var a = Node(1, seed: 1);
        using var b = Node(2, seed: 2);
        using var client = Client(a, s_client);

        client.Start();
        a.Deliver(client.Address, Assert.Single(client.Sender.TakeAll()).Datagram);
        var challenge = Assert.Single(a.Sender.TakeFor(client.Address));
        Assert.NotNull(Wire.CookieOf(challenge));
        client.Deliver(challenge);
        // The balancer now sends the client to the other node.
        Exchange.Pump(b, client);

        Assert.True(client.Established, $"closed: {client.ClosedReason} {client.ClosedError}");
        Assert.Equal(0, b.Statistics.HelloVerifyRequestsSent);
        Assert.Equal(1, b.Statistics.HandshakesCompleted);
        Assert.Equal(0, Dropped(b, DropReason.BadCookie));
    }

    [Fact]
    public void A_node_with_other_cookie_secrets_challenges_again()
    {
        using var a = Node(1, seed: 1);
        using var b = Node(2, CookieVerifierSharedTests.Keys(9), seed: 2);
        using var client = Client(a, s_client);

        client.Start();
        a.Deliver(client.Address, Assert.Single(client.Sender.TakeAll()).Datagram);
        client.Deliver(Assert.Single(a.Sender.TakeFor(client.Address)));
        b.Deliver(client.Address, Assert.Single(client.Sender.TakeAll()).Datagram);

        Assert.Equal(1, b.Statistics.HelloVerifyRequestsSent);
        Assert.Equal(0, b.Statistics.HandshakesStarted);
    }

    [Fact]
    public void A_ticket_issued_by_one_node_resumes_at_another_with_the_abbreviated_handshake()
    {
        using var a = Node(1, seed: 1);
        using var b = Node(2, seed: 2);
        using var first = Client(a, s_client);
        first.Start();
        Exchange.Pump(a, first);
        Assert.True(first.Established);
        var saved = Assert.IsType<DtlsSavedSession>(first.Engine.SaveSession());

        using var resumed = Client(b, s_clientAtOtherNode, session: saved, seed: 8);
        resumed.Start();
        Exchange.Pump(b, resumed);

        Assert.True(resumed.Established, $"closed: {resumed.ClosedReason} {resumed.ClosedError}");
        Assert.True(resumed.Engine.IsResumed);
        Assert.Equal(1, b.Statistics.HandshakesResumed);
    }

    [Fact]
    public void A_ticket_from_a_node_with_other_ticket_keys_falls_back_to_a_full_handshake()
    {
        using var a = Node(1, seed: 1);
        var otherKeys = new DtlsClusterKeys([TestBytes.Filled(32, 1)], [TestBytes.Filled(48, 0xB0)], [TestBytes.Filled(32, 0xC0)]);
        using var b = Node(2, otherKeys, seed: 2);
        using var first = Client(a, s_client);
        first.Start();
        Exchange.Pump(a, first);
        var saved = Assert.IsType<DtlsSavedSession>(first.Engine.SaveSession());

        using var again = Client(b, s_clientAtOtherNode, session: saved, seed: 8);
        again.Start();
        Exchange.Pump(b, again);

        Assert.True(again.Established);
        Assert.False(again.Engine.IsResumed);
        Assert.Equal(0, b.Statistics.HandshakesResumed);
    }

    /// <summary>A channel that records what it is asked to send and can be told a node is down.</summary>
    private sealed class FakeForwarder : IClusterForwarder
    {
        public List<(byte Node, SocketAddress Client, byte[] Datagram)> Forwarded { get; } = [];
        public List<(byte Node, SocketAddress Client, byte[] Datagram)> Replies { get; } = [];
        public bool Up { get; set; } = true;

        public bool TryForward(byte owner, SocketAddress client, ReadOnlySpan<byte> datagram)
        {
            if (Up)
            {
                Forwarded.Add((owner, client.Copy(), datagram.ToArray()));
            }
            return Up;
        }

        public bool TrySendReply(byte via, SocketAddress client, ReadOnlySpan<byte> datagram)
        {
            if (Up)
            {
                Replies.Add((via, client.Copy(), datagram.ToArray()));
            }
            return Up;
        }
    }

    /// <summary>An established CID session at <paramref name="owner"/>, and the client's next datagram (application data).</summary>
    private static (TestClient Client, byte[] Datagram) CidSessionAt(ServerHarness owner, string text)
    {
        var client = Client(owner, s_client, connectionIdLength: 0);
        client.Start();
        Exchange.Pump(owner, client);
        Assert.True(client.Established);
        Assert.True(client.Send(text));
        var datagram = Assert.Single(client.Sender.TakeAll()).Datagram;
        Assert.Equal((byte)ContentType.Tls12Cid, datagram[0]);
        return (client, datagram);
    }

    [Fact]
    public void A_CID_record_of_another_nodes_session_is_forwarded_unchanged_with_its_source_address()
    {
        using var owner = Node(2);
        using var other = Node(1);
        var forwarder = new FakeForwarder();
        other.Engine.Forwarder = forwarder;
        var (client, datagram) = CidSessionAt(owner, "rebound");
        using var _ = client;

        other.Deliver(s_clientAtOtherNode.Serialize(), datagram);

        var (node, from, bytes) = Assert.Single(forwarder.Forwarded);
        Assert.Equal(2, node);
        Assert.Equal(s_clientAtOtherNode.Serialize(), from);
        Assert.Equal(datagram, bytes);
        Assert.Equal(0, other.Sender.Count);
        Assert.Equal(1, other.Statistics.DatagramsForwarded);
        Assert.Equal(0, other.Statistics.Sessions);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_CID_record_for_a_node_that_cannot_be_reached_is_dropped_and_counted(bool hasChannel)
    {
        using var owner = Node(2);
        using var other = Node(1);
        if (hasChannel)
        {
            other.Engine.Forwarder = new FakeForwarder { Up = false };
        }
        var (client, datagram) = CidSessionAt(owner, "nobody home");
        using var _ = client;

        other.Deliver(s_clientAtOtherNode.Serialize(), datagram);

        Assert.Equal(0, other.Statistics.DatagramsForwarded);
        Assert.Equal(1, other.Statistics.DatagramsNotForwarded);
        Assert.Equal(1, Dropped(other, DropReason.ClusterNodeUnavailable));
        Assert.Equal(0, other.Sender.Count);
    }

    [Fact]
    public void The_owner_answers_a_forwarded_record_through_the_node_that_forwarded_it()
    {
        using var owner = Node(2);
        var forwarder = new FakeForwarder();
        owner.Engine.Forwarder = forwarder;
        var (client, datagram) = CidSessionAt(owner, "via node 1");
        using var _ = client;
        var seenAtNode1 = s_clientAtOtherNode.Serialize();

        // What node 1's channel hands over: the datagram as it came from the client, and where node 1 saw it come from.
        owner.Deliver(ViaAddress.Create(seenAtNode1, 1), datagram);

        Assert.Equal("via node 1", Encoding.UTF8.GetString(Assert.Single(owner.Handler.Datagrams).Plaintext));
        // The session moved to "the client as node 1 sees it": the application sees that address.
        Assert.Equal(s_clientAtOtherNode, owner.Handler.Datagrams[0].Session.RemoteEndPoint);
        Assert.Empty(owner.Sender.TakeFor(seenAtNode1));
        Assert.NotEmpty(forwarder.Replies);
        foreach (var (node, to, _) in forwarder.Replies)
        {
            Assert.Equal(1, node);
            Assert.Equal(seenAtNode1, to);
        }
        Assert.Equal(forwarder.Replies.Count, owner.Statistics.DatagramsSentThroughNodes);
        // The path check goes to the client through node 1, and its answer comes back the same way: the address is proven.
        for (var round = 0; round < 5 && owner.Statistics.PeerAddressesProven == 0; round++)
        {
            Relay(owner, client, forwarder, seenAtNode1);
        }
        Assert.Equal(1, owner.Statistics.PeerAddressesProven);

        // Proven: the answers to the next datagram reach the client through node 1.
        Assert.True(client.Send("again"));
        Relay(owner, client, forwarder, seenAtNode1);
        Assert.Equal($"to {s_clientAtOtherNode}: ACK", client.Received[^1]);
        Assert.Equal(0, owner.Sender.Count);
    }

    /// <summary>One round through node 1: the replies node 1 was asked to send go to the client, the client's datagrams to the owner.</summary>
    private static void Relay(ServerHarness owner, TestClient client, FakeForwarder forwarder, SocketAddress seenAtNode1)
    {
        foreach (var (answer, _) in client.Sender.TakeAll())
        {
            owner.Deliver(ViaAddress.Create(seenAtNode1, 1), answer);
        }
        foreach (var (_, _, reply) in forwarder.Replies.ToArray())
        {
            client.Deliver(reply);
        }
        forwarder.Replies.Clear();
        foreach (var (answer, _) in client.Sender.TakeAll())
        {
            owner.Deliver(ViaAddress.Create(seenAtNode1, 1), answer);
        }
        foreach (var (_, _, reply) in forwarder.Replies.ToArray())
        {
            client.Deliver(reply);
        }
        forwarder.Replies.Clear();
    }

    [Fact]
    public void A_forwarded_record_that_names_a_third_node_is_not_forwarded_again()
    {
        using var owner = Node(2);
        using var wrong = Node(3);
        var forwarder = new FakeForwarder();
        wrong.Engine.Forwarder = forwarder;
        var (client, datagram) = CidSessionAt(owner, "loop");
        using var _ = client;

        // A misconfigured node 1 sent node 2's record to node 3.
        wrong.Deliver(ViaAddress.Create(s_clientAtOtherNode.Serialize(), 1), datagram);

        Assert.Empty(forwarder.Forwarded);
        Assert.Equal(1, Dropped(wrong, DropReason.ClusterNodeUnavailable));
    }

    [Fact]
    public void A_server_on_its_own_does_not_forward_and_drops_foreign_CIDs_as_unknown()
    {
        using var owner = Node(2);
        using var alone = new ServerHarness();
        var (client, datagram) = CidSessionAt(owner, "not a cluster");
        using var _ = client;

        alone.Deliver(s_client.Serialize(), datagram);

        Assert.Equal(1, alone.Statistics.UnknownConnectionIdRecords);
        Assert.Equal(0, alone.Statistics.DatagramsNotForwarded);
    }
}
