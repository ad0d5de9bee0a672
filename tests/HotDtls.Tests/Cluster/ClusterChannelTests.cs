using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using HotDtls.Cluster;
using HotDtls.Tests.Support;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace HotDtls.Tests.Cluster;

public sealed class ClusterChannelTests
{
    private static readonly TimeSpan s_heartbeat = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(3);
    private static readonly byte[] s_keyA = Key(0xA1);
    private static readonly byte[] s_keyB = Key(0xB2);
    private static readonly SocketAddress s_client4 = new IPEndPoint(IPAddress.Parse("198.51.100.23"), 40001).Serialize();
    private static readonly SocketAddress s_client6 = new IPEndPoint(IPAddress.Parse("2001:db8::17"), 40002).Serialize();
    private static readonly byte[] s_datagram = [0x19, 0xfe, 0xfd, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05];

    private static readonly Dictionary<byte, IPEndPoint> s_nodes = new()
    {
        [1] = new IPEndPoint(IPAddress.Parse("10.0.0.1"), 7001),
        [2] = new IPEndPoint(IPAddress.Parse("10.0.0.2"), 7002),
        [3] = new IPEndPoint(IPAddress.Parse("10.0.0.3"), 7003),
    };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_forward_is_delivered_with_the_client_address_and_bytes(bool ipv6)
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(one, two);
        var client = ipv6 ? s_client6 : s_client4;

        Assert.True(one.Channel.TryForward(2, client, s_datagram));
        var frame = Assert.Single(one.Sender.TakeAll());
        Assert.Equal(s_nodes[2].Serialize(), frame.Peer);
        two.Channel.ProcessFrame(s_nodes[1].Serialize(), frame.Datagram);

        var delivered = Assert.Single(two.Delivery.Forwards);
        Assert.Equal(1, delivered.From);
        Assert.Equal(client.ToEndPoint(), delivered.Client);
        Assert.Equal(s_datagram, delivered.Datagram);
        Assert.Equal(1, two.Channel.Statistics.ForwardsDelivered);
        Assert.Equal(1, one.Channel.Statistics.ForwardsSent);
        Assert.True(frame.Datagram.Length <= s_datagram.Length + 51);
    }

    [Fact]
    public void A_node_heard_from_a_new_address_is_sent_to_there_and_a_forged_frame_moves_nothing()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(one, two);
        // Later instances number their frames from a later start: newer than node 2's, so the window lets them by.
        _time.Advance(TimeSpan.FromSeconds(1));
        var forger = new Node(this, 2, [s_keyB]);
        var restartedAt = new IPEndPoint(IPAddress.Parse("10.0.9.2"), 7002).Serialize();
        var forgedAt = new IPEndPoint(IPAddress.Parse("203.0.113.66"), 7002).Serialize();

        // A forged heartbeat from elsewhere: dropped, and frames still go to the configured address.
        forger.Channel.SendHeartbeats();
        one.Channel.ProcessFrame(forgedAt, forger.Sender.TakeFor(s_nodes[1].Serialize())[0]);
        Assert.Equal(1, one.Channel.Statistics.BadMac);
        Assert.True(one.Channel.TryForward(2, s_client4, s_datagram));
        Assert.Equal(s_nodes[2].Serialize(), Assert.Single(one.Sender.TakeAll()).Peer);

        // Node 2 restarted with a new address (a new pod IP): its authenticated heartbeat from there moves it.
        _time.Advance(TimeSpan.FromSeconds(1));
        var restarted = new Node(this, 2);
        restarted.Channel.SendHeartbeats();
        one.Channel.ProcessFrame(restartedAt, restarted.Sender.TakeFor(s_nodes[1].Serialize())[0]);
        Assert.True(one.Channel.TryForward(2, s_client4, s_datagram));
        Assert.Equal(restartedAt, Assert.Single(one.Sender.TakeAll()).Peer);
    }

    [Fact]
    public void A_reply_is_delivered_with_the_client_address_and_bytes()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(two, one);

        Assert.True(two.Channel.TrySendReply(1, s_client6, s_datagram));
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), Assert.Single(two.Sender.TakeAll()).Datagram);

        var reply = Assert.Single(one.Delivery.Replies);
        Assert.Equal(s_client6.ToEndPoint(), reply.Client);
        Assert.Equal(s_datagram, reply.Datagram);
        Assert.Empty(one.Delivery.Forwards);
        Assert.Equal(1, one.Channel.Statistics.RepliesDelivered);
        Assert.Equal(1, two.Channel.Statistics.RepliesSent);
    }

    [Fact]
    public void A_frame_under_another_key_is_dropped_as_BadMac()
    {
        var one = new Node(this, 1, [s_keyA]);
        var forger = new Node(this, 2, [s_keyB, s_keyA]); // reads node 1's heartbeats, signs with a key node 1 lacks
        MakeLive(forger, one);

        Assert.True(forger.Channel.TryForward(1, s_client4, s_datagram));
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), Assert.Single(forger.Sender.TakeAll()).Datagram);

        Assert.Empty(one.Delivery.Forwards);
        Assert.Equal(1, one.Channel.Statistics.BadMac);
        Assert.False(one.Channel.IsLive(2)); // A forged frame does not make a node live.
        Assert.Equal(0, one.Sender.Count);
    }

    [Theory]
    [InlineData(6)]   // sequence
    [InlineData(15)]  // port
    [InlineData(20)]  // address
    [InlineData(21)]  // payload
    [InlineData(-1)]  // MAC
    public void A_frame_with_one_bit_flipped_is_dropped_as_BadMac(int offset)
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(two, one);
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        var frame = Assert.Single(two.Sender.TakeAll()).Datagram;

        frame[offset >= 0 ? offset : frame.Length - 1] ^= 0x10;
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), frame);

        Assert.Empty(one.Delivery.Forwards);
        Assert.Equal(1, one.Channel.Statistics.BadMac);
    }

    [Fact]
    public void The_same_frame_twice_is_delivered_once()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(two, one);
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        var frame = Assert.Single(two.Sender.TakeAll()).Datagram;

        one.Channel.ProcessFrame(s_nodes[2].Serialize(), (byte[])frame.Clone());
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), frame);

        Assert.Single(one.Delivery.Forwards);
        Assert.Equal(1, one.Channel.Statistics.Replayed);
    }

    [Fact]
    public void A_frame_older_than_the_window_is_dropped_as_replayed_even_if_never_seen()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(two, one);
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        var old = Assert.Single(two.Sender.TakeAll()).Datagram;
        for (var i = 0; i < 70; i++)
        {
            Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        }
        var newest = two.Sender.TakeAll()[^1].Datagram;

        one.Channel.ProcessFrame(s_nodes[2].Serialize(), newest);
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), old);

        Assert.Single(one.Delivery.Forwards);
        Assert.Equal(1, one.Channel.Statistics.Replayed);
    }

    [Fact]
    public void A_forged_frame_does_not_slide_the_window()
    {
        // RFC 6347 §4.1.2.6: the window moves only after the MAC verifies, so a forgery with a huge sequence number
        // cannot push the sender's real frames out of it.
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(two, one);
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        var genuine = Assert.Single(two.Sender.TakeAll()).Datagram;
        var forged = SignedFrame(ClusterFrameType.Forward, 2, 1, ulong.MaxValue - 1, s_keyB, s_datagram);

        one.Channel.ProcessFrame(s_nodes[2].Serialize(), forged);
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), genuine);

        Assert.Equal(1, one.Channel.Statistics.BadMac);
        Assert.Single(one.Delivery.Forwards);
    }

    [Fact]
    public void Oversized_frames_and_datagrams_are_dropped_or_refused()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(one, two);
        MakeLive(two, one);

        one.Channel.ProcessFrame(s_nodes[2].Serialize(), new byte[ClusterFrame.MaxFrameLength + 1]);
        // Within the longest frame (an IPv4 client leaves 12 bytes spare) but a payload above the largest datagram.
        var bigPayload = SignedFrame(ClusterFrameType.Forward, 2, 1, Sequence(two) + 1000, s_keyA, new byte[ClusterFrame.MaxDatagram + 1]);
        Assert.True(bigPayload.Length <= ClusterFrame.MaxFrameLength);
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), bigPayload);

        Assert.Equal(2, one.Channel.Statistics.Oversized);
        Assert.Empty(one.Delivery.Forwards);

        Assert.False(one.Channel.TryForward(2, s_client6, new byte[ClusterFrame.MaxDatagram + 1]));
        Assert.False(one.Channel.TrySendReply(2, s_client6, new byte[ClusterFrame.MaxDatagram + 1]));
        Assert.Equal(2, one.Channel.Statistics.RefusedTooLarge);
        Assert.Equal(0, one.Sender.Count);

        Assert.True(one.Channel.TryForward(2, s_client6, new byte[ClusterFrame.MaxDatagram]));
        var largest = Assert.Single(one.Sender.TakeAll()).Datagram;
        Assert.Equal(ClusterFrame.MaxFrameLength, largest.Length);
        two.Channel.ProcessFrame(s_nodes[1].Serialize(), largest);
        Assert.Equal(ClusterFrame.MaxDatagram, Assert.Single(two.Delivery.Forwards).Datagram.Length);
    }

    [Fact]
    public void Truncated_frames_are_dropped()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(two, one);
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        var frame = Assert.Single(two.Sender.TakeAll()).Datagram;

        one.Channel.ProcessFrame(s_nodes[2].Serialize(), frame.AsSpan(0, frame.Length - 1).ToArray()); // still parses: the MAC fails
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), frame.AsSpan(0, 20).ToArray());               // not even a header and MAC

        Assert.Equal(1, one.Channel.Statistics.BadMac);
        Assert.Equal(1, one.Channel.Statistics.Malformed);
        Assert.Empty(one.Delivery.Forwards);
    }

    [Fact]
    public void A_frame_for_another_node_is_dropped_as_NotForMe()
    {
        var two = new Node(this, 2);
        var three = new Node(this, 3);
        MakeLive(two, three);
        Assert.True(two.Channel.TryForward(3, s_client4, s_datagram));
        var frame = Assert.Single(two.Sender.TakeAll()).Datagram;

        var one = new Node(this, 1);
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), frame);

        Assert.Equal(1, one.Channel.Statistics.NotForMe);
        Assert.Empty(one.Delivery.Forwards);
    }

    [Fact]
    public void A_frame_from_a_node_not_in_the_list_is_dropped_as_UnknownSender()
    {
        var one = new Node(this, 1);
        var nodes = new Dictionary<byte, IPEndPoint>(s_nodes) { [9] = new IPEndPoint(IPAddress.Parse("10.0.0.9"), 7009) };
        var stranger = new Node(this, 9, nodes: nodes);
        stranger.Channel.SendHeartbeats();
        var toOne = stranger.Sender.TakeFor(s_nodes[1].Serialize());

        one.Channel.ProcessFrame(nodes[9].Serialize(), Assert.Single(toOne));

        Assert.Equal(1, one.Channel.Statistics.UnknownSender);
        Assert.False(one.Channel.IsLive(9));
    }

    [Fact]
    public void A_frame_claiming_our_own_id_as_sender_is_dropped_as_UnknownSender()
    {
        var one = new Node(this, 1);
        var frame = SignedFrame(ClusterFrameType.Forward, 1, 1, 12345, s_keyA, s_datagram);

        one.Channel.ProcessFrame(s_nodes[1].Serialize(), frame);

        Assert.Equal(1, one.Channel.Statistics.UnknownSender);
        Assert.Empty(one.Delivery.Forwards);
        Assert.Equal(0, one.Channel.Statistics.BadMac); // Dropped before the MAC: the frame's MAC is valid.
    }

    [Fact]
    public void A_forward_this_node_does_not_own_is_counted_NotOwner_and_never_sent_on()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(one, two);
        MakeLive(two, one); // One could forward to two: it must not.
        one.Delivery.Owns = false;
        var framesSent = one.Channel.Statistics.FramesSent;
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));

        one.Channel.ProcessFrame(s_nodes[2].Serialize(), Assert.Single(two.Sender.TakeAll()).Datagram);

        Assert.Equal(1, one.Channel.Statistics.NotOwner);
        Assert.Equal(0, one.Channel.Statistics.ForwardsDelivered);
        Assert.Single(one.Delivery.Forwards); // The glue was asked once...
        Assert.Equal(0, one.Sender.Count);    // ...and nothing went out.
        Assert.Equal(framesSent, one.Channel.Statistics.FramesSent);
    }

    [Fact]
    public void Receiving_any_frame_never_sends_anything()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(two, one);
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        Assert.True(two.Channel.TrySendReply(1, s_client4, s_datagram));
        two.Channel.SendHeartbeats();
        var frames = two.Sender.TakeAll();
        Assert.Equal(4, frames.Count); // a forward, a reply, heartbeats to 1 and 3
        var framesSent = one.Channel.Statistics.FramesSent;

        foreach (var (datagram, _) in frames)
        {
            one.Channel.ProcessFrame(s_nodes[2].Serialize(), datagram);
            one.Channel.ProcessFrame(s_nodes[2].Serialize(), datagram);
        }

        Assert.Equal(0, one.Sender.Count);
        Assert.Equal(framesSent, one.Channel.Statistics.FramesSent);
        Assert.Single(one.Delivery.Forwards);
        Assert.Single(one.Delivery.Replies);
        Assert.Equal(5, one.Channel.Statistics.Replayed + one.Channel.Statistics.NotForMe);
    }

    [Fact]
    public void A_forward_to_a_node_not_heard_from_is_refused_until_a_heartbeat_and_again_after_the_timeout()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);

        Assert.False(one.Channel.IsLive(2));
        Assert.False(one.Channel.TryForward(2, s_client4, s_datagram));
        Assert.Equal(1, one.Channel.Statistics.RefusedNodeDown);
        Assert.Equal(0, one.Sender.Count);

        MakeLive(one, two);
        Assert.True(one.Channel.IsLive(2));
        Assert.True(one.Channel.TryForward(2, s_client4, s_datagram));

        _time.Advance(s_timeout - TimeSpan.FromMilliseconds(1));
        Assert.True(one.Channel.IsLive(2));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(one.Channel.IsLive(2));
        Assert.False(one.Channel.TrySendReply(2, s_client4, s_datagram));
        Assert.Equal(2, one.Channel.Statistics.RefusedNodeDown);
        Assert.Single(one.Sender.TakeAll());
    }

    [Fact]
    public void Forwards_to_unknown_nodes_and_to_itself_are_refused()
    {
        var one = new Node(this, 1);

        Assert.False(one.Channel.TryForward(7, s_client4, s_datagram));
        Assert.False(one.Channel.TryForward(1, s_client4, s_datagram));
        Assert.False(one.Channel.TrySendReply(0, s_client4, s_datagram));

        Assert.Equal(3, one.Channel.Statistics.RefusedUnknownNode);
        Assert.Equal(0, one.Sender.Count);
    }

    [Fact]
    public void A_frame_under_the_previous_key_is_accepted_while_the_ring_keeps_it_and_rejected_after()
    {
        var one = new Node(this, 1, [s_keyA]);
        var two = new Node(this, 2, [s_keyA]);
        MakeLive(two, one);

        one.Ring.Replace(Keys([s_keyB, s_keyA])); // One rotated first: two still signs with A.
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), Assert.Single(two.Sender.TakeAll()).Datagram);
        Assert.Single(one.Delivery.Forwards);

        one.Ring.Replace(Keys([s_keyB])); // The rotation is over at one, but two never got the new file.
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), Assert.Single(two.Sender.TakeAll()).Datagram);
        Assert.Single(one.Delivery.Forwards);
        Assert.Equal(1, one.Channel.Statistics.BadMac);

        two.Ring.Replace(Keys([s_keyB, s_keyA])); // Two catches up: it signs with B.
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram));
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), Assert.Single(two.Sender.TakeAll()).Datagram);
        Assert.Equal(2, one.Delivery.Forwards.Count);
    }

    [Fact]
    public void A_restarted_sender_is_accepted_and_its_old_frames_are_not()
    {
        var one = new Node(this, 1);
        var before = new Node(this, 2);
        MakeLive(before, one);
        for (var i = 0; i < 100; i++)
        {
            Assert.True(before.Channel.TryForward(1, s_client4, s_datagram));
        }
        var sent = before.Sender.TakeAll();
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), sent[^1].Datagram);
        before.Channel.Dispose();

        _time.Advance(TimeSpan.FromSeconds(2));
        var after = new Node(this, 2);
        after.Channel.SendHeartbeats();
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), Assert.Single(after.Sender.TakeFor(s_nodes[1].Serialize())));
        one.Channel.ProcessFrame(s_nodes[2].Serialize(), sent[0].Datagram); // captured before the restart, replayed after

        Assert.Equal(1, one.Channel.Statistics.HeartbeatsReceived);
        Assert.Single(one.Delivery.Forwards);
        Assert.Equal(1, one.Channel.Statistics.Replayed);
        Assert.True(one.Channel.IsLive(2));
    }

    [Fact]
    public void Sequence_numbers_start_at_the_start_time_in_microseconds_and_go_up_by_one()
    {
        var two = new Node(this, 2);
        var startMicroseconds = (ulong)(_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;

        two.Channel.SendHeartbeats();
        var frames = two.Sender.TakeAll();

        Assert.Equal(2, frames.Count);
        Assert.True(ClusterFrameReader.TryRead(frames[0].Datagram, out var first));
        Assert.Equal(startMicroseconds + 1, first.Sequence);
        Assert.True(ClusterFrameReader.TryRead(frames[1].Datagram, out var second));
        Assert.Equal(startMicroseconds + 2, second.Sequence);
    }

    [Fact]
    public void Heartbeats_go_to_every_other_node_and_up_and_down_are_logged_once()
    {
        var logger = new ListLogger();
        var one = new Node(this, 1, logger: logger);
        var two = new Node(this, 2);

        one.Channel.SendHeartbeats();
        var sent = one.Sender.TakeAll();
        Assert.Equal([s_nodes[2].Serialize(), s_nodes[3].Serialize()], sent.Select(s => s.Peer));
        Assert.All(sent, s => Assert.Equal(ClusterFrame.HeaderLength + ClusterFrame.MacLength, s.Datagram.Length));
        Assert.Equal(2, one.Channel.Statistics.HeartbeatsSent);

        MakeLive(one, two);
        MakeLive(one, two);
        _time.Advance(s_timeout);
        one.Channel.SendHeartbeats();
        one.Channel.SendHeartbeats();

        Assert.Equal([84, 85], logger.EventIds);
        Assert.Contains("node 2 is up", logger.Messages[0], StringComparison.Ordinal);
        Assert.Contains("node 2 is down", logger.Messages[1], StringComparison.Ordinal);
    }

    [Fact]
    public void A_disposed_channel_refuses_to_send_and_dispose_is_idempotent()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2);
        MakeLive(one, two);

        one.Channel.Dispose();
        one.Channel.Dispose();

        Assert.False(one.Channel.TryForward(2, s_client4, s_datagram));
        one.Channel.SendHeartbeats();
        Assert.Equal(1, one.Channel.Statistics.RefusedStopped);
        Assert.Equal(0, one.Sender.Count);
    }

    [Fact]
    public void Without_a_socket_nothing_is_sent()
    {
        using var channel = new ClusterChannel(1, s_nodes, new ClusterKeyRing(Keys([s_keyA])), _time, s_heartbeat, s_timeout,
            new FakeDelivery(), NullLogger.Instance);

        channel.SendHeartbeats();
        Assert.False(channel.TryForward(2, s_client4, s_datagram));

        Assert.Equal(0, channel.Statistics.FramesSent);
        Assert.Equal(1, channel.Statistics.RefusedStopped);
    }

    [Fact]
    public void Forwarding_and_receiving_allocate_nothing_in_steady_state()
    {
        var one = new Node(this, 1);
        var two = new Node(this, 2, sender: new DiscardingSender());
        MakeLive(two, one);
        Assert.True(two.Channel.TryForward(1, s_client4, s_datagram)); // warm up: the send context and HMACs
        const int PerRun = 100;
        var frames = new byte[Allocations.Attempts * PerRun][];
        for (var i = 0; i < frames.Length; i++)
        {
            frames[i] = SignedFrame(ClusterFrameType.Forward, 2, 1, 1000 + (ulong)i, s_keyA, s_datagram);
        }
        var from = s_nodes[2].Serialize();
        one.Delivery.Keep = false;
        one.Channel.ProcessFrame(from, SignedFrame(ClusterFrameType.Forward, 2, 1, 999, s_keyA, s_datagram)); // warm up

        var allocated = Allocations.Least(attempt =>
        {
            for (var i = 0; i < PerRun; i++)
            {
                two.Channel.TryForward(1, s_client4, s_datagram);
                one.Channel.ProcessFrame(from, frames[(attempt * PerRun) + i]); // a fresh sequence number: verified and delivered
            }
        });

        Assert.Equal(0, allocated);
        Assert.True(one.Channel.Statistics.ForwardsDelivered > PerRun);
    }

    [Fact]
    public void Start_on_a_port_in_use_throws_a_clear_DtlsException()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var logger = new ListLogger();
        using var channel = new ClusterChannel(1, s_nodes, new ClusterKeyRing(Keys([s_keyA])), TimeProvider.System, s_heartbeat,
            s_timeout, new FakeDelivery(), logger);

        var exception = Assert.Throws<DtlsException>(() => channel.Start((IPEndPoint)holder.LocalEndPoint!));

        Assert.Equal(DtlsExceptionReason.AddressInUse, exception.Reason);
        Assert.Contains("node-to-node channel", exception.Message, StringComparison.Ordinal);
        Assert.Equal([83], logger.EventIds);
        Assert.Contains("already in use", logger.Messages[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Two_channels_on_loopback_forward_and_reply_to_each_other()
    {
        var ports = FreePorts(2);
        var nodes = new Dictionary<byte, IPEndPoint>
        {
            [1] = new IPEndPoint(IPAddress.Loopback, ports[0]),
            [2] = new IPEndPoint(IPAddress.Loopback, ports[1]),
        };
        var ring = new ClusterKeyRing(Keys([s_keyA]));
        var deliveryOne = new FakeDelivery();
        var deliveryTwo = new FakeDelivery();
        using var one = new ClusterChannel(1, nodes, ring, TimeProvider.System, TimeSpan.FromMilliseconds(50), s_timeout, deliveryOne, NullLogger.Instance);
        using var two = new ClusterChannel(2, nodes, ring, TimeProvider.System, TimeSpan.FromMilliseconds(50), s_timeout, deliveryTwo, NullLogger.Instance);
        one.Start(nodes[1]);
        two.Start(nodes[2]);
        Assert.Equal(nodes[1], one.LocalEndPoint);

        // Heartbeats (timer-driven, the first at once) make each live at the other.
        Assert.True(WaitUntil(() => one.IsLive(2) && two.IsLive(1)), "the heartbeats did not arrive");

        Assert.True(one.TryForward(2, s_client4, s_datagram));
        Assert.True(WaitUntil(() => deliveryTwo.ForwardCount == 1), "the forward did not arrive");
        Assert.True(two.TrySendReply(1, s_client6, s_datagram));
        Assert.True(WaitUntil(() => deliveryOne.ReplyCount == 1), "the reply did not arrive");

        var forward = deliveryTwo.Forwards.Single();
        Assert.Equal(1, forward.From);
        Assert.Equal(s_client4.ToEndPoint(), forward.Client);
        Assert.Equal(s_datagram, forward.Datagram);
        var reply = deliveryOne.Replies.Single();
        Assert.Equal(s_client6.ToEndPoint(), reply.Client);
        Assert.Equal(s_datagram, reply.Datagram);
        Assert.Equal(0, one.Statistics.BadMac + one.Statistics.Malformed + one.Statistics.Replayed);
    }

    /// <summary>The one real-socket test's wait: bounded, on a condition.</summary>
    private static bool WaitUntil(Func<bool> condition) => SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(10));

    private static int[] FreePorts(int count)
    {
        var sockets = new Socket[count];
        var ports = new int[count];
        for (var i = 0; i < count; i++)
        {
            sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            sockets[i].Bind(new IPEndPoint(IPAddress.Loopback, 0));
            ports[i] = ((IPEndPoint)sockets[i].LocalEndPoint!).Port;
        }
        foreach (var socket in sockets)
        {
            socket.Dispose();
        }
        return ports;
    }

    /// <summary>Has <paramref name="from"/> send a heartbeat that <paramref name="to"/> receives: <paramref name="to"/> now counts it live.</summary>
    private static void MakeLive(Node to, Node from)
    {
        from.Channel.SendHeartbeats();
        var heartbeat = Assert.Single(from.Sender.TakeFor(s_nodes[to.Id].Serialize()));
        from.Sender.TakeAll();
        to.Channel.ProcessFrame(s_nodes[from.Id].Serialize(), heartbeat);
        Assert.True(to.Channel.IsLive(from.Id));
    }

    private static ulong Sequence(Node node)
    {
        node.Channel.SendHeartbeats();
        var frames = node.Sender.TakeAll();
        Assert.True(ClusterFrameReader.TryRead(frames[^1].Datagram, out var reader));
        return reader.Sequence;
    }

    /// <summary>A frame made and MACed here, not by a channel: for what a channel would never send.</summary>
    private static byte[] SignedFrame(ClusterFrameType type, byte sender, byte receiver, ulong sequence, byte[] key, byte[] payload)
    {
        var frame = new byte[ClusterFrame.Length(ClusterFrame.FamilyIPv4, payload.Length)];
        var length = ClusterFrame.WriteUnsigned(frame, type, sender, receiver, sequence, ClusterFrame.FamilyIPv4, 40001,
            [198, 51, 100, 23], payload);
        HMACSHA256.HashData(key, frame.AsSpan(0, length)).AsSpan(0, ClusterFrame.MacLength).CopyTo(frame.AsSpan(length));
        return frame;
    }

    private static byte[] Key(byte fill) => Enumerable.Repeat(fill, 32).ToArray();

    private static DtlsClusterKeys Keys(byte[][] channelKeys)
        => new([Key(0x11)], [new byte[DtlsClusterKeys.TicketKeyLength]], channelKeys);

    private sealed class Node
    {
        public Node(ClusterChannelTests test, byte id, byte[][]? channelKeys = null, Dictionary<byte, IPEndPoint>? nodes = null,
            ILogger? logger = null, IDatagramSender? sender = null)
        {
            Id = id;
            Ring = new ClusterKeyRing(Keys(channelKeys ?? [s_keyA]));
            Channel = new ClusterChannel(id, nodes ?? s_nodes, Ring, test._time, s_heartbeat, s_timeout, Delivery,
                logger ?? NullLogger.Instance, sender ?? Sender);
        }

        public byte Id { get; }

        public ClusterKeyRing Ring { get; }

        public CapturingSender Sender { get; } = new();

        public FakeDelivery Delivery { get; } = new();

        public ClusterChannel Channel { get; }
    }

    private sealed class DiscardingSender : IDatagramSender
    {
        public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
        {
        }
    }

    private sealed class FakeDelivery : IClusterDelivery
    {
        private readonly Lock _gate = new();
        private readonly List<(byte From, IPEndPoint Client, byte[] Datagram)> _forwards = [];
        private readonly List<(IPEndPoint Client, byte[] Datagram)> _replies = [];

        public bool Owns { get; set; } = true;

        /// <summary>False: count only (the allocation test).</summary>
        public bool Keep { get; set; } = true;

        public List<(byte From, IPEndPoint Client, byte[] Datagram)> Forwards
        {
            get { lock (_gate) { return [.. _forwards]; } }
        }

        public List<(IPEndPoint Client, byte[] Datagram)> Replies
        {
            get { lock (_gate) { return [.. _replies]; } }
        }

        public int ForwardCount => Forwards.Count;

        public int ReplyCount => Replies.Count;

        public bool DeliverForwarded(byte fromNode, SocketAddress client, Span<byte> datagram)
        {
            if (Keep)
            {
                lock (_gate)
                {
                    _forwards.Add((fromNode, client.ToEndPoint(), datagram.ToArray()));
                }
            }
            return Owns;
        }

        public void DeliverReply(SocketAddress client, ReadOnlySpan<byte> datagram)
        {
            if (Keep)
            {
                lock (_gate)
                {
                    _replies.Add((client.ToEndPoint(), datagram.ToArray()));
                }
            }
        }
    }

    private sealed class ListLogger : ILogger
    {
        public List<int> EventIds { get; } = [];

        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            EventIds.Add(eventId.Id);
            Messages.Add(formatter(state, exception));
        }
    }
}
