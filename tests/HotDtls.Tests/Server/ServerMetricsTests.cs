using System.Diagnostics.Metrics;
using System.Net;
using HotDtls.Handshake;
using HotDtls.Server;
using HotDtls.Tests.Support;
using static HotDtls.Diagnostics.MetricNames;

namespace HotDtls.Tests.Server;

/// <summary>
/// The server's instruments report what the engine did: each test drives an in-memory handshake (fake clock, seeded
/// randomness) through an engine with metrics attached, and reads the instruments through a listener on that server's
/// meter only.
/// </summary>
public sealed class ServerMetricsTests : IDisposable
{
    private static readonly IPEndPoint s_serverEndPoint = new(IPAddress.Loopback, 22334);

    private readonly ServerHarness _server = new();
    private readonly ServerMetrics _metrics;
    private readonly MetricRecorder _recorder;

    public ServerMetricsTests()
    {
        _metrics = new ServerMetrics(meterFactory: null, s_serverEndPoint, _server.Time);
        _metrics.Observe([_server.Engine]);
        _server.Engine.Metrics = _metrics;
        _recorder = new MetricRecorder(_metrics.Meter);
    }

    public void Dispose()
    {
        _recorder.Dispose();
        _metrics.Dispose();
        _server.Dispose();
    }

    [Fact]
    public void A_cluster_node_measures_its_forwarding_and_a_server_on_its_own_has_no_such_instrument()
    {
        using var node = new ServerHarness(o => o.Cluster = new DtlsClusterOptions { NodeId = 1, Keys = Cookies.CookieVerifierSharedTests.Keys(1) });
        using var metrics = new ServerMetrics(meterFactory: null, s_serverEndPoint, node.Time, cluster: true);
        metrics.Observe([node.Engine]);
        using var recorder = new MetricRecorder(metrics.Meter);
        // A CID record naming node 2, which this node cannot reach (no channel): not forwarded.
        var record = Wire.Record(HotDtls.Records.ContentType.Tls12Cid, 1, 1, new byte[24]);
        var withCid = new byte[record.Length + 6];
        record.AsSpan(0, 11).CopyTo(withCid);
        withCid[11] = 2;
        record.AsSpan(11).CopyTo(withCid.AsSpan(17));
        node.Deliver(Exchange.DefaultClient.Serialize(), withCid);

        Assert.Equal(1, recorder.Observed(ClusterDatagrams, ClusterRouteTag, "not_forwarded"));
        Assert.Equal(0, recorder.Observed(ClusterDatagrams, ClusterRouteTag, "forwarded"));
        Assert.Equal(0, recorder.Observed(ClusterDatagrams, ClusterRouteTag, "sent_through_node"));
        Assert.Empty(_recorder.Observe(ClusterDatagrams));
    }

    [Fact]
    public void A_cluster_node_measures_its_channel_frames_by_direction_and_outcome()
    {
        using var node = new ServerHarness(o => o.Cluster = new DtlsClusterOptions { NodeId = 1, Keys = Cookies.CookieVerifierSharedTests.Keys(1) });
        using var metrics = new ServerMetrics(meterFactory: null, s_serverEndPoint, node.Time, cluster: true);
        metrics.Observe([node.Engine]);
        var nodes = new Dictionary<byte, IPEndPoint> { [2] = new(IPAddress.Loopback, 5702) };
        using var channel = new HotDtls.Cluster.ClusterChannel(1, nodes, node.ClusterKeys!, node.Time, TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(3), new NoDelivery(), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new CapturingSender());
        metrics.ObserveChannel(channel);
        using var recorder = new MetricRecorder(metrics.Meter);

        channel.SendHeartbeats();
        channel.SendHeartbeats();
        Assert.False(channel.TryForward(2, Exchange.DefaultClient.Serialize(), new byte[20])); // node 2 not heard from
        channel.ProcessFrame(new IPEndPoint(IPAddress.Loopback, 5702).Serialize(), new byte[5]);

        var frames = recorder.Observe(ClusterChannelFrames);
        var heartbeats = Assert.Single(frames, f => Equals(f[ClusterFrameOutcomeTag], "heartbeat") && Equals(f[DirectionTag], Transmit));
        Assert.Equal(2, heartbeats.Value);
        Assert.Equal(1, Assert.Single(frames, f => Equals(f[ClusterFrameOutcomeTag], "refused_node_down")).Value);
        Assert.Equal(Transmit, Assert.Single(frames, f => Equals(f[ClusterFrameOutcomeTag], "refused_node_down"))[DirectionTag]);
        var malformed = Assert.Single(frames, f => Equals(f[ClusterFrameOutcomeTag], "malformed"));
        Assert.Equal((1.0, Receive), (malformed.Value, malformed[DirectionTag]));
    }

    private sealed class NoDelivery : HotDtls.Cluster.IClusterDelivery
    {
        public bool DeliverForwarded(byte fromNode, SocketAddress client, Span<byte> datagram) => false;

        public void DeliverReply(SocketAddress client, ReadOnlySpan<byte> datagram)
        {
        }
    }

    [Fact]
    public void A_completed_handshake_counts_once_with_its_suite_and_a_duration_above_zero()
    {
        // 2 ms pass before each datagram reaches the server: the handshake runs from the cookie-verified ClientHello
        // to the client's Finished, two datagrams apart.
        using var client = new TestClient(_server, Exchange.DefaultClient);
        client.Start();
        Exchange.Pump(_server, client, (datagram, toServer) =>
        {
            if (toServer)
            {
                _server.Time.Advance(TimeSpan.FromMilliseconds(2));
            }
            return [datagram];
        });
        Assert.True(client.Established);

        var completed = Assert.Single(_recorder.Of(CompletedHandshakes));
        Assert.Equal(1, completed.Value);
        Assert.Equal(nameof(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256), completed[CipherSuiteTag]);
        Assert.Equal(false, completed[ResumedTag]);
        Assert.Equal(HotDtls.Diagnostics.MetricNames.Server, completed[RoleTag]);
        Assert.Equal("127.0.0.1", completed[ServerAddressTag]);
        Assert.Equal(22334, completed[ServerPortTag]);
        Assert.Empty(_recorder.Of(FailedHandshakes));
        var duration = Assert.Single(_recorder.Of(HandshakeDuration));
        Assert.Equal(0.002, duration.Value, 6);
        Assert.Equal(nameof(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256), duration[CipherSuiteTag]);
        Assert.Equal(1, _recorder.Observed(StartedHandshakes));
        Assert.Equal(1, _recorder.Observed(HelloVerifyRequests));
    }

    [Fact]
    public void A_handshake_with_the_wrong_key_counts_as_failed_with_its_error_and_the_alert_sent()
    {
        var options = TestClient.PlainPskOptions(_server);
        options.PskKey = [9, 9, 9, 9, 9, 9];
        using var client = new TestClient(_server, Exchange.DefaultClient, options);
        client.Start();
        Exchange.Pump(_server, client);
        Assert.False(client.Established);

        Assert.Empty(_recorder.Of(CompletedHandshakes));
        var failed = Assert.Single(_recorder.Of(FailedHandshakes));
        Assert.Equal(1, failed.Value);
        Assert.Equal("bad_record_mac", failed[ErrorTypeTag]);
        Assert.Equal("bad_record_mac", Assert.Single(_recorder.Of(HandshakeDuration))[ErrorTypeTag]);
        var sent = Assert.Single(_recorder.Of(Alerts), a => Equals(a[DirectionTag], Transmit));
        Assert.Equal("fatal", sent[AlertLevelTag]);
        Assert.Equal("decrypt_error", sent[AlertDescriptionTag]);
    }

    [Fact]
    public void A_handshake_that_times_out_counts_as_failed_with_handshake_timeout()
    {
        using var client = new TestClient(_server, Exchange.DefaultClient);
        client.Start();
        // The ClientHello and its cookie go through, then the client goes silent: the server holds a half-open handshake.
        _server.Deliver(client.Address, client.Sender.TakeAll()[0].Datagram);
        client.Deliver(_server.Sender.TakeFor(client.Address)[0]);
        _server.Deliver(client.Address, client.Sender.TakeAll()[0].Datagram);
        Assert.Equal(1, _recorder.Observed(ActiveHandshakes));
        Assert.Equal(1, _recorder.Observed(ActiveSessions));

        _server.Advance(_server.Options.HandshakeTimeout + TimeSpan.FromSeconds(1));

        Assert.Equal("handshake_timeout", Assert.Single(_recorder.Of(FailedHandshakes))[ErrorTypeTag]);
        Assert.Equal(0, _recorder.Observed(ActiveHandshakes));
        Assert.Equal(0, _recorder.Observed(ActiveSessions));
    }

    [Fact]
    public void Active_sessions_go_up_with_a_handshake_and_down_with_close_notify_whose_alert_is_counted_received()
    {
        Assert.Equal(0, _recorder.Observed(ActiveSessions));
        using var client = Exchange.Handshake(_server);
        Assert.Equal(1, _recorder.Observed(ActiveSessions));
        Assert.Equal(0, _recorder.Observed(ActiveHandshakes));

        client.Engine.Close();
        Exchange.Pump(_server, client);

        Assert.Equal(0, _recorder.Observed(ActiveSessions));
        var received = Assert.Single(_recorder.Of(Alerts), a => Equals(a[DirectionTag], Receive));
        Assert.Equal("close_notify", received[AlertDescriptionTag]);
        Assert.Equal("warning", received[AlertLevelTag]);
    }

    [Fact]
    public void Datagrams_and_bytes_match_what_went_each_way()
    {
        long toServer = 0, toServerBytes = 0, toClient = 0, toClientBytes = 0;
        IEnumerable<byte[]> Count(byte[] datagram, bool inbound)
        {
            if (inbound)
            {
                toServer++;
                toServerBytes += datagram.Length;
            }
            else
            {
                toClient++;
                toClientBytes += datagram.Length;
            }
            return [datagram];
        }
        using var client = new TestClient(_server, Exchange.DefaultClient);
        client.Start();
        Exchange.Pump(_server, client, Count);
        client.Send("Message #1");
        Exchange.Pump(_server, client, Count);

        Assert.Equal(toServer, _recorder.Observed(Datagrams, DirectionTag, Receive));
        Assert.Equal(toServerBytes, _recorder.Observed(Bytes, DirectionTag, Receive));
        Assert.Equal(toClient, _recorder.Observed(Datagrams, DirectionTag, Transmit));
        Assert.Equal(toClientBytes, _recorder.Observed(Bytes, DirectionTag, Transmit));
        Assert.Equal(1, _recorder.Observed(DeliveredDatagrams));
    }

    [Fact]
    public void A_dropped_record_counts_under_its_reason()
    {
        var stranger = new IPEndPoint(IPAddress.Loopback, 40001).Serialize();
        // A ChangeCipherSpec record (type 20, DTLS 1.2, epoch 0, seq 0, length 1) from a peer with no state.
        _server.Deliver(stranger, [20, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
        // A datagram too short to hold a record header.
        _server.Deliver(stranger, [22, 254]);

        Assert.Equal(1, _recorder.Observed(DroppedRecords, DropReasonTag, "no_session"));
        Assert.Equal(1, _recorder.Observed(DroppedRecords, DropReasonTag, "malformed_record"));
        Assert.Equal(2, _recorder.Observe(DroppedRecords).Sum(r => r.Value));
    }

    [Fact]
    public void After_dispose_the_callbacks_report_nothing_and_the_own_meter_is_gone()
    {
        using var client = Exchange.Handshake(_server);
        Assert.Equal(1, _recorder.Observed(ActiveSessions));

        _metrics.Dispose();

        Assert.Empty(_recorder.Observe(ActiveSessions));
        Assert.Empty(_recorder.Observe(Datagrams));
        // Push instruments of a disposed meter are no longer enabled: a later handshake end records nothing.
        var before = _recorder.Of(Alerts).Count;
        client.Engine.Close();
        Exchange.Pump(_server, client);
        Assert.Equal(before, _recorder.Of(Alerts).Count);
    }

    [Fact]
    public void With_nobody_listening_no_push_instrument_is_enabled()
    {
        using var metrics = new ServerMetrics(meterFactory: null, s_serverEndPoint, _server.Time);
        var enabled = new List<string>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (instrument.Meter == metrics.Meter && instrument.Enabled)
                {
                    enabled.Add(instrument.Name);
                }
            },
        };
        listener.Start();

        Assert.Empty(enabled);
    }
}
