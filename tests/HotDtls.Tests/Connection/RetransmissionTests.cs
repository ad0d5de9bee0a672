using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Connection;

/// <summary>
/// The RFC 6347 §4.2.4 timer on the fake clock: a flight is sent again when the timer expires, the timeout
/// doubles up to MaxRetransmitTimeout, nothing is sent after HandshakeTimeout, a last flight is repeated only
/// when the peer repeats its own, and the stateless HelloVerifyRequest is never repeated.
/// </summary>
public sealed class RetransmissionTests
{
    private static readonly TimeSpan s_tick = TimeSpan.FromMilliseconds(50);

    [Fact]
    public void Server_flight_4_doubles_from_one_second_and_stops_at_the_handshake_timeout()
    {
        using var server = new ServerHarness();
        using var client = StartAndLoseFlight4(server);

        var times = ServerSendTimes(server, client, TimeSpan.FromSeconds(120));

        // Defaults: 1 s doubling, 60 s cap, 30 s deadline: 1, 1+2, 3+4, 7+8; the next (31 s) is past the deadline.
        Assert.Equal([1000, 3000, 7000, 15000], times);
        AssertTimedOutOnServer(server);
    }

    [Theory]
    [InlineData(1000, 4000, 30000, new long[] { 1000, 3000, 7000, 11000, 15000, 19000, 23000, 27000 })]
    [InlineData(200, 1000, 5000, new long[] { 200, 600, 1400, 2400, 3400, 4400 })]
    [InlineData(500, 500, 2600, new long[] { 500, 1000, 1500, 2000, 2500 })]
    public void Server_flight_4_timeout_is_capped_by_MaxRetransmitTimeout(int initialMs, int maxMs, int handshakeMs, long[] expected)
    {
        using var server = new ServerHarness(options =>
        {
            options.InitialRetransmitTimeout = TimeSpan.FromMilliseconds(initialMs);
            options.MaxRetransmitTimeout = TimeSpan.FromMilliseconds(maxMs);
            options.HandshakeTimeout = TimeSpan.FromMilliseconds(handshakeMs);
        });
        using var client = StartAndLoseFlight4(server);

        var times = ServerSendTimes(server, client, TimeSpan.FromMilliseconds(handshakeMs * 4));

        Assert.Equal(expected, times);
        AssertTimedOutOnServer(server);
    }

    [Fact]
    public void Server_flight_4_retransmission_repeats_the_messages_under_fresh_record_numbers()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        client.Start();
        var flights = new List<byte[]>();
        Exchange.Pump(server, client, (datagram, toServer) =>
        {
            if (!toServer && Contains(datagram, HandshakeType.ServerHello))
            {
                flights.Add(datagram);
                return [];
            }
            return [datagram];
        });
        server.Advance(TimeSpan.FromSeconds(1));
        flights.AddRange(server.Sender.TakeFor(client.Address));
        server.Advance(TimeSpan.FromSeconds(2));
        flights.AddRange(server.Sender.TakeFor(client.Address));

        Assert.Equal(3, flights.Count);
        var previousHighest = -1L;
        foreach (var flight in flights)
        {
            var records = Wire.Records(flight);
            Assert.Equal(
                [HandshakeType.ServerHello, HandshakeType.ServerKeyExchange, HandshakeType.ServerHelloDone],
                records.Select(r => (HandshakeType)r.Body[0]));
            Assert.Equal([1, 2, 3], records.Select(r => (int)MessageSeq(r.Body)));
            // RFC 6347 §4.2.4 / §4.1: a retransmission is a new record with a new sequence number.
            Assert.True((long)records[0].Header.SequenceNumber > previousHighest);
            previousHighest = (long)records[^1].Header.SequenceNumber;
        }
        // The messages themselves (same ServerHello random, same hint) are repeated byte for byte.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(Wire.Records(flights[0])[i].Body, Wire.Records(flights[2])[i].Body);
        }
    }

    [Fact]
    public void Client_flight_5_doubles_and_stops_at_the_handshake_timeout()
    {
        using var server = new ServerHarness();
        var options = new DtlsClientOptions
        {
            PskIdentity = "Qt DTLS example client",
            PskKey = ServerHarness.Key,
            TimeProvider = server.Time,
            InitialRetransmitTimeout = TimeSpan.FromMilliseconds(300),
            MaxRetransmitTimeout = TimeSpan.FromMilliseconds(2000),
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        };
        using var client = new TestClient(server, Exchange.DefaultClient, options);
        client.Start();
        Exchange.Pump(server, client, (datagram, toServer) => toServer && IsFlight5(datagram) ? [] : [datagram]);
        Assert.Equal(HandshakeState.ClientExpectChangeCipherSpec, client.Connection.State);

        var times = new List<long>();
        var flights = new List<byte[]>();
        for (var elapsed = 0L; elapsed < 40_000; elapsed += (long)s_tick.TotalMilliseconds)
        {
            server.Time.Advance(s_tick);
            client.Tick();
            foreach (var (datagram, _) in client.Sender.TakeAll())
            {
                times.Add(elapsed + (long)s_tick.TotalMilliseconds);
                flights.Add(datagram);
            }
        }

        // 0.3, +0.6, +1.2, +2 (cap), +2 … while before the 10 s deadline.
        Assert.Equal([300, 900, 2100, 4100, 6100, 8100], times);
        Assert.All(flights, IsFlight5AndTrue);
        Assert.Equal(DtlsCloseReason.HandshakeTimeout, client.ClosedReason);
        Assert.False(client.Connection.HasRetransmitTimer);
        Assert.Equal(long.MaxValue, client.Connection.NextTimerMs);
    }

    [Fact]
    public void Client_flight_1_is_retransmitted_until_a_hello_verify_request_arrives()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        client.Start();
        Assert.Single(client.Sender.TakeAll());

        server.Time.Advance(TimeSpan.FromMilliseconds(999));
        client.Tick();
        Assert.Equal(0, client.Sender.Count);
        server.Time.Advance(TimeSpan.FromMilliseconds(1));
        client.Tick();
        var retransmitted = client.Sender.TakeAll();
        Assert.Single(retransmitted);

        // The server answers the retransmission; the handshake goes on as usual.
        server.Deliver(client.Address, retransmitted[0].Datagram);
        Exchange.Pump(server, client);
        Assert.True(client.Established);
    }

    [Fact]
    public void Established_server_drops_its_handshake_state_and_still_answers_flight_5_after_its_ciphers_are_parked()
    {
        // Checks at 5 s (used during the handshake) and 10 s (idle since): parked before the client's 15 s retry.
        using var server = new ServerHarness(options => options.ReleaseIdleCiphersAfter = TimeSpan.FromSeconds(5));
        using var client = new TestClient(server, Exchange.DefaultClient);
        client.Start();
        Exchange.Pump(server, client, (datagram, toServer) => !toServer && IsFlight6(datagram) ? [] : [datagram]);
        var connection = Assert.Single(server.Handler.Established).Connection;
        // Established: reassembler, transcript, flight, server random and master secret are gone.
        Assert.True(connection.HandshakeStateReleased);
        Assert.Throws<InvalidOperationException>(() => connection.Reassembler);

        // The client's flight 5 timer fires at 1, 3, 7 and 15 s; by 15 s the server's idle ciphers were released.
        var elapsed = 0L;
        List<(byte[] Datagram, System.Net.SocketAddress Peer)> retransmission = [];
        while (elapsed < 15_000)
        {
            server.Advance(s_tick);
            elapsed += (long)s_tick.TotalMilliseconds;
            client.Tick();
            retransmission = client.Sender.TakeAll();
        }
        Assert.True(server.Statistics.CiphersReleased >= 2);
        Assert.True(IsFlight5(Assert.Single(retransmission).Datagram));

        server.Deliver(client.Address, retransmission[0].Datagram);
        var answer = Assert.Single(server.Sender.TakeFor(client.Address));
        Assert.True(IsFlight6(answer));
        client.Deliver(answer);

        Assert.True(client.Established);
        Assert.True(client.Send("after parking"));
        Exchange.Pump(server, client);
        Assert.Equal("after parking", System.Text.Encoding.UTF8.GetString(Assert.Single(server.Handler.Datagrams).Plaintext));
    }

    [Fact]
    public void Server_resends_flight_6_once_per_client_retransmission_of_flight_5()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        client.Start();
        Exchange.Pump(server, client, (datagram, toServer) => !toServer && IsFlight6(datagram) ? [] : [datagram]);
        Assert.Single(server.Handler.Established);
        Assert.False(client.Established);

        var expectedAt = new[] { 1000, 3000, 7000 };
        var elapsed = 0L;
        foreach (var at in expectedAt)
        {
            while (elapsed < at)
            {
                server.Time.Advance(s_tick);
                elapsed += (long)s_tick.TotalMilliseconds;
                client.Tick();
            }
            var retransmission = client.Sender.TakeAll();
            Assert.Single(retransmission);
            Assert.True(IsFlight5(retransmission[0].Datagram));

            server.Deliver(client.Address, retransmission[0].Datagram);
            var answers = server.Sender.TakeFor(client.Address);
            Assert.Single(answers);
            Assert.True(IsFlight6(answers[0]));

            // The same bytes again are a network duplicate, not a retransmission: the replay window drops them
            // and the server stays silent.
            server.Deliver(client.Address, retransmission[0].Datagram);
            Assert.Empty(server.Sender.TakeFor(client.Address));
        }

        // The last flight 6 is let through: the client completes, the session is the one the server holds.
        server.Time.Advance(TimeSpan.FromSeconds(8));
        client.Tick();
        var last = client.Sender.TakeAll();
        Assert.Single(last);
        server.Deliver(client.Address, last[0].Datagram);
        foreach (var answer in server.Sender.TakeFor(client.Address))
        {
            client.Deliver(answer);
        }
        Assert.True(client.Established);
        Assert.Single(server.Handler.Established);
        Assert.Equal(1, server.Statistics.Sessions);
        Assert.True(client.Send("after retransmissions"));
        Exchange.Pump(server, client);
        Assert.Equal(["after retransmissions"], server.Handler.TextsFrom(client.EndPoint));
    }

    [Fact]
    public void Hello_verify_request_is_never_retransmitted()
    {
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[5] = 5;
        var hello = Wire.ClientHelloDatagram(random, []);

        server.Deliver(from, hello);
        var first = server.Sender.TakeAll();
        Assert.Single(first);
        Assert.NotNull(Wire.CookieOf(first[0].Datagram));

        for (var i = 0; i < 10; i++)
        {
            server.Advance(TimeSpan.FromSeconds(13));
            Assert.Equal(0, server.Sender.Count);
        }
        var stats = server.Statistics;
        Assert.Equal(1, stats.HelloVerifyRequestsSent);
        Assert.Equal(0, stats.Sessions);
        Assert.Equal(0, stats.HandshakesInProgress);

        // Stateless: only a new ClientHello gets a new HelloVerifyRequest.
        server.Deliver(from, hello);
        Assert.Single(server.Sender.TakeAll());
        Assert.Equal(2, server.Statistics.HelloVerifyRequestsSent);
    }

    [Fact]
    public void Server_stops_retransmitting_flight_4_once_flight_5_arrives()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        client.Start();
        // Flight 5 gets through but flight 6 does not: the server is established, flight 4's timer is gone, and
        // flight 6, the server's last flight, has no timer of its own (RFC 6347 §4.2.4).
        Exchange.Pump(server, client, (datagram, toServer) => !toServer && IsFlight6(datagram) ? [] : [datagram]);
        Assert.Single(server.Handler.Established);

        server.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal(0, server.Sender.Count);
        Assert.Empty(server.Handler.Closed);
    }

    [Fact]
    public void Only_a_repeat_of_the_peer_flight_end_triggers_a_resend()
    {
        // The server recognises a retransmitted flight 3 by its last message, the ClientHello (message_seq 1).
        // Any other old-numbered message is stale noise (HOSTILE 17): it must not make the server repeat flight 4,
        // or a 25-byte spoofed record would buy a whole flight towards the victim address.
        using var server = new ServerHarness();
        using var client = StartAndLoseFlight4(server);

        var sequence = 50UL;
        foreach (var type in new[] { HandshakeType.ServerHello, HandshakeType.ClientKeyExchange, HandshakeType.HelloRequest })
        {
            server.Deliver(client.Address, Wire.Record(ContentType.Handshake, 0, sequence++,
                Wire.HandshakeFragment(type, 1, 0, 0, [])));
            Assert.Equal(0, server.Sender.Count);
        }
        Assert.Empty(server.Handler.Closed);
    }

    /// <summary>Runs flights 1–3 and drops the server's flight 4 (and everything after it) on the way to the client.</summary>
    private static TestClient StartAndLoseFlight4(ServerHarness server)
    {
        var client = new TestClient(server, Exchange.DefaultClient);
        client.Start();
        Exchange.Pump(server, client, (datagram, toServer) => !toServer && Contains(datagram, HandshakeType.ServerHello) ? [] : [datagram]);
        Assert.Equal(1, server.Statistics.HandshakesInProgress);
        Assert.Equal(0, server.Sender.Count);
        return client;
    }

    /// <summary>Advances the server's clock tick by tick; returns when (ms after now) datagrams went to the client.</summary>
    private static List<long> ServerSendTimes(ServerHarness server, TestClient client, TimeSpan until)
    {
        var times = new List<long>();
        for (var elapsed = 0L; elapsed < (long)until.TotalMilliseconds;)
        {
            server.Advance(s_tick);
            elapsed += (long)s_tick.TotalMilliseconds;
            var sent = server.Sender.TakeFor(client.Address);
            foreach (var datagram in sent)
            {
                Assert.True(Contains(datagram, HandshakeType.ServerHello));
                times.Add(elapsed);
            }
        }
        return times;
    }

    private static void AssertTimedOutOnServer(ServerHarness server)
    {
        var closed = Assert.Single(server.Handler.Closed);
        Assert.Equal(DtlsCloseReason.HandshakeTimeout, closed.Reason);
        var stats = server.Statistics;
        Assert.Equal(0, stats.Sessions);
        Assert.Equal(0, stats.HandshakesInProgress);
        Assert.Equal(1, stats.HandshakesFailed);
        Assert.Empty(server.Handler.Established);
    }

    private static bool Contains(byte[] datagram, HandshakeType type)
    {
        foreach (var (header, body) in Wire.Records(datagram))
        {
            if (header.Type == ContentType.Handshake && header.Epoch == 0 && body.Length > 0 && body[0] == (byte)type)
            {
                return true;
            }
        }
        return false;
    }

    private static ushort MessageSeq(byte[] handshake)
    {
        Assert.True(HandshakeHeader.TryRead(handshake, out var header));
        return header.MessageSeq;
    }

    /// <summary>ClientKeyExchange, ChangeCipherSpec, then a record in epoch 1 (Finished).</summary>
    private static bool IsFlight5(byte[] datagram)
    {
        var records = Wire.Records(datagram);
        return records.Count == 3 && Contains(datagram, HandshakeType.ClientKeyExchange)
            && records[1].Header.Type == ContentType.ChangeCipherSpec
            && records[2].Header is { Type: ContentType.Handshake, Epoch: 1 };
    }

    private static void IsFlight5AndTrue(byte[] datagram) => Assert.True(IsFlight5(datagram));

    /// <summary>ChangeCipherSpec, then a record in epoch 1 (Finished).</summary>
    private static bool IsFlight6(byte[] datagram)
    {
        var records = Wire.Records(datagram);
        return records.Count == 2 && records[0].Header.Type == ContentType.ChangeCipherSpec
            && records[1].Header is { Type: ContentType.Handshake, Epoch: 1 };
    }
}
