using System.Net;
using System.Text;
using HotDtls.Crypto;
using HotDtls.Records;
using HotDtls.Server;
using HotDtls.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Tests.Connection;

/// <summary>
/// Connection ID (RFC 9146) between the client and server engines: negotiation in both directions, tls12_cid records,
/// a session that follows its peer to a new address (NAT rebinding, §6) only on a newer authentic record, the bound on
/// what an unproven address receives and its lifting by a path_challenge answer (draft-ietf-tls-dtls-rrc), and what
/// replays, forgeries and strangers get.
/// </summary>
public sealed class ConnectionIdTests
{
    private static readonly IPEndPoint s_home = new(IPAddress.Loopback, 41000);
    private static readonly IPEndPoint s_moved = new(IPAddress.Parse("127.0.0.9"), 52000);

    private static TestClient Client(ServerHarness server, int? connectionIdLength, int seed = 7)
    {
        var options = TestClient.PlainPskOptions(server);
        options.ConnectionIdLength = connectionIdLength;
        return new TestClient(server, s_home, options, seed);
    }

    /// <summary>Delivers the client's queued datagrams as if they came from <paramref name="from"/>, and the server's to that address back.</summary>
    private static void PumpFrom(ServerHarness server, TestClient client, IPEndPoint from, bool deliverReplies = true)
    {
        var address = from.Serialize();
        for (var round = 0; round < 20; round++)
        {
            var toServer = client.Sender.TakeAll();
            var toClient = server.Sender.TakeFor(address);
            if (toServer.Count == 0 && (toClient.Count == 0 || !deliverReplies))
            {
                return;
            }
            foreach (var (datagram, _) in toServer)
            {
                server.Deliver(address, datagram);
            }
            if (deliverReplies)
            {
                foreach (var datagram in toClient)
                {
                    client.Deliver(datagram);
                }
            }
        }
    }

    private static TestClient Established(ServerHarness server, int? connectionIdLength)
    {
        var client = Client(server, connectionIdLength);
        client.Start();
        Exchange.Pump(server, client);
        Assert.True(client.Established, $"closed: {client.ClosedReason} {client.ClosedError}");
        return client;
    }

    [Fact]
    public void A_client_asking_for_no_CID_gets_the_servers_and_sends_tls12_cid_records_while_the_server_sends_plain_ones()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);

        Assert.True(client.Connection.ConnectionIdNegotiated);
        var issued = client.Connection.ServerConnectionId.ToArray();
        Assert.Equal(6, issued.Length);
        Assert.Equal(0, issued[0]); // node
        Assert.Equal(0, issued[1]); // loop
        Assert.Equal(1, server.Engine.ConnectionIdsInUse);

        Assert.True(client.Send("hello"));
        var (datagram, _) = Assert.Single(client.Sender.TakeAll());
        Assert.Equal((byte)ContentType.Tls12Cid, datagram[0]);
        Assert.Equal(issued, datagram.AsSpan(11, 6).ToArray());
        server.Deliver(client.Address, datagram);
        Assert.Equal("hello", Assert.Single(server.Handler.TextsFrom(s_home)));

        var reply = Assert.Single(server.Sender.TakeFor(client.Address));
        Assert.Equal((byte)ContentType.ApplicationData, reply[0]);
        client.Deliver(reply);
        Assert.Equal($"to {s_home}: ACK", Assert.Single(client.Received));
    }

    [Fact]
    public void A_client_issuing_its_own_CID_gets_it_in_every_protected_record_of_the_server()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 5);

        Assert.True(client.Send("hello"));
        Exchange.Pump(server, client);
        Assert.Equal($"to {s_home}: ACK", Assert.Single(client.Received));

        Assert.True(server.Handler.Established[0].TrySend("push"u8));
        var pushed = Assert.Single(server.Sender.TakeFor(client.Address));
        Assert.Equal((byte)ContentType.Tls12Cid, pushed[0]);
        Assert.Equal(client.Connection.OwnConnectionId.ToArray(), pushed.AsSpan(11, 5).ToArray());
        client.Deliver(pushed);
        Assert.Equal("push", client.Received[^1]);
    }

    [Theory]
    [MemberData(nameof(EverySuite))]
    public void Every_suite_protects_tls12_cid_records_both_ways(CipherSuite suite)
    {
        using var server = new ServerHarness();
        var options = TestClient.OptionsFor(server, suite);
        options.ConnectionIdLength = 3;
        using var client = new TestClient(server, s_home, options);
        client.Start();
        Exchange.Pump(server, client);
        Assert.True(client.Established, $"closed: {client.ClosedReason} {client.ClosedError}");

        foreach (var size in new[] { 0, 1, 15, 16, 1200, DtlsSession.MaxPlaintextLength })
        {
            var text = new string('c', size);
            Assert.True(client.Send(text));
            Exchange.Pump(server, client);
            Assert.Equal(text, server.Handler.TextsFrom(s_home).Last());
            Assert.Equal($"to {s_home}: ACK", client.Received.Last());
        }
    }

    public static TheoryData<CipherSuite> EverySuite()
    {
        var data = new TheoryData<CipherSuite>();
        foreach (var info in CipherSuiteInfo.All)
        {
            data.Add(info.Suite);
        }
        return data;
    }

    [Fact]
    public void A_client_that_does_not_offer_the_extension_gets_none_and_the_server_keeps_no_CID()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: null);

        Assert.False(client.Connection.ConnectionIdNegotiated);
        Assert.Equal(0, server.Engine.ConnectionIdsInUse);
        Assert.True(client.Send("plain"));
        var (datagram, _) = Assert.Single(client.Sender.TakeAll());
        Assert.Equal((byte)ContentType.ApplicationData, datagram[0]);
    }

    [Fact]
    public void A_server_configured_without_CID_ignores_the_extension()
    {
        using var server = new ServerHarness(o => o.ConnectionIdLength = null);
        using var client = Established(server, connectionIdLength: 4);

        Assert.False(client.Connection.ConnectionIdNegotiated);
        Assert.True(client.Send("x"));
        Exchange.Pump(server, client);
        Assert.Equal($"to {s_home}: ACK", Assert.Single(client.Received));
    }

    [Fact]
    public void A_server_issuing_empty_CIDs_still_puts_the_clients_CID_in_its_records()
    {
        using var server = new ServerHarness(o => o.ConnectionIdLength = 0);
        using var client = Established(server, connectionIdLength: 4);

        Assert.True(client.Connection.ConnectionIdNegotiated);
        Assert.Equal(0, client.Connection.ServerConnectionId.Length);
        Assert.True(client.Send("x"));
        var (datagram, _) = Assert.Single(client.Sender.TakeAll());
        Assert.Equal((byte)ContentType.ApplicationData, datagram[0]);
        server.Deliver(client.Address, datagram);
        var reply = Assert.Single(server.Sender.TakeFor(client.Address));
        Assert.Equal((byte)ContentType.Tls12Cid, reply[0]);
        client.Deliver(reply);
        Assert.Equal($"to {s_home}: ACK", Assert.Single(client.Received));
    }

    [Fact]
    public void The_node_byte_of_the_options_leads_every_issued_CID()
    {
        using var server = new ServerHarness(o =>
        {
            o.ConnectionIdNode = 0xA7;
            o.ConnectionIdLength = 10;
        });
        using var client = Established(server, connectionIdLength: 0);

        var issued = client.Connection.ServerConnectionId;
        Assert.Equal(10, issued.Length);
        Assert.Equal(0xA7, issued[0]);
    }

    [Fact]
    public void A_session_with_CID_follows_its_peer_to_a_new_address_and_the_answered_challenge_lifts_the_bound()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        var session = Assert.Single(server.Handler.Established);

        Assert.True(client.Send("after the NAT changed"));
        PumpFrom(server, client, s_moved);

        Assert.Equal("after the NAT changed", Assert.Single(server.Handler.TextsFrom(s_moved)));
        Assert.Equal(s_moved, session.RemoteEndPoint);
        var statistics = server.Statistics;
        Assert.Equal(1, statistics.PeerAddressChanges);
        Assert.Equal(1, statistics.PeerAddressesProven);
        Assert.True(session.Connection.PeerAddressProven);
        Assert.False(server.Engine.HasState(s_home.Serialize()));
        Assert.True(server.Engine.HasState(s_moved.Serialize()));

        // Proven: replies of any size go to the new address.
        Assert.True(client.Send("again"));
        PumpFrom(server, client, s_moved);
        Assert.Equal($"to {s_moved}: ACK", client.Received[^1]);
    }

    [Fact]
    public void A_session_without_CID_is_a_stranger_at_its_new_address()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: null);

        Assert.True(client.Send("after the NAT changed"));
        PumpFrom(server, client, s_moved);

        Assert.Empty(server.Handler.TextsFrom(s_moved));
        Assert.Equal(s_home, server.Handler.Established[0].RemoteEndPoint);
        Assert.Equal(0, server.Statistics.PeerAddressChanges);
    }

    [Fact]
    public void A_record_replayed_from_a_new_address_moves_nothing()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        var session = server.Handler.Established[0];
        Assert.True(client.Send("once"));
        var (datagram, _) = Assert.Single(client.Sender.TakeAll());
        server.Deliver(client.Address, datagram);
        server.Sender.TakeAll();

        server.Deliver(s_moved.Serialize(), datagram);

        Assert.Equal(s_home, session.RemoteEndPoint);
        Assert.Single(server.Handler.Datagrams);
        Assert.Equal(0, server.Statistics.PeerAddressChanges);
        Assert.Empty(server.Sender.TakeFor(s_moved.Serialize()));
    }

    [Fact]
    public void An_older_authentic_record_from_a_new_address_is_delivered_but_moves_nothing()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        var session = server.Handler.Established[0];
        Assert.True(client.Send("first"));
        Assert.True(client.Send("second"));
        var sent = client.Sender.TakeAll();
        server.Deliver(client.Address, sent[1].Datagram);

        server.Deliver(s_moved.Serialize(), sent[0].Datagram);

        Assert.Equal(["second", "first"], server.Handler.Datagrams.Select(d => Encoding.UTF8.GetString(d.Plaintext)));
        Assert.Equal(s_home, session.RemoteEndPoint);
        Assert.Equal(0, server.Statistics.PeerAddressChanges);
    }

    [Fact]
    public void A_CID_record_with_a_bad_tag_from_a_strangers_address_moves_nothing_and_is_answered_by_nothing()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        var session = server.Handler.Established[0];
        Assert.True(client.Send("genuine"));
        var (datagram, _) = Assert.Single(client.Sender.TakeAll());
        datagram[^1] ^= 0x01;

        server.Deliver(s_moved.Serialize(), datagram);

        Assert.Equal(s_home, session.RemoteEndPoint);
        Assert.Empty(server.Handler.Datagrams);
        Assert.Equal(0, server.Sender.Count);
        Assert.True(session.IsEstablished);
    }

    [Fact]
    public void A_CID_that_was_never_issued_is_dropped_silently_and_counted()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        Assert.True(client.Send("genuine"));
        var (datagram, _) = Assert.Single(client.Sender.TakeAll());
        datagram[15] ^= 0xFF; // the last byte of the 6-byte CID

        server.Deliver(s_moved.Serialize(), datagram);
        server.Deliver(client.Address, datagram);

        Assert.Equal(2, server.Statistics.UnknownConnectionIdRecords);
        Assert.Empty(server.Handler.Datagrams);
        Assert.Equal(0, server.Sender.Count);
    }

    [Fact]
    public void A_protected_record_without_the_CID_the_session_expects_is_dropped()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        var connection = server.Handler.Established[0].Connection;
        // A genuine record sealed without the CID (what a peer that ignored the negotiation would send).
        var scratch = new byte[256];
        var payload = "no cid"u8;
        client.Connection.Records.SetConnectionIds([], 0);
        var offset = client.Connection.Records.PayloadOffset(1);
        payload.CopyTo(scratch.AsSpan(offset));
        var length = client.Connection.Records.Write(ContentType.ApplicationData, 1, scratch.AsSpan(offset, payload.Length), scratch);

        server.Deliver(client.Address, scratch.AsSpan(0, length));

        Assert.Empty(server.Handler.Datagrams);
        Assert.True(connection.IsEstablished);
    }

    [Fact]
    public void An_unproven_address_that_never_answers_receives_no_more_bytes_than_it_sent()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        var moved = s_moved.Serialize();
        long received = 0;

        for (var i = 0; i < 20; i++)
        {
            // Short datagrams, long answers: the ACK names the peer, so each reply is longer than what provoked it.
            Assert.True(client.Send(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            foreach (var (datagram, _) in client.Sender.TakeAll())
            {
                received += datagram.Length;
                server.Deliver(moved, datagram);
            }
            server.Advance(TimeSpan.FromMilliseconds(600));
        }

        long sent = 0;
        foreach (var datagram in server.Sender.TakeFor(moved))
        {
            sent += datagram.Length;
        }
        Assert.Equal(20, server.Handler.TextsFrom(s_moved).Count());
        Assert.InRange(sent, 1, received);
        Assert.False(server.Handler.Established[0].Connection.PeerAddressProven);
        Assert.True(server.Statistics.DatagramsWithheld > 0);
        Assert.Equal(0, server.Statistics.PeerAddressesProven);
    }

    [Fact]
    public void A_path_response_from_another_address_proves_nothing()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        var moved = s_moved.Serialize();
        Assert.True(client.Send("moving"));
        server.Deliver(moved, client.Sender.TakeAll()[0].Datagram);
        var challenge = server.Sender.TakeFor(moved);
        Assert.NotEmpty(challenge);

        // The client answers, but the answer arrives from a third address (an attacker relaying it).
        client.Deliver(challenge[0]);
        var third = new IPEndPoint(IPAddress.Parse("127.0.0.77"), 9).Serialize();
        foreach (var (datagram, _) in client.Sender.TakeAll())
        {
            server.Deliver(third, datagram);
        }

        // The response is authentic and newer, so the session moves to the third address — but that address has not
        // answered a challenge sent to it: it is not proven either.
        Assert.Equal(0, server.Statistics.PeerAddressesProven);
        Assert.False(server.Handler.Established[0].Connection.PeerAddressProven);
    }

    [Fact]
    public void A_closed_session_gives_its_CID_back()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 0);
        Assert.Equal(1, server.Engine.ConnectionIdsInUse);

        server.Handler.Established[0].Close();

        Assert.Equal(0, server.Engine.ConnectionIdsInUse);
    }

    [Fact]
    public void A_CID_record_that_reaches_another_loop_is_handed_to_the_loop_that_issued_it()
    {
        var handler = new RecordingHandler();
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskStore = PskStore.Single(ServerHarness.Key),
            TimeProvider = time,
            ReceiveLoops = 2,
        };
        options.ValidateServer();
        var sender0 = new CapturingSender();
        var sender1 = new CapturingSender();
        using var loop0 = new ServerEngine(options, handler, sender0, NullLogger.Instance, new SeededRandom(1), shareOf: 2, loopIndex: 0);
        using var loop1 = new ServerEngine(options, handler, sender1, NullLogger.Instance, new SeededRandom(2), shareOf: 2, loopIndex: 1);
        ServerEngine[] engines = [loop0, loop1];
        loop0.Siblings = engines;
        loop1.Siblings = engines;
        using var harness = new ServerHarness();
        var clientOptions = TestClient.PlainPskOptions(harness);
        clientOptions.ConnectionIdLength = 0;
        clientOptions.TimeProvider = time;
        using var client = new TestClient(harness, s_home, clientOptions);
        var home = s_home.Serialize();

        // The handshake runs on loop 1 (the kernel hashed the first address there).
        client.Start();
        for (var round = 0; round < 10; round++)
        {
            foreach (var (datagram, _) in client.Sender.TakeAll())
            {
                loop1.ProcessDatagram(home, datagram);
            }
            foreach (var datagram in sender1.TakeFor(home))
            {
                client.Deliver(datagram);
            }
        }
        Assert.True(client.Established);
        Assert.Equal(1, client.Connection.ServerConnectionId[1]);

        // After the move, the kernel hashes the new address to loop 0.
        Assert.True(client.Send("moved"));
        loop0.ProcessDatagram(s_moved.Serialize(), client.Sender.TakeAll()[0].Datagram);

        Assert.Equal(1, loop0.DatagramsHandedOff);
        Assert.Equal("moved", Encoding.UTF8.GetString(Assert.Single(handler.Datagrams).Plaintext));
        Assert.Equal(s_moved, handler.Datagrams[0].Session.RemoteEndPoint);
        Assert.Equal(1, loop1.GetStatistics().PeerAddressChanges);
        Assert.NotEmpty(sender1.TakeFor(s_moved.Serialize()));
    }

    [Fact]
    public void A_client_drops_a_record_carrying_a_CID_it_did_not_issue()
    {
        using var server = new ServerHarness();
        using var client = Established(server, connectionIdLength: 4);
        Assert.True(server.Handler.Established[0].TrySend("for you"u8));
        var datagram = Assert.Single(server.Sender.TakeFor(client.Address));
        Assert.Equal((byte)ContentType.Tls12Cid, datagram[0]);
        datagram[11] ^= 0x80;
        var dropped = client.Dropped;

        client.Deliver(datagram);

        Assert.Empty(client.Received);
        Assert.Equal(dropped + 1, client.Dropped);
        Assert.True(client.Established);
    }

    [Fact]
    public void A_path_challenge_in_a_session_that_did_not_negotiate_rrc_is_dropped_unanswered()
    {
        using var server = new ServerHarness(o => o.ConnectionIdLength = null);
        using var client = Established(server, connectionIdLength: null);
        var connection = server.Handler.Established[0].Connection;

        Assert.False(client.Connection.ReturnRoutabilityCheckNegotiated);
        // A server that sends one anyway (HotDtls's never does without rrc): the client must not answer.
        Assert.True(connection.SendReturnRoutabilityCheck(ReturnRoutabilityCheckType.PathChallenge, 42));
        foreach (var datagram in server.Sender.TakeFor(client.Address))
        {
            client.Deliver(datagram);
        }

        Assert.Equal(0, client.Sender.Count);
        Assert.True(client.Dropped > 0);
    }

    [Fact]
    public void A_moving_session_never_takes_an_address_another_peer_holds()
    {
        using var server = new ServerHarness();
        using var first = Established(server, connectionIdLength: 0);
        var optionsB = TestClient.PlainPskOptions(server);
        optionsB.ConnectionIdLength = 0;
        using var second = new TestClient(server, s_moved, optionsB, seed: 8);
        second.Start();
        Exchange.Pump(server, second);
        Assert.True(second.Established);
        var sessionA = server.Handler.Established[0];
        var sessionB = server.Handler.Established[1];

        // The first client's record arrives from the second client's address (a NAT reusing a port, or an attacker).
        Assert.True(first.Send("from the other's address"));
        server.Deliver(s_moved.Serialize(), first.Sender.TakeAll()[0].Datagram);

        Assert.Equal(s_home, sessionA.RemoteEndPoint);
        Assert.Equal(s_moved, sessionB.RemoteEndPoint);
        Assert.True(sessionB.IsEstablished);
        Assert.Equal(1, server.Statistics.PeerAddressChangesRefused);
        Assert.Equal(0, server.Statistics.PeerAddressChanges);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_abbreviated_handshake_negotiates_a_new_CID_and_the_resumed_session_can_move(bool tickets)
    {
        using var server = new ServerHarness(o =>
        {
            o.EnableSessionResumption = true;
            o.EnableSessionTickets = tickets;
        });
        var first = TestClient.PlainPskOptions(server);
        first.ConnectionIdLength = 0;
        first.UseSessionTickets = tickets;
        DtlsSavedSession saved;
        byte[] firstCid;
        using (var client = new TestClient(server, s_home, first))
        {
            client.Start();
            Exchange.Pump(server, client);
            Assert.True(client.Established);
            saved = Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
            firstCid = client.Connection.ServerConnectionId.ToArray();
        }
        using var _ = saved;
        var second = TestClient.PlainPskOptions(server);
        second.ConnectionIdLength = 0;
        second.UseSessionTickets = tickets;
        second.Session = saved;
        var elsewhere = new IPEndPoint(IPAddress.Loopback, 41001);
        using var resumed = new TestClient(server, elsewhere, second, seed: 9);

        resumed.Start();
        Exchange.Pump(server, resumed);

        Assert.True(resumed.Established);
        Assert.True(resumed.Engine.IsResumed);
        Assert.True(resumed.Connection.ConnectionIdNegotiated);
        Assert.Equal(6, resumed.Connection.ServerConnectionId.Length);
        Assert.NotEqual(firstCid, resumed.Connection.ServerConnectionId.ToArray());
        var session = server.Handler.Established[^1];
        Assert.True(session.IsResumed);
        Assert.True(session.UsesConnectionId);

        Assert.True(resumed.Send("resumed, then moved"));
        PumpFrom(server, resumed, s_moved);
        Assert.Equal(s_moved, session.RemoteEndPoint);
        // The challenge went first and was answered: the new address is proven, and answers flow again.
        Assert.True(session.Connection.PeerAddressProven);
        Assert.True(resumed.Send("and again"));
        PumpFrom(server, resumed, s_moved);
        Assert.Equal($"to {s_moved}: ACK", resumed.Received[^1]);
    }
}
