using System.Net;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Hostile;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Connection;

/// <summary>
/// RFC 5077 session tickets end to end, both roles in memory: the NewSessionTicket in the server's last flight and in
/// the abbreviated one, resumption from a ticket with no server memory, keys shared between servers, and every
/// hostile ticket (expired, tampered, truncated, foreign) falling back to a full handshake — after the cookie only.
/// </summary>
public sealed class SessionTicketTests
{
    private static readonly IPEndPoint s_first = new(IPAddress.Loopback, 42000);
    private static readonly IPEndPoint s_second = new(IPAddress.Loopback, 42001);
    private static readonly byte[] s_keyA = Enumerable.Range(0, 48).Select(i => (byte)i).ToArray();
    private static readonly byte[] s_keyB = Enumerable.Range(100, 48).Select(i => (byte)i).ToArray();

    private static ServerHarness TicketServer(Action<DtlsServerOptions>? configure = null, int seed = 1) => new(o =>
    {
        o.EnableSessionTickets = true;
        configure?.Invoke(o);
    }, seed);

    private static DtlsSavedSession FullHandshake(ServerHarness server)
    {
        using var client = new TestClient(server, s_first);
        client.Start();
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        return Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
    }

    private static TestClient Resume(ServerHarness server, DtlsSavedSession saved, int seed = 8)
    {
        var options = TestClient.PlainPskOptions(server);
        options.Session = saved;
        var client = new TestClient(server, s_second, options, seed);
        client.Start();
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        return client;
    }

    /// <summary>The same session with its ticket replaced (to hand the server a hostile one).</summary>
    private static DtlsSavedSession WithTicket(DtlsSavedSession saved, byte[] ticket)
    {
        var secret = new byte[48];
        Assert.True(saved.TryCopyMasterSecret(secret));
        return new DtlsSavedSession([], saved.CipherSuite, saved.UsesExtendedMasterSecret, secret, "Qt DTLS example client"u8, ticket);
    }

    private static List<(ContentType Type, ushort Epoch, HandshakeType? Message)> Shape(IEnumerable<byte[]> datagrams)
    {
        var shape = new List<(ContentType, ushort, HandshakeType?)>();
        foreach (var datagram in datagrams)
        {
            foreach (var (header, body) in Wire.Records(datagram))
            {
                shape.Add((header.Type, header.Epoch, header.Type == ContentType.Handshake && header.Epoch == 0 ? (HandshakeType)body[0] : null));
            }
        }
        return shape;
    }

    [Fact]
    public void A_full_handshake_ends_with_a_ticket_and_keeps_nothing_in_the_cache()
    {
        using var server = TicketServer(o => o.EnableSessionResumption = true);
        using var client = new TestClient(server, s_first);
        var flight5 = FlightSteps.ToFlight5(server, client);
        FlightSteps.Deliver(server, client, flight5);

        var flight6 = server.Sender.TakeFor(client.Address);
        Assert.Equal([(ContentType.Handshake, (ushort)0, HandshakeType.NewSessionTicket), (ContentType.ChangeCipherSpec, (ushort)0, null),
            (ContentType.Handshake, (ushort)1, null)], Shape(flight6));
        var body = Wire.Records(flight6[0])[0].Body[HandshakeHeader.Size..];
        Assert.True(NewSessionTicket.TryParse(body, out var hint, out var ticket));
        Assert.Equal(3600u, hint);
        Assert.Equal(SessionTicketLength("Qt DTLS example client"u8.Length), ticket.Length);
        flight6.ForEach(client.Deliver);
        Assert.True(client.Established);
        Assert.Equal(0, server.Engine.SessionCache!.Count);
        using var saved = Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
        Assert.True(saved.HasTicket);
        Assert.True(saved.SessionId.IsEmpty);
    }

    private static int SessionTicketLength(int identityLength) => HotDtls.Crypto.SessionTicketProtector.GetTicketLength(identityLength);

    [Fact]
    public void A_ticket_resumes_with_a_fresh_ticket_in_the_abbreviated_flight()
    {
        using var server = TicketServer();
        using var saved = FullHandshake(server);
        var options = TestClient.PlainPskOptions(server);
        options.Session = saved;
        using var client = new TestClient(server, s_second, options, seed: 8);
        client.Start();
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        FlightSteps.DeliverToClient(server, client);
        var flight3 = FlightSteps.Take(client);
        var hello = Wire.Records(flight3[0])[0].Body[HandshakeHeader.Size..];
        Assert.True(ClientHello.TryParse(hello, out var parsed));
        Assert.Equal(saved.Ticket.ToArray(), parsed.SessionTicket.ToArray());
        // RFC 5077 §3.4: a session_id of the client's own, to see the server accept the ticket.
        Assert.Equal(32, parsed.SessionId.Length);
        var offeredId = parsed.SessionId.ToArray();

        FlightSteps.Deliver(server, client, flight3);
        var flight4 = server.Sender.TakeFor(client.Address);

        Assert.Equal([(ContentType.Handshake, (ushort)0, HandshakeType.ServerHello), (ContentType.Handshake, (ushort)0, HandshakeType.NewSessionTicket),
            (ContentType.ChangeCipherSpec, (ushort)0, null), (ContentType.Handshake, (ushort)1, null)], Shape(flight4));
        Assert.True(ServerHello.TryParse(Wire.Records(flight4[0])[0].Body[HandshakeHeader.Size..], out var serverHello));
        Assert.Equal(offeredId, serverHello.SessionId.ToArray());
        Assert.True(serverHello.HasSessionTicket);
        flight4.ForEach(client.Deliver);
        Exchange.Pump(server, client);
        Assert.True(client.Engine.IsResumed);
        Assert.True(FlightSteps.ServerSide(server, s_second).IsResumed);
        using var renewed = Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
        Assert.True(renewed.HasTicket);
        Assert.NotEqual(saved.Ticket.ToArray(), renewed.Ticket.ToArray());
        FlightSteps.AssertEcho(server, client, "ticket");
    }

    [Fact]
    public void Servers_sharing_a_key_set_accept_each_others_tickets()
    {
        using var sealer = TicketServer(o => o.SessionTicketKeys.Add(s_keyA));
        // The other server seals with its own new key but still opens A's tickets.
        using var opener = TicketServer(o => { o.SessionTicketKeys.Add(s_keyB); o.SessionTicketKeys.Add(s_keyA); }, seed: 2);
        using var saved = FullHandshake(sealer);

        using var client = Resume(opener, saved);

        Assert.True(client.Engine.IsResumed);
    }

    public static TheoryData<string> HostileTickets() => ["foreign key", "flipped byte", "truncated", "empty-looking", "expired", "garbage"];

    [Theory]
    [MemberData(nameof(HostileTickets))]
    public void A_hostile_or_stale_ticket_gets_a_full_handshake_never_an_error(string kind)
    {
        using var server = TicketServer(o => o.SessionTicketKeys.Add(s_keyA));
        using var saved = FullHandshake(server);
        var ticket = saved.Ticket.ToArray();
        DtlsSavedSession presented;
        switch (kind)
        {
            case "foreign key":
                using (var other = TicketServer(o => o.SessionTicketKeys.Add(s_keyB), seed: 3))
                using (var foreign = FullHandshake(other))
                {
                    presented = WithTicket(saved, foreign.Ticket.ToArray());
                }
                break;
            case "flipped byte":
                ticket[40] ^= 1;
                presented = WithTicket(saved, ticket);
                break;
            case "truncated":
                presented = WithTicket(saved, ticket[..^1]);
                break;
            case "empty-looking":
                presented = WithTicket(saved, ticket[..20]);
                break;
            case "expired":
                server.Time.Advance(server.Options.SessionLifetime);
                presented = WithTicket(saved, ticket);
                break;
            default:
                presented = WithTicket(saved, TestBytes.Filled(ticket.Length, 0xEE));
                break;
        }
        var attempts = server.Engine.Tickets!.OpenAttempts;

        using (presented)
        using (var client = Resume(server, presented))
        {
            Assert.False(client.Engine.IsResumed);
            Assert.Equal(attempts + 1, server.Engine.Tickets.OpenAttempts);
            // The full handshake brings a new, good ticket.
            using var fresh = Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
            Assert.True(fresh.HasTicket);
        }
    }

    [Fact]
    public void A_flood_of_hellos_with_junk_tickets_and_no_valid_cookie_opens_nothing()
    {
        using var server = TicketServer();
        var peer = s_second.Serialize();
        for (var i = 0; i < 200; i++)
        {
            var random = TestBytes.RandomBytes(i);
            var cookie = i % 2 == 0 ? [] : TestBytes.RandomBytes(1000 + i);
            var body = HelloWithTicket(random, cookie, TestBytes.Filled(120, (byte)i));
            server.Deliver(peer, Wire.Record(ContentType.Handshake, 0, (ulong)i, Wire.Handshake(HandshakeType.ClientHello, 0, body)));
        }

        Assert.Equal(0, server.Engine.Tickets!.OpenAttempts);
        Assert.False(server.Engine.HasState(peer));

        // With a valid cookie the ticket is tried, once.
        var goodRandom = TestBytes.RandomBytes(7);
        var junk = TestBytes.Filled(120, 1);
        server.Sender.TakeAll();
        server.Deliver(peer, Wire.Record(ContentType.Handshake, 0, 500, Wire.Handshake(HandshakeType.ClientHello, 0, HelloWithTicket(goodRandom, [], junk))));
        var cookieFromServer = Wire.CookieOf(Assert.Single(server.Sender.TakeFor(peer)))!;
        server.Deliver(peer, Wire.Record(ContentType.Handshake, 0, 501, Wire.Handshake(HandshakeType.ClientHello, 1, HelloWithTicket(goodRandom, cookieFromServer, junk))));
        Assert.Equal(1, server.Engine.Tickets.OpenAttempts);
        Assert.Contains((ContentType.Handshake, (ushort)0, (HandshakeType?)HandshakeType.ServerHelloDone), Shape(server.Sender.TakeFor(peer)));
    }

    [Fact]
    public void A_lost_final_flight_with_its_ticket_is_sent_again_when_the_client_repeats_flight_5()
    {
        using var server = TicketServer();
        using var client = new TestClient(server, s_first);
        FlightSteps.Deliver(server, client, FlightSteps.ToFlight5(server, client));
        var lost = server.Sender.TakeFor(client.Address);

        server.Time.Advance(client.Options.InitialRetransmitTimeout);
        client.Tick();
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        var again = server.Sender.TakeFor(client.Address);

        Assert.Equal(Shape(lost), Shape(again));
        again.ForEach(client.Deliver);
        Assert.True(client.Established);
        using var saved = Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
        Assert.True(saved.HasTicket);
    }

    [Fact]
    public void The_ticket_kept_for_the_last_flight_goes_with_the_first_application_data()
    {
        using var server = TicketServer();
        using var client = new TestClient(server, s_first);
        client.Start();
        Exchange.Pump(server, client);
        var connection = FlightSteps.ServerSide(server, s_first);
        Assert.True(connection.HoldsFinalTicket);

        FlightSteps.AssertEcho(server, client, "proves our Finished arrived");

        Assert.False(connection.HoldsFinalTicket);
    }

    [Fact]
    public void A_quiet_session_lets_the_ticket_go_after_one_housekeeping_period_without_any_data()
    {
        using var server = TicketServer();
        using var client = new TestClient(server, s_first);
        client.Start();
        Exchange.Pump(server, client);
        var connection = FlightSteps.ServerSide(server, s_first);
        Assert.True(connection.HoldsFinalTicket);

        // A sleeping device sends nothing after its handshake: the ticket must not stay for the session's lifetime.
        server.Advance(server.Options.ReleaseIdleCiphersAfter - TimeSpan.FromMilliseconds(100));
        Assert.True(connection.HoldsFinalTicket);
        server.Advance(TimeSpan.FromMilliseconds(200));

        Assert.False(connection.HoldsFinalTicket);
        Assert.True(connection.IsEstablished);
    }

    [Fact]
    public void A_new_session_ticket_the_server_hello_did_not_announce_is_an_unexpected_message()
    {
        // A server without tickets: its ServerHello carries no SessionTicket extension.
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_first);
        var flight5 = FlightSteps.ToFlight5(server, client);
        FlightSteps.Deliver(server, client, flight5);
        var flight6 = server.Sender.TakeFor(client.Address);
        var ticket = new byte[NewSessionTicket.GetLength(4)];
        NewSessionTicket.Write(ticket, 60, [1, 2, 3, 4]);
        // message_seq 4 is the one flight 6's Finished would have; the ticket takes it.
        client.Deliver(Wire.Record(ContentType.Handshake, 0, 10, Wire.Handshake(HandshakeType.NewSessionTicket, 4, ticket)));

        Assert.Equal(DtlsError.UnexpectedMessage, client.ClosedError);
        Assert.NotEmpty(flight6);
    }

    [Fact]
    public void A_ticket_session_is_not_offered_by_a_client_that_does_not_use_tickets()
    {
        using var server = TicketServer();
        using var saved = FullHandshake(server);
        var options = TestClient.PlainPskOptions(server);
        options.UseSessionTickets = false;
        options.Session = saved;
        using var client = new TestClient(server, s_second, options, seed: 8);
        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.False(client.Engine.IsResumed);
        Assert.Equal(0, server.Engine.Tickets!.OpenAttempts);
    }

    [Fact]
    public void A_client_that_does_not_ask_for_tickets_gets_a_session_id_instead()
    {
        using var server = TicketServer(o => o.EnableSessionResumption = true);
        var options = TestClient.PlainPskOptions(server);
        options.UseSessionTickets = false;
        using var client = new TestClient(server, s_first, options);
        client.Start();
        Exchange.Pump(server, client);

        using var saved = Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
        Assert.False(saved.HasTicket);
        Assert.Equal(1, server.Engine.SessionCache!.Count);
    }

    [Fact]
    public void An_identity_too_long_for_a_ticket_gets_an_empty_one_and_nothing_to_save()
    {
        using var server = TicketServer();
        var options = TestClient.PlainPskOptions(server);
        options.PskIdentity = new string('x', HotDtls.Crypto.SessionTicketProtector.MaxIdentityLength + 1);
        using var client = new TestClient(server, s_first, options);
        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.Null(client.Engine.SaveSession());
    }

    private static byte[] HelloWithTicket(byte[] random, byte[] cookie, byte[] ticket)
    {
        var buffer = new byte[1024];
        var length = ClientHello.Write(buffer, ProtocolVersion.Dtls12, random, TestBytes.RandomBytes(99), cookie, Wire.DefaultSuites,
            offerExtendedMasterSecret: true, offerRenegotiationInfo: true, offerSessionTicket: true, sessionTicket: ticket);
        return buffer[..length];
    }
}
