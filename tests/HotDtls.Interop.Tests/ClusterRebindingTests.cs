using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using HotDtls.Interop.Tests.Peers;
using Xunit.Abstractions;

namespace HotDtls.Interop.Tests;

/// <summary>
/// Two HotDtls cluster nodes on loopback with their node-to-node channel, behind the lossy relay acting as a UDP
/// load balancer that does not preserve source addresses (as nginx's stream proxy): each upstream socket is connected to
/// one node. A client with a Connection ID rebinds and the "balancer" picks the other node for its new flow: that node
/// forwards the records to the owner, whose answers come back through it, so the session carries on. Then the owner
/// stops: after the node timeout the other node drops its records (counted) instead of forwarding them, and a restarted
/// owner is live again within a heartbeat.
/// </summary>
public sealed class ClusterRebindingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_heartbeat = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan s_nodeTimeout = TimeSpan.FromMilliseconds(400);

    // Big enough to pay, on its own, for the path_challenge and the ack sent to the unproven new address (NatRebindingTests).
    private const int RequestBytes = 100;

    private static readonly DtlsClusterKeys s_keys = new(
        [Enumerable.Repeat((byte)0x11, 32).ToArray()],
        [Enumerable.Range(0, 48).Select(i => (byte)i).ToArray()],
        [Enumerable.Repeat((byte)0x33, 32).ToArray()]);

    [Fact]
    public async Task A_rebound_CID_client_sent_to_another_node_keeps_its_session_through_the_channel()
    {
        const int before = 21, after = 21;
        using var cts = new CancellationTokenSource(s_timeout);
        var channels = FreePorts(2);
        await using var owner = await Node.StartAsync(1, channels, cts.Token);
        await using var other = await Node.StartAsync(2, channels, cts.Token);
        await Conditions.WaitUntilAsync(() => owner.Server.ClusterChannel!.IsLive(2) && other.Server.ClusterChannel!.IsLive(1),
            () => "the two nodes to hear each other's heartbeats", cts.Token);
        await using var relay = new LossyUdpRelay(owner.EndPoint, new LossyUdpRelayOptions());
        await using var client = await DtlsClient.ConnectAsync(relay.EndPoint, ClientOptions(), cts.Token);
        Assert.True(client.UsesConnectionId);
        var session = await owner.Handler.Established.Task.WaitAsync(cts.Token);

        var first = relay.Upstream;
        var direct = new List<double>();
        for (var i = 0; i < before; i++)
        {
            direct.Add(await ExchangeAsync(client, i, $"ack {i:D2} to {first.EndPoint}", relay, cts.Token));
        }
        // The balancer sends the client's new flow to the other node.
        var second = relay.Rebind(other.EndPoint);
        var forwarded = new List<double>();
        for (var i = before; i < before + after; i++)
        {
            forwarded.Add(await ExchangeAsync(client, i, $"ack {i:D2} to {second.EndPoint}", relay, cts.Token));
        }
        // A figure, not an assertion (timing on a shared machine): the round trip before the move, and after it through
        // node 2 and the channel (the first exchange after the move, with its path check, left out).
        output.WriteLine($"round trip µs, median of {before - 1}: direct {Median(direct.Skip(1))}, through node 2 {Median(forwarded.Skip(1))}");

        // Each node counts a forward or a reply once the channel's send returned, which may be after the client has its
        // answer: wait for the counts to settle on what the relay saw.
        await Conditions.WaitUntilAsync(() => other.Server.Statistics.DatagramsForwarded == second.DatagramsToServer
            && owner.Server.Statistics.DatagramsSentThroughNodes == second.DatagramsFromServer,
            () => $"the nodes' counts to match the relay's; {relay}", cts.Token);
        var ownerStats = owner.Server.Statistics;
        var otherStats = other.Server.Statistics;
        output.WriteLine($"owner: forwarded-in answers through node 2 {ownerStats.DatagramsSentThroughNodes}, moves {ownerStats.PeerAddressChanges}, proven {ownerStats.PeerAddressesProven}");
        output.WriteLine($"other: forwarded {otherStats.DatagramsForwarded}, not forwarded {otherStats.DatagramsNotForwarded}; {relay}");
        Assert.Equal(Enumerable.Range(0, before + after).Select(i => $"{i:D2}"), owner.Handler.Received);
        Assert.Empty(other.Handler.Received);
        Assert.Equal(0, otherStats.Sessions);
        // Every record after the move went through node 2 (and the path_response), and every answer came back through it.
        Assert.Equal(second.DatagramsToServer, otherStats.DatagramsForwarded);
        Assert.Equal(second.DatagramsFromServer, ownerStats.DatagramsSentThroughNodes);
        Assert.Equal(1, ownerStats.PeerAddressChanges);
        Assert.Equal(1, ownerStats.PeerAddressesProven);
        // The owner knows the client as node 2 sees it.
        Assert.Equal(second.EndPoint, session.RemoteEndPoint);
        Assert.Equal(0, otherStats.DatagramsNotForwarded);
    }

    [Fact]
    public async Task Records_for_a_stopped_node_are_dropped_and_counted_and_a_restarted_node_is_live_again()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var channels = FreePorts(2);
        var owner = await Node.StartAsync(1, channels, cts.Token);
        await using var other = await Node.StartAsync(2, channels, cts.Token);
        await Conditions.WaitUntilAsync(() => other.Server.ClusterChannel!.IsLive(1), () => "node 2 to hear node 1", cts.Token);
        using var device = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        device.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var record = CidRecordFor(node: 1);

        // Node 1 up: node 2 forwards the record; node 1 has no such session and drops it.
        device.SendTo(record, other.EndPoint);
        await Conditions.WaitUntilAsync(() => owner.Server.Statistics.UnknownConnectionIdRecords == 1,
            () => "node 1 to receive the forwarded record", cts.Token);
        // Node 2 counts the forward once the channel's send returned, which may be after node 1 has the record.
        await Conditions.WaitUntilAsync(() => other.Server.Statistics.DatagramsForwarded == 1, () => "node 2 to count the forward", cts.Token);

        // Node 1 gone: after the node timeout node 2 drops the record instead, and counts it.
        await owner.DisposeAsync();
        await Conditions.WaitUntilAsync(() => !other.Server.ClusterChannel!.IsLive(1), () => "node 2 to count node 1 down", cts.Token);
        device.SendTo(record, other.EndPoint);
        await Conditions.WaitUntilAsync(() => other.Server.Statistics.DatagramsNotForwarded == 1, () => "node 2 to drop the record", cts.Token);
        Assert.Equal(1, other.Server.Statistics.DatagramsForwarded);

        // Node 1 comes back on its channel port: live again within a heartbeat or two, and records reach it again.
        await using var restarted = await Node.StartAsync(1, channels, cts.Token);
        await Conditions.WaitUntilAsync(() => other.Server.ClusterChannel!.IsLive(1), () => "node 2 to hear the restarted node 1", cts.Token);
        device.SendTo(record, other.EndPoint);
        await Conditions.WaitUntilAsync(() => restarted.Server.Statistics.UnknownConnectionIdRecords == 1,
            () => "the restarted node 1 to receive the forwarded record", cts.Token);
        await Conditions.WaitUntilAsync(() => other.Server.Statistics.DatagramsForwarded == 2, () => "node 2 to count the forward", cts.Token);
        Assert.Equal(1, other.Server.Statistics.DatagramsNotForwarded);
    }

    /// <summary>A tls12_cid record with a 6-byte CID naming <paramref name="node"/> (loop 0) and a body no session opens.</summary>
    private static byte[] CidRecordFor(byte node)
    {
        var body = new byte[40];
        var record = new byte[11 + 6 + 2 + body.Length];
        record[0] = 25; // tls12_cid
        record[1] = 0xFE;
        record[2] = 0xFD;
        record[4] = 1; // epoch 1
        record[10] = 7; // sequence number 7
        record[11] = node;
        record[12] = 0;
        record[13] = 0x5A;
        record[17] = 0;
        record[18] = (byte)body.Length;
        return record;
    }

    private static DtlsClientOptions ClientOptions()
    {
        var options = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
            ConnectionIdLength = 0,
        };
        return options;
    }

    /// <summary>Ports free on 127.0.0.1 now (bound and closed): the channel endpoints every node must know before any starts.</summary>
    private static int[] FreePorts(int count)
    {
        var sockets = new Socket[count];
        try
        {
            for (var i = 0; i < count; i++)
            {
                sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
                sockets[i].Bind(new IPEndPoint(IPAddress.Loopback, 0));
            }
            return [.. sockets.Select(s => ((IPEndPoint)s.LocalEndPoint!).Port)];
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket?.Dispose();
            }
        }
    }

    private static byte[] Request(int n) => Encoding.ASCII.GetBytes($"#{n:D2} ".PadRight(RequestBytes, '.'));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return Math.Round(sorted[sorted.Length / 2], 1);
    }

    /// <summary>One request and its expected answer; returns the round trip in microseconds.</summary>
    private static async Task<double> ExchangeAsync(DtlsClient client, int n, string expected, LossyUdpRelay relay, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        client.Send(Request(n));
        var buffer = new byte[client.MaxReceiveSize];
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(s_replyTimeout);
        int length;
        try
        {
            length = await client.ReceiveAsync(buffer, wait.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no reply to #{n:D2}; {relay}");
        }
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMicroseconds;
        Assert.Equal(expected, Encoding.UTF8.GetString(buffer, 0, length));
        return elapsed;
    }

    /// <summary>A cluster node on 127.0.0.1: DTLS on a free port, its channel on <c>channels[id - 1]</c>.</summary>
    private sealed class Node : IAsyncDisposable
    {
        private Node(DtlsServer server, RequestHandler handler)
        {
            Server = server;
            Handler = handler;
        }

        public DtlsServer Server { get; }

        public RequestHandler Handler { get; }

        public IPEndPoint EndPoint => Server.LocalEndPoint;

        public static async Task<Node> StartAsync(byte id, int[] channels, CancellationToken cancellationToken)
        {
            var cluster = new DtlsClusterOptions
            {
                NodeId = id,
                Keys = s_keys,
                ChannelEndPoint = new IPEndPoint(IPAddress.Loopback, channels[id - 1]),
                HeartbeatInterval = s_heartbeat,
                NodeTimeout = s_nodeTimeout,
            };
            for (var i = 0; i < channels.Length; i++)
            {
                cluster.Nodes[(byte)(i + 1)] = new IPEndPoint(IPAddress.Loopback, channels[i]);
            }
            var options = new DtlsServerOptions
            {
                EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                PskIdentityHint = PeerCredentials.Default.Hint,
                PskStore = PskStore.Single(PeerCredentials.Default.GetKey()),
                ReceiveLoops = 2,
                Cluster = cluster,
            };
            var handler = new RequestHandler();
            var server = new DtlsServer(options, handler);
            await server.StartAsync(cancellationToken);
            return new Node(server, handler);
        }

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    private sealed class RequestHandler : DtlsServerHandler
    {
        public TaskCompletionSource<DtlsSession> Established { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<string> Received { get; } = new();

        public override void OnSessionEstablished(DtlsSession session) => Established.TrySetResult(session);

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            var n = Encoding.ASCII.GetString(plaintext.Slice(1, 2));
            Received.Enqueue(n);
            session.Send(Encoding.UTF8.GetBytes($"ack {n} to {session.RemoteEndPoint}"));
        }
    }
}
