using System.Net;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Hostile;
using HotDtls.Tests.Support;
using HotDtls.Transport;

namespace HotDtls.Tests.Connection;

/// <summary>
/// Session-ID resumption end to end, both roles in memory (RFC 5246 §7.3, RFC 7627 §5.3, RFC 6347 §4.2.4): the
/// abbreviated handshake and its flights, the fallbacks to a full handshake, the extended-master-secret rules, the
/// PSK store's say in it, and the loss of each flight under a fake clock.
/// </summary>
public sealed class SessionResumptionTests
{
    private static readonly IPEndPoint s_first = new(IPAddress.Loopback, 41000);
    private static readonly IPEndPoint s_second = new(IPAddress.Loopback, 41001);

    private static ServerHarness ResumingServer(Action<DtlsServerOptions>? configure = null, int seed = 1) => new(o =>
    {
        o.EnableSessionResumption = true;
        configure?.Invoke(o);
    }, seed);

    /// <summary>A full handshake from <see cref="s_first"/>; returns the session it saved.</summary>
    private static DtlsSavedSession FullHandshake(ServerHarness server, DtlsClientOptions? options = null)
    {
        using var client = new TestClient(server, s_first, options);
        client.Start();
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Assert.False(client.Engine.IsResumed);
        return Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
    }

    private static TestClient Resuming(ServerHarness server, DtlsSavedSession saved, DtlsClientOptions? options = null, int seed = 8)
    {
        options ??= TestClient.PlainPskOptions(server);
        options.Session = saved;
        return new TestClient(server, s_second, options, seed);
    }

    private static List<(ContentType Type, ushort Epoch, HandshakeType? Message)> Shape(List<byte[]> datagrams)
    {
        var shape = new List<(ContentType, ushort, HandshakeType?)>();
        foreach (var datagram in datagrams)
        {
            foreach (var (header, body) in Wire.Records(datagram))
            {
                shape.Add((header.Type, header.Epoch,
                    header.Type == ContentType.Handshake && header.Epoch == 0 ? (HandshakeType)body[0] : null));
            }
        }
        return shape;
    }

    /// <summary>Runs the cookie exchange of a resuming client; returns its ClientHello with the cookie (flight 3).</summary>
    private static List<byte[]> ToFlight3(ServerHarness server, TestClient client)
    {
        client.Start();
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        FlightSteps.DeliverToClient(server, client);
        return FlightSteps.Take(client);
    }

    [Fact]
    public void A_saved_session_is_resumed_with_the_abbreviated_handshake()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        var flight3 = ToFlight3(server, client);
        var offered = ClientHelloOf(flight3);
        Assert.True(ClientHello.TryParse(offered, out var hello));
        Assert.Equal(SessionCache.SessionIdLength, hello.SessionId.Length);

        FlightSteps.Deliver(server, client, flight3);

        // The server's flight goes first: ServerHello (the same session_id), ChangeCipherSpec, Finished — no
        // ServerKeyExchange, no ServerHelloDone.
        var flight4 = server.Sender.TakeFor(client.Address);
        Assert.Equal([(ContentType.Handshake, (ushort)0, HandshakeType.ServerHello), (ContentType.ChangeCipherSpec, (ushort)0, null),
            (ContentType.Handshake, (ushort)1, null)], Shape(flight4));
        var serverHello = Wire.Records(flight4[0])[0].Body[HandshakeHeader.Size..];
        Assert.True(ServerHello.TryParse(serverHello, out var echoed));
        Assert.Equal(hello.SessionId.ToArray(), echoed.SessionId.ToArray());
        var connection = FlightSteps.ServerSide(server, s_second);
        Assert.Equal(HandshakeState.ServerResumeExpectChangeCipherSpec, connection.State);

        flight4.ForEach(client.Deliver);
        Assert.True(client.Established);
        Assert.True(client.Engine.IsResumed);
        var flight5 = FlightSteps.Take(client);
        Assert.Equal([(ContentType.ChangeCipherSpec, (ushort)0, null), (ContentType.Handshake, (ushort)1, null)], Shape(flight5));

        FlightSteps.Deliver(server, client, flight5);
        Assert.True(connection.IsEstablished);
        Assert.True(connection.IsResumed);
        Assert.True(connection.Session!.IsResumed);
        Assert.Equal("Qt DTLS example client", connection.Session.PskIdentity);
        Assert.Equal(saved.CipherSuite, connection.NegotiatedSuite);
        Assert.True(connection.UsesExtendedMasterSecret);
        Assert.Equal(1, server.Statistics.HandshakesResumed);
        Assert.Equal(2, server.Statistics.HandshakesCompleted);
        FlightSteps.AssertEcho(server, client, "resumed");
    }

    [Fact]
    public void Without_resumption_enabled_the_server_issues_no_session_id_and_the_client_saves_nothing()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);

        Assert.Null(client.Engine.SaveSession());
    }

    [Fact]
    public void A_resumed_session_can_be_saved_and_resumed_again()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var second = Resuming(server, saved);
        second.Start();
        Exchange.Pump(server, second);
        Assert.True(second.Engine.IsResumed);
        using var again = Assert.IsType<DtlsSavedSession>(second.Engine.SaveSession());

        var options = TestClient.PlainPskOptions(server);
        options.Session = again;
        using var third = new TestClient(server, new IPEndPoint(IPAddress.Loopback, 41002), options, seed: 9);
        third.Start();
        Exchange.Pump(server, third);

        Assert.True(third.Engine.IsResumed);
        Assert.Equal(2, server.Statistics.HandshakesResumed);
    }

    [Fact]
    public void An_unknown_session_id_gets_a_full_handshake_with_a_new_session_id()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var otherServer = ResumingServer(seed: 2);
        // The session is from another server: this one has never seen its id.
        using var client = Resuming(otherServer, saved);
        client.Start();
        Exchange.Pump(otherServer, client);

        Assert.True(client.Established);
        Assert.False(client.Engine.IsResumed);
        Assert.Equal(0, otherServer.Statistics.HandshakesResumed);
        using var fresh = Assert.IsType<DtlsSavedSession>(client.Engine.SaveSession());
        Assert.NotEqual(saved.Export(), fresh.Export());
    }

    [Fact]
    public void A_session_past_its_lifetime_gets_a_full_handshake()
    {
        using var server = ResumingServer(o => o.SessionLifetime = TimeSpan.FromMinutes(10));
        using var saved = FullHandshake(server);
        server.Time.Advance(TimeSpan.FromMinutes(10));

        using var client = Resuming(server, saved);
        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.False(client.Engine.IsResumed);
    }

    [Fact]
    public void A_suite_the_server_no_longer_accepts_falls_back_to_a_full_handshake()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, saved.CipherSuite);
        server.Options.CipherSuites.Remove(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);

        using var client = Resuming(server, saved);
        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.False(client.Engine.IsResumed);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384, client.Engine.NegotiatedSuite);
    }

    [Fact]
    public void A_client_offering_other_suites_than_the_session_does_not_offer_the_session()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        var options = TestClient.OptionsFor(server, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384);

        using var client = Resuming(server, saved, options);
        var flight3 = ToFlight3(server, client);
        Assert.True(ClientHello.TryParse(ClientHelloOf(flight3), out var hello));
        Assert.True(hello.SessionId.IsEmpty);
        FlightSteps.Deliver(server, client, flight3);
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.False(client.Engine.IsResumed);
    }

    [Fact]
    public void A_server_that_resumes_with_another_suite_than_the_session_is_refused_by_the_client()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        var flight3 = ToFlight3(server, client);
        FlightSteps.Deliver(server, client, flight3);
        var flight4 = server.Sender.TakeFor(client.Address);
        // Rewrite the ServerHello's cipher_suite (offset 2 + 32 + 1 + 32 in the body): still a suite the client offered.
        var (header, body) = Wire.Records(flight4[0])[0];
        var suiteOffset = HandshakeHeader.Size + 2 + 32 + 1 + 32;
        body[suiteOffset] = 0x00;
        body[suiteOffset + 1] = (byte)CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384;
        client.Deliver(Wire.Record(header.Type, header.Epoch, header.SequenceNumber, body));

        Assert.Equal(DtlsError.IllegalParameter, client.ClosedError);
        Assert.False(client.Established);
    }

    [Fact]
    public void A_client_with_another_identity_does_not_offer_the_session()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        var options = TestClient.PlainPskOptions(server);
        options.PskIdentity = "another device";

        using var client = Resuming(server, saved, options);
        var flight3 = ToFlight3(server, client);
        Assert.True(ClientHello.TryParse(ClientHelloOf(flight3), out var hello));
        Assert.True(hello.SessionId.IsEmpty);
        FlightSteps.Deliver(server, client, flight3);
        Exchange.Pump(server, client);

        Assert.False(client.Engine.IsResumed);
        Assert.Equal("another device", FlightSteps.ServerSide(server, s_second).Session!.PskIdentity);
    }

    [Fact]
    public void A_disposed_session_is_not_offered()
    {
        using var server = ResumingServer();
        var saved = FullHandshake(server);
        saved.Dispose();

        using var client = Resuming(server, saved);
        var flight3 = ToFlight3(server, client);

        Assert.True(ClientHello.TryParse(ClientHelloOf(flight3), out var hello));
        Assert.True(hello.SessionId.IsEmpty);
    }

    [Fact]
    public void A_session_id_presented_without_its_master_secret_fails_and_the_owner_still_resumes()
    {
        // A session_id travels in clear: another device (another identity, its own key) copies it into its own
        // saved session. The server resumes the session's identity, not the stranger's, and the stranger cannot
        // produce the Finished.
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        var exported = saved.Export();
        // Export: version(1) suite(2) flags(1) id_len(1) id(32) master_secret(48) identity...
        exported.AsSpan(5 + 32, 48).Fill(0x5A);
        using var stolen = DtlsSavedSession.Import(exported);

        using var thief = Resuming(server, stolen);
        thief.Start();
        Exchange.Pump(server, thief);

        // The server's Finished, under keys the thief cannot derive, never authenticates: it is dropped until the
        // handshake times out on both sides.
        Assert.False(thief.Established);
        Assert.True(thief.Dropped > 0);
        server.Advance(server.Options.HandshakeTimeout);
        Assert.Equal(0, server.Statistics.HandshakesResumed);
        Assert.Equal(0, server.Statistics.HandshakesInProgress);
        using var owner = Resuming(server, saved, seed: 11);
        owner.Start();
        Exchange.Pump(server, owner);
        Assert.True(owner.Engine.IsResumed);
    }

    [Fact]
    public void Original_with_extended_master_secret_and_a_hello_without_it_is_a_handshake_failure()
    {
        // RFC 7627 §5.3: "the server MUST abort the abbreviated handshake"; HotDtls aborts with handshake_failure.
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        var cookieRandom = TestBytes.RandomBytes(3);
        var sessionId = saved.Export().AsSpan(5, 32).ToArray();
        var peer = s_second.Serialize();
        var cookie = CookieFor(server, peer, cookieRandom, sessionId);

        server.Deliver(peer, Wire.Record(ContentType.Handshake, 0, 1,
            Wire.Handshake(HandshakeType.ClientHello, 1, ClientHelloWithSession(cookieRandom, cookie, sessionId, extendedMasterSecret: false))));

        var answer = Assert.Single(server.Sender.TakeFor(peer));
        var (header, alert) = Assert.Single(Wire.Records(answer));
        Assert.Equal(ContentType.Alert, header.Type);
        Assert.Equal([(byte)AlertLevel.Fatal, (byte)AlertDescription.HandshakeFailure], alert);
        Assert.Equal(0, server.Statistics.HandshakesResumed);
    }

    [Fact]
    public void Original_without_extended_master_secret_is_never_resumed()
    {
        // RFC 7627 §5.3: such a session is not resumed when the hello offers the extension (MUST NOT) nor when it
        // does not (SHOULD abort; HotDtls runs a full handshake). The server issues no session_id for it at all.
        using var server = ResumingServer();
        var sessionId = TestBytes.RandomBytes(21);
        server.Engine.SessionCache!.Add(sessionId, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, extendedMasterSecret: false,
            new byte[48], "Qt DTLS example client"u8.ToArray(), server.Time.GetMonotonicMilliseconds());
        var peer = s_second.Serialize();
        var random = TestBytes.RandomBytes(4);
        var cookie = CookieFor(server, peer, random, sessionId);

        server.Deliver(peer, Wire.Record(ContentType.Handshake, 0, 1,
            Wire.Handshake(HandshakeType.ClientHello, 1, ClientHelloWithSession(random, cookie, sessionId, extendedMasterSecret: true))));

        var flight4 = server.Sender.TakeFor(peer);
        Assert.Contains((ContentType.Handshake, (ushort)0, (HandshakeType?)HandshakeType.ServerHelloDone), Shape(flight4));
        Assert.True(ServerHello.TryParse(Wire.Records(flight4[0])[0].Body[HandshakeHeader.Size..], out var hello));
        Assert.NotEqual(sessionId, hello.SessionId.ToArray());
    }

    [Fact]
    public void A_full_handshake_without_extended_master_secret_gets_no_session_id()
    {
        using var server = ResumingServer();
        var peer = s_second.Serialize();
        var random = TestBytes.RandomBytes(5);
        var cookie = Wire.FetchCookie(server, peer, random);

        server.Deliver(peer, Wire.Record(ContentType.Handshake, 0, 1,
            Wire.Handshake(HandshakeType.ClientHello, 1, ClientHelloWithSession(random, cookie, [], extendedMasterSecret: false))));

        var flight4 = server.Sender.TakeFor(peer);
        Assert.True(ServerHello.TryParse(Wire.Records(flight4[0])[0].Body[HandshakeHeader.Size..], out var hello));
        Assert.True(hello.SessionId.IsEmpty);
    }

    [Fact]
    public void A_client_refuses_a_resumption_that_drops_the_extended_master_secret()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        FlightSteps.Deliver(server, client, ToFlight3(server, client));
        var flight4 = server.Sender.TakeFor(client.Address);
        var (header, body) = Wire.Records(flight4[0])[0];
        // Re-write the ServerHello without the extension (same id, suite, random).
        Assert.True(ServerHello.TryParse(body[HandshakeHeader.Size..], out var hello));
        var rewritten = new byte[128];
        var length = ServerHello.Write(rewritten, hello.ServerVersion, hello.Random, hello.SessionId, hello.CipherSuite,
            extendedMasterSecret: false, renegotiationInfo: hello.HasRenegotiationInfo);

        client.Deliver(Wire.Record(header.Type, 0, header.SequenceNumber, Wire.Handshake(HandshakeType.ServerHello, 1, rewritten.AsSpan(0, length))));

        Assert.Equal(DtlsError.ExtendedMasterSecretMismatch, client.ClosedError);
        Assert.Equal(AlertDescription.HandshakeFailure, client.ClosedAlert);
    }

    /// <summary>A store whose every lookup waits until the test completes it.</summary>
    private sealed class ControlledStore : IPskStore
    {
        public List<(byte[] Identity, TaskCompletionSource<byte[]?> Result)> Lookups { get; } = [];

        /// <summary>Answer the first lookup (a full handshake's) at once, the later ones when the test says.</summary>
        public bool AnswerFirstAtOnce { get; init; }

        public ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken)
        {
            var result = new TaskCompletionSource<byte[]?>();
            Lookups.Add((identity.ToArray(), result));
            if (AnswerFirstAtOnce && Lookups.Count == 1)
            {
                result.SetResult(ServerHarness.Key);
            }
            return new ValueTask<byte[]?>(result.Task);
        }
    }

    [Fact]
    public void The_abbreviated_flight_waits_for_the_store_to_confirm_the_identity()
    {
        var store = new ControlledStore { AnswerFirstAtOnce = true };
        using var server = ResumingServer(o => o.PskStore = store);
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        FlightSteps.Deliver(server, client, ToFlight3(server, client));

        var connection = FlightSteps.ServerSide(server, s_second);
        Assert.Equal(HandshakeState.ServerAwaitingSessionPsk, connection.State);
        Assert.Equal(0, server.Sender.Count);
        var (identity, result) = store.Lookups[1];
        Assert.Equal("Qt DTLS example client"u8.ToArray(), identity);

        Inline.Run(() => result.SetResult(ServerHarness.Key));

        Assert.Equal(HandshakeState.ServerResumeExpectChangeCipherSpec, connection.State);
        Exchange.Pump(server, client);
        Assert.True(client.Engine.IsResumed);
        Assert.True(connection.IsResumed);
        Assert.Equal(2, store.Lookups.Count);
    }

    [Fact]
    public void A_client_hello_repeated_while_the_store_decides_gets_nothing()
    {
        var store = new ControlledStore { AnswerFirstAtOnce = true };
        using var server = ResumingServer(o => o.PskStore = store);
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        var flight3 = ToFlight3(server, client);
        FlightSteps.Deliver(server, client, flight3);

        FlightSteps.Deliver(server, client, flight3);

        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(2, store.Lookups.Count);
        Assert.Equal(HandshakeState.ServerAwaitingSessionPsk, FlightSteps.ServerSide(server, s_second).State);
    }

    [Fact]
    public void An_identity_the_store_no_longer_knows_gets_a_full_handshake_and_its_session_is_forgotten()
    {
        var store = new ControlledStore { AnswerFirstAtOnce = true };
        using var server = ResumingServer(o => o.PskStore = store);
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        FlightSteps.Deliver(server, client, ToFlight3(server, client));
        Assert.Equal(1, server.Engine.SessionCache!.Count);

        Inline.Run(() => store.Lookups[1].Result.SetResult(null));

        var connection = FlightSteps.ServerSide(server, s_second);
        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, connection.State);
        Assert.False(connection.IsResumed);
        Assert.Equal("", connection.Session!.PskIdentity);
        var flight4 = server.Sender.TakeFor(client.Address);
        Assert.Contains((ContentType.Handshake, (ushort)0, (HandshakeType?)HandshakeType.ServerHelloDone), Shape(flight4));
        Assert.Equal(0, server.Engine.SessionCache.Count);
        // The full handshake goes on: the client answers flight 4, and the store is asked once more.
        flight4.ForEach(client.Deliver);
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        Assert.Equal(3, store.Lookups.Count);
        Inline.Run(() => store.Lookups[2].Result.SetResult(ServerHarness.Key));
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Assert.False(client.Engine.IsResumed);
    }

    [Fact]
    public void A_failing_store_gets_a_full_handshake_rather_than_a_resumption()
    {
        var store = new ControlledStore { AnswerFirstAtOnce = true };
        using var server = ResumingServer(o => o.PskStore = store);
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        FlightSteps.Deliver(server, client, ToFlight3(server, client));

        Inline.Run(() => store.Lookups[1].Result.SetException(new InvalidOperationException("the key database is down")));

        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, FlightSteps.ServerSide(server, s_second).State);
        Assert.Contains((ContentType.Handshake, (ushort)0, (HandshakeType?)HandshakeType.ServerHelloDone),
            Shape(server.Sender.TakeFor(client.Address)));
    }

    [Fact]
    public void A_session_id_without_a_valid_cookie_is_never_looked_up()
    {
        // HOSTILE 25: resumption needs the cookie like any other handshake; nothing is looked up before it.
        var store = new ControlledStore { AnswerFirstAtOnce = true };
        using var server = ResumingServer(o => o.PskStore = store);
        using var saved = FullHandshake(server);
        var sessionId = saved.Export().AsSpan(5, 32).ToArray();
        var peer = s_second.Serialize();
        var random = TestBytes.RandomBytes(6);

        foreach (var cookie in new[] { Array.Empty<byte>(), TestBytes.Filled(32, 0xAB) })
        {
            server.Deliver(peer, Wire.Record(ContentType.Handshake, 0, 0,
                Wire.Handshake(HandshakeType.ClientHello, 0, ClientHelloWithSession(random, cookie, sessionId, extendedMasterSecret: true))));
            Assert.NotNull(Wire.CookieOf(Assert.Single(server.Sender.TakeFor(peer))));
        }

        Assert.Single(store.Lookups);
        Assert.False(server.Engine.HasState(peer));
        Assert.Equal(0, server.Statistics.HandshakesResumed);
    }

    [Fact]
    public void A_lost_server_flight_is_retransmitted_on_the_server_timer()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        FlightSteps.Deliver(server, client, ToFlight3(server, client));
        var lost = server.Sender.TakeFor(client.Address);
        Assert.Equal(3, Shape(lost).Count);

        server.Advance(server.Options.InitialRetransmitTimeout);

        var again = server.Sender.TakeFor(client.Address);
        Assert.Equal(Shape(lost), Shape(again));
        again.ForEach(client.Deliver);
        Assert.True(client.Established);
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        Assert.True(FlightSteps.ServerSide(server, s_second).IsEstablished);
    }

    [Fact]
    public void A_retransmitted_client_hello_gets_the_abbreviated_flight_again()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        FlightSteps.Deliver(server, client, ToFlight3(server, client));
        var lost = server.Sender.TakeFor(client.Address);

        // The client's own timer repeats its ClientHello; the server answers with its flight.
        server.Time.Advance(client.Options.InitialRetransmitTimeout);
        client.Tick();
        var repeated = FlightSteps.Take(client);
        Assert.Equal([(ContentType.Handshake, (ushort)0, HandshakeType.ClientHello)], Shape(repeated));
        FlightSteps.Deliver(server, client, repeated);

        Assert.Equal(Shape(lost), Shape(server.Sender.TakeFor(client.Address)));
    }

    [Fact]
    public void A_lost_server_finished_is_covered_by_the_server_timer()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        FlightSteps.Deliver(server, client, ToFlight3(server, client));
        var flight = server.Sender.TakeFor(client.Address);
        // Deliver the ServerHello and ChangeCipherSpec, lose the Finished.
        var records = flight.SelectMany(Wire.Records).ToList();
        foreach (var (header, body) in records.Take(2))
        {
            client.Deliver(Wire.Record(header.Type, header.Epoch, header.SequenceNumber, body));
        }
        Assert.Equal(HandshakeState.ClientResumeExpectFinished, client.Connection.State);
        Assert.Equal(0, client.Sender.Count);

        server.Advance(server.Options.InitialRetransmitTimeout);
        server.Sender.TakeFor(client.Address).ForEach(client.Deliver);

        Assert.True(client.Established);
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        Assert.True(FlightSteps.ServerSide(server, s_second).IsEstablished);
    }

    [Fact]
    public void A_lost_client_final_flight_is_sent_again_only_when_the_server_flight_is_seen_again()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        FlightSteps.Deliver(server, client, ToFlight3(server, client));
        server.Sender.TakeFor(client.Address).ForEach(client.Deliver);
        Assert.True(client.Established);
        var lost = FlightSteps.Take(client);
        Assert.Equal(2, Shape(lost).Count);

        // The client's final flight has no timer of its own.
        server.Time.Advance(TimeSpan.FromSeconds(10));
        client.Tick();
        Assert.Equal(0, client.Sender.Count);

        // The server's timer repeats its flight; the repeated Finished brings the client's flight back.
        server.Advance(server.Options.InitialRetransmitTimeout);
        server.Sender.TakeFor(client.Address).ForEach(client.Deliver);
        var again = FlightSteps.Take(client);
        Assert.Equal(Shape(lost), Shape(again));
        FlightSteps.Deliver(server, client, again);

        var connection = FlightSteps.ServerSide(server, s_second);
        Assert.True(connection.IsEstablished);
        Assert.True(connection.IsResumed);
        FlightSteps.AssertEcho(server, client, "after loss");
    }

    [Fact]
    public void The_server_stops_retransmitting_once_the_client_finished_arrives()
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server);
        using var client = Resuming(server, saved);
        client.Start();
        Exchange.Pump(server, client);
        Assert.True(FlightSteps.ServerSide(server, s_second).IsEstablished);

        server.Advance(TimeSpan.FromSeconds(70));

        Assert.Empty(server.Sender.TakeFor(client.Address));
    }

    public static TheoryData<CipherSuite> Suites() =>
    [
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
    ];

    [Theory]
    [MemberData(nameof(Suites))]
    public void Every_kind_of_suite_resumes_and_keeps_its_suite(CipherSuite suite)
    {
        using var server = ResumingServer();
        using var saved = FullHandshake(server, TestClient.OptionsFor(server, suite));
        Assert.Equal(suite, saved.CipherSuite);

        using var client = Resuming(server, saved, TestClient.OptionsFor(server, suite));
        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Engine.IsResumed);
        Assert.Equal(suite, client.Engine.NegotiatedSuite);
        FlightSteps.AssertEcho(server, client, suite.ToString());
    }

    [Fact]
    public void A_session_made_on_one_loop_resumes_on_another_sharing_the_cache()
    {
        using var cache = new SessionCache(16, TimeSpan.FromHours(1));
        using var loopA = new ServerHarness(o => o.EnableSessionResumption = true, seed: 1, sessionCache: cache);
        using var loopB = new ServerHarness(o => o.EnableSessionResumption = true, seed: 2, sessionCache: cache);
        using var saved = FullHandshake(loopA);

        using var client = Resuming(loopB, saved);
        client.Start();
        Exchange.Pump(loopB, client);

        Assert.True(client.Engine.IsResumed);
        Assert.Equal(1, loopB.Statistics.HandshakesResumed);
    }

    private static byte[] ClientHelloOf(List<byte[]> flight)
    {
        foreach (var datagram in flight)
        {
            foreach (var (header, body) in Wire.Records(datagram))
            {
                if (header.Type == ContentType.Handshake && body[0] == (byte)HandshakeType.ClientHello)
                {
                    return body[HandshakeHeader.Size..];
                }
            }
        }
        throw new InvalidOperationException("no ClientHello");
    }

    /// <summary>A cookie for a ClientHello naming <paramref name="sessionId"/> (the cookie binds the session_id).</summary>
    internal static byte[] CookieFor(ServerHarness server, SocketAddress peer, byte[] random, byte[] sessionId)
    {
        server.Deliver(peer, Wire.Record(ContentType.Handshake, 0, 0,
            Wire.Handshake(HandshakeType.ClientHello, 0, ClientHelloWithSession(random, [], sessionId, extendedMasterSecret: true))));
        return Wire.CookieOf(Assert.Single(server.Sender.TakeFor(peer))) ?? throw new InvalidOperationException("no HelloVerifyRequest");
    }

    internal static byte[] ClientHelloWithSession(byte[] random, byte[] cookie, byte[] sessionId, bool extendedMasterSecret)
    {
        var buffer = new byte[512];
        var length = ClientHello.Write(buffer, ProtocolVersion.Dtls12, random, sessionId, cookie, Wire.DefaultSuites,
            extendedMasterSecret, offerRenegotiationInfo: true);
        return buffer[..length];
    }
}
