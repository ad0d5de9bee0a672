using System.Buffers.Binary;
using System.Net;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Hostile;

/// <summary>
/// Hostile cases 19–28 (docs/security.md §9): the cookie exchange and the state kept before and just after it. "No state" is checked
/// as: no session, no handshake in progress, no handshake started, no handler event.
/// </summary>
public sealed class CookieHostileTests
{
    private static readonly IPEndPoint Spoofed = new(IPAddress.Parse("203.0.113.5"), 5684);
    private static readonly IPEndPoint Honest = new(IPAddress.Parse("192.0.2.10"), 40010);

    // ---- Case 19: a cookieless ClientHello from a spoofed source ----

    [Fact]
    public void Case19_cookieless_client_hello_gets_exactly_one_small_hello_verify_request_never_retransmitted()
    {
        using var server = new ServerHarness();
        var hello = Wire.ClientHelloDatagram(TestBytes.RandomBytes(19), []);

        server.Deliver(Spoofed.Serialize(), hello);

        var (datagram, peer) = Assert.Single(server.Sender.TakeAll());
        Assert.Equal(Spoofed.Serialize(), peer);
        Assert.NotNull(Wire.CookieOf(datagram));
        Assert.True(datagram.Length <= hello.Length, $"HelloVerifyRequest {datagram.Length} > ClientHello {hello.Length}");
        Cookie.AssertNoState(server);
        Assert.Equal(1, server.Statistics.HelloVerifyRequestsSent);

        // Whatever the clock does, nothing more goes to the spoofed address.
        server.Advance(TimeSpan.FromSeconds(5));
        server.Time.Advance(TimeSpan.FromHours(3));
        server.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, server.Sender.Count);
        Cookie.AssertNoState(server);

        Cookie.AssertHonestClientWorks(server, Honest);
    }

    [Fact]
    public void Case19_hello_verify_request_to_a_minimal_client_hello_is_not_larger()
    {
        using var server = new ServerHarness();
        // The smallest ClientHello: one suite, no extensions, no session id.
        var body = Cookie.HelloBody(version: ProtocolVersion.Dtls12, random: TestBytes.RandomBytes(1), sessionId: [],
            cookieLength: 0, cookie: [], suites: [0x00, 0xA8], compression: [1, 0], extensions: null);
        var hello = Wire.Record(ContentType.Handshake, 0, 0, Wire.Handshake(HandshakeType.ClientHello, 0, body));

        server.Deliver(Spoofed.Serialize(), hello);

        var replies = server.Sender.TakeAll();
        foreach (var (datagram, _) in replies)
        {
            Assert.True(datagram.Length <= hello.Length);
        }
        Assert.True(replies.Count <= 1);
        Cookie.AssertNoState(server);
    }

    // ---- Case 20: malformed ClientHellos before the cookie ----

    public static TheoryData<string> MalformedHellos => new()
    {
        "record version TLS 1.2",
        "client_version TLS 1.2",
        "client_version 0",
        "client_version FF00",
        "zero-length body",
        "empty record",
        "odd cipher-suite length",
        "no cipher suites",
        "cipher-suite length past the end",
        "cookie length past the end",
        "session_id of 33 bytes",
        "no compression methods",
        "handshake length past the record",
        "trailing bytes after the extensions",
        "extension block length past the end",
    };

    [Theory]
    [MemberData(nameof(MalformedHellos))]
    public void Case20_malformed_client_hello_before_the_cookie_is_dropped_without_answer(string kind)
    {
        using var server = new ServerHarness();
        var random = TestBytes.RandomBytes(20);
        byte[] suites = [0x00, 0xA8];
        byte[] datagram = kind switch
        {
            "record version TLS 1.2" => Wire.ClientHelloDatagram(random, [], recordVersion: 0x0303),
            "client_version TLS 1.2" => Cookie.HelloRecord(Wire.ClientHelloBody(random, [], version: 0x0303)),
            "client_version 0" => Cookie.HelloRecord(Wire.ClientHelloBody(random, [], version: 0)),
            "client_version FF00" => Cookie.HelloRecord(Wire.ClientHelloBody(random, [], version: 0xFF00)),
            "zero-length body" => Cookie.HelloRecord([]),
            "empty record" => Wire.Record(ContentType.Handshake, 0, 0, []),
            "odd cipher-suite length" => Cookie.HelloRecord(Cookie.HelloBody(ProtocolVersion.Dtls12, random, [], 0, [],
                [0x00, 0xA8, 0x00], [1, 0], null)),
            "no cipher suites" => Cookie.HelloRecord(Cookie.HelloBody(ProtocolVersion.Dtls12, random, [], 0, [],
                [], [1, 0], null)),
            "cipher-suite length past the end" => Cookie.HelloRecord(Wire.Concat(
                Cookie.HelloBody(ProtocolVersion.Dtls12, random, [], 0, [], suites, [], null)[..^4], [0x40, 0x00, 0x00, 0xA8])),
            "cookie length past the end" => Cookie.HelloRecord(Cookie.HelloBody(ProtocolVersion.Dtls12, random, [], 200,
                new byte[10], [], [], null, omitLists: true)),
            "session_id of 33 bytes" => Cookie.HelloRecord(Cookie.HelloBody(ProtocolVersion.Dtls12, random, new byte[33], 0,
                [], suites, [1, 0], null)),
            "no compression methods" => Cookie.HelloRecord(Cookie.HelloBody(ProtocolVersion.Dtls12, random, [], 0, [],
                suites, [0], null)),
            "handshake length past the record" => Wire.Record(ContentType.Handshake, 0, 0,
                Wire.HandshakeFragment(HandshakeType.ClientHello, 0, 300, 0, Wire.ClientHelloBody(random, []), fragmentLength: 300)),
            "trailing bytes after the extensions" => Cookie.HelloRecord(Wire.Concat(Wire.ClientHelloBody(random, []), [0, 0, 0])),
            "extension block length past the end" => Cookie.HelloRecord(Cookie.HelloBody(ProtocolVersion.Dtls12, random, [], 0,
                [], suites, [1, 0], [0x10, 0x00, 0xFF, 0x01])),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var dropped = server.Statistics.RecordsDropped;

        server.Deliver(Spoofed.Serialize(), datagram);

        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(0, server.Statistics.HelloVerifyRequestsSent);
        Assert.True(server.Statistics.RecordsDropped > dropped, "the drop is counted");
        Cookie.AssertNoState(server);
    }

    [Fact]
    public void Case20_the_well_formed_control_hello_is_answered()
    {
        // The builder used above, with nothing wrong: proves the drops are for the faults, not the builder.
        using var server = new ServerHarness();
        var body = Cookie.HelloBody(ProtocolVersion.Dtls12, TestBytes.RandomBytes(20), [], 0, [], [0x00, 0xA8], [1, 0], []);

        server.Deliver(Spoofed.Serialize(), Cookie.HelloRecord(body));

        Assert.NotNull(Wire.CookieOf(Assert.Single(server.Sender.TakeAll()).Datagram));
    }

    // ---- Case 21: sequence numbers of HelloVerifyRequest and ServerHello ----

    [Theory]
    [InlineData(0UL, 1UL)]
    [InlineData(7UL, 8UL)]
    [InlineData(0x0000_7FFF_FFFFUL, 0x0000_8000_0005UL)]
    public void Case21_hello_verify_request_copies_the_record_sequence_and_server_hello_copies_the_second(
        ulong firstSequence, ulong secondSequence)
    {
        using var server = new ServerHarness();
        var random = TestBytes.RandomBytes(21);
        var from = Honest.Serialize();

        server.Deliver(from, Wire.ClientHelloDatagram(random, [], messageSeq: 0, recordSequence: firstSequence));
        var hvr = Assert.Single(server.Sender.TakeFor(from));
        var (hvrHeader, hvrBody) = Assert.Single(Wire.Records(hvr));
        Assert.Equal(firstSequence, hvrHeader.SequenceNumber);
        Assert.Equal(0, hvrHeader.Epoch);
        Assert.True(HandshakeHeader.TryRead(hvrBody, out var hvrHandshake));
        Assert.Equal(HandshakeType.HelloVerifyRequest, hvrHandshake.MsgType);
        Assert.Equal(0, hvrHandshake.MessageSeq);

        var cookie = Wire.CookieOf(hvr)!;
        server.Deliver(from, Wire.ClientHelloDatagram(random, cookie, messageSeq: 1, recordSequence: secondSequence));
        var flight4 = server.Sender.TakeFor(from).SelectMany(Wire.Records).ToList();
        Assert.NotEmpty(flight4);
        var (helloHeader, helloBody) = flight4[0];
        Assert.True(HandshakeHeader.TryRead(helloBody, out var serverHello));
        Assert.Equal(HandshakeType.ServerHello, serverHello.MsgType);
        Assert.Equal(secondSequence, helloHeader.SequenceNumber);
        Assert.Equal(1, serverHello.MessageSeq);
        // The rest of the flight follows on, one record number each.
        for (var i = 1; i < flight4.Count; i++)
        {
            Assert.Equal(secondSequence + (ulong)i, flight4[i].Header.SequenceNumber);
        }
    }

    [Fact]
    public void Case21_hello_verify_request_message_seq_is_zero_whatever_the_client_hello_says()
    {
        using var server = new ServerHarness();

        server.Deliver(Spoofed.Serialize(), Wire.ClientHelloDatagram(TestBytes.RandomBytes(3), [], messageSeq: 5, recordSequence: 3));

        var (header, body) = Assert.Single(Wire.Records(Assert.Single(server.Sender.TakeAll()).Datagram));
        Assert.Equal(3UL, header.SequenceNumber);
        Assert.True(HandshakeHeader.TryRead(body, out var handshake));
        Assert.Equal(0, handshake.MessageSeq);
    }

    // ---- Case 22: bad cookies ----

    [Theory]
    [InlineData("bit-flipped first byte")]
    [InlineData("bit-flipped last byte")]
    [InlineData("truncated")]
    [InlineData("one byte longer")]
    [InlineData("empty")]
    [InlineData("255 bytes")]
    [InlineData("255 bytes starting with the cookie")]
    public void Case22_second_client_hello_with_a_bad_cookie_gets_a_fresh_hello_verify_request_and_no_state(string kind)
    {
        using var server = new ServerHarness();
        var random = TestBytes.RandomBytes(22);
        var from = Honest.Serialize();
        var cookie = Wire.FetchCookie(server, from, random);
        byte[] bad = kind switch
        {
            "bit-flipped first byte" => Cookie.Flip(cookie, 0),
            "bit-flipped last byte" => Cookie.Flip(cookie, cookie.Length - 1),
            "truncated" => cookie[..^1],
            "one byte longer" => [.. cookie, 0],
            "empty" => [],
            "255 bytes" => TestBytes.Filled(255, 0xC0),
            "255 bytes starting with the cookie" => [.. cookie, .. TestBytes.Filled(255 - cookie.Length, 0)],
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        server.Deliver(from, Wire.ClientHelloDatagram(random, bad, messageSeq: 1, recordSequence: 1));

        var reply = Assert.Single(server.Sender.TakeAll());
        Assert.Equal(cookie, Wire.CookieOf(reply.Datagram));
        Assert.Equal(2, server.Statistics.HelloVerifyRequestsSent);
        Cookie.AssertNoState(server);

        // Control: the good cookie starts the handshake.
        server.Deliver(from, Wire.ClientHelloDatagram(random, cookie, messageSeq: 1, recordSequence: 2));
        Assert.Equal(1, server.Statistics.HandshakesStarted);
    }

    // ---- Case 23: a valid cookie from another address ----

    [Theory]
    [InlineData("192.0.2.11", 40010)] // another IP, same port
    [InlineData("192.0.2.10", 40011)] // same IP, another port
    [InlineData("::ffff:192.0.2.10", 40010)] // the same IPv4 address written as IPv6
    public void Case23_valid_cookie_from_another_address_gets_only_a_hello_verify_request(string ip, int port)
    {
        using var server = new ServerHarness();
        var random = TestBytes.RandomBytes(23);
        var cookie = Wire.FetchCookie(server, Honest.Serialize(), random);
        var elsewhere = new IPEndPoint(IPAddress.Parse(ip), port).Serialize();

        server.Deliver(elsewhere, Wire.ClientHelloDatagram(random, cookie, messageSeq: 1, recordSequence: 1));

        var reply = Assert.Single(server.Sender.TakeAll());
        Assert.Equal(elsewhere, reply.Peer);
        Assert.NotNull(Wire.CookieOf(reply.Datagram));
        Cookie.AssertNoState(server);

        // Control: from the address it was made for, the same cookie is good.
        server.Deliver(Honest.Serialize(), Wire.ClientHelloDatagram(random, cookie, messageSeq: 1, recordSequence: 1));
        Assert.Equal(1, server.Statistics.HandshakesStarted);
    }

    // ---- Case 24: cookie secret rotation ----

    private static readonly TimeSpan Rotation = TimeSpan.FromSeconds(20);

    [Fact]
    public void Case24_cookie_from_the_previous_secret_is_accepted()
    {
        using var server = new ServerHarness(o => o.CookieSecretRotation = Rotation);
        var random = TestBytes.RandomBytes(24);
        var from = Honest.Serialize();
        var cookie = Wire.FetchCookie(server, from, random);

        server.Time.Advance(Rotation); // exactly one generation later, wherever the clock started
        Assert.NotEqual(cookie, Wire.FetchCookie(server, from, random)); // the secret did rotate

        server.Deliver(from, Wire.ClientHelloDatagram(random, cookie, messageSeq: 1, recordSequence: 1));

        Assert.Equal(1, server.Statistics.HandshakesStarted);
        var flight4 = server.Sender.TakeFor(from).SelectMany(Wire.Records).ToList();
        Assert.True(HandshakeHeader.TryRead(flight4[0].Body, out var first));
        Assert.Equal(HandshakeType.ServerHello, first.MsgType);
    }

    [Fact]
    public void Case24_cookie_from_two_rotations_back_gets_a_hello_verify_request()
    {
        using var server = new ServerHarness(o => o.CookieSecretRotation = Rotation);
        var random = TestBytes.RandomBytes(24);
        var from = Honest.Serialize();
        var cookie = Wire.FetchCookie(server, from, random);

        server.Time.Advance(Rotation * 2);
        server.Deliver(from, Wire.ClientHelloDatagram(random, cookie, messageSeq: 1, recordSequence: 1));

        var reply = Assert.Single(server.Sender.TakeAll());
        var fresh = Wire.CookieOf(reply.Datagram);
        Assert.NotNull(fresh);
        Assert.NotEqual(cookie, fresh);
        Cookie.AssertNoState(server);
    }

    [Fact]
    public void Case24_honest_client_whose_cookie_straddles_a_rotation_completes()
    {
        using var server = new ServerHarness(o => o.CookieSecretRotation = Rotation);
        using var client = new TestClient(server, Honest);
        client.Start();
        client.Sender.TakeAll().ForEach(d => server.Deliver(client.Address, d.Datagram));
        server.Sender.TakeFor(client.Address).ForEach(client.Deliver); // HelloVerifyRequest; ClientHello 2 queued

        server.Time.Advance(Rotation);
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.Equal(1, server.Statistics.HelloVerifyRequestsSent);
        Cookie.AssertEcho(server, client, "rotated");
    }

    // ---- Case 25: a cookie on every path ----

    [Fact]
    public void Case25_client_hello_offering_resumption_still_needs_a_cookie()
    {
        using var server = new ServerHarness();
        var random = TestBytes.RandomBytes(25);
        // A session_id to resume and a session ticket (extension 35) to resume with.
        var body = Cookie.WithExtension(
            Cookie.HelloBody(ProtocolVersion.Dtls12, random, TestBytes.Filled(32, 0x5E), 0, [], [0x00, 0xA8], [1, 0], []),
            35, TestBytes.Filled(48, 0x71));

        server.Deliver(Spoofed.Serialize(), Cookie.HelloRecord(body));

        Assert.NotNull(Wire.CookieOf(Assert.Single(server.Sender.TakeAll()).Datagram));
        Cookie.AssertNoState(server);
    }

    [Fact]
    public void Case25_new_client_hello_from_an_established_peer_still_needs_a_cookie_and_leaves_the_session_alone()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server, Honest);
        var started = server.Statistics.HandshakesStarted;

        server.Deliver(client.Address, Wire.ClientHelloDatagram(TestBytes.RandomBytes(99), [], recordSequence: 40));

        var reply = Assert.Single(server.Sender.TakeFor(client.Address));
        Assert.NotNull(Wire.CookieOf(reply));
        var stats = server.Statistics;
        Assert.Equal(started, stats.HandshakesStarted);
        Assert.Equal(1, stats.Sessions);
        Assert.Equal(0, stats.HandshakesInProgress);
        Assert.Empty(server.Handler.Closed);
        Cookie.AssertEcho(server, client, "still the same session");
    }

    [Fact]
    public void Case25_client_hello_with_the_established_random_but_no_cookie_starts_nothing()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Honest);
        client.Start();
        // The random, from the client's first ClientHello: record header (13), handshake header (12), client_version (2).
        var (first, to) = client.Sender.TakeAll()[0];
        var random = first.AsSpan(13 + 12 + 2, 32).ToArray();
        client.Sender.Send(first, to);
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        var before = server.Statistics;

        server.Deliver(client.Address, Wire.ClientHelloDatagram(random, [], messageSeq: 0, recordSequence: 41));
        server.Deliver(client.Address, Wire.ClientHelloDatagram(random, [], messageSeq: 1, recordSequence: 42));

        var after = server.Statistics;
        Assert.Equal(before.HandshakesStarted, after.HandshakesStarted);
        Assert.Equal(1, after.Sessions);
        Assert.Equal(0, after.HandshakesInProgress);
        Assert.Empty(server.Handler.Closed);
        Cookie.AssertEcho(server, client, "unmoved");
    }

    // ---- Case 26: a flood of abandoned cookie-valid handshakes ----

    [Fact]
    public void Case26_ten_thousand_abandoned_handshakes_stay_under_the_cap_oldest_evicted_sessions_untouched()
    {
        const int cap = 64;
        const int flood = 10_000;
        using var server = new ServerHarness(o => o.MaxHandshakesInProgress = cap);
        using var established = Exchange.Handshake(server, Honest);
        var addresses = new SocketAddress[flood];
        var hellos = new byte[flood][];

        for (var i = 0; i < flood; i++)
        {
            var from = new IPEndPoint(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 1024 + (i % 50_000));
            addresses[i] = from.Serialize();
            var random = TestBytes.RandomBytes(i);
            var cookie = Wire.FetchCookie(server, addresses[i], random);
            hellos[i] = Wire.ClientHelloDatagram(random, cookie, messageSeq: 1, recordSequence: 1);
            server.Deliver(addresses[i], hellos[i]);
            server.Sender.TakeAll();
            Assert.True(server.Statistics.HandshakesInProgress <= cap);
        }

        var stats = server.Statistics;
        Assert.Equal(flood, stats.HandshakesStarted - 1);
        Assert.Equal(cap, stats.HandshakesInProgress);
        Assert.Equal(cap + 1, stats.Sessions);
        // Evicted oldest first: exactly the first flood - cap, in order.
        var evicted = server.Handler.Closed.Where(c => c.Reason == DtlsCloseReason.Evicted).Select(c => c.Session.RemoteEndPoint).ToList();
        Assert.Equal(flood - cap, evicted.Count);
        for (var i = 0; i < evicted.Count; i++)
        {
            Assert.Equal(ServerEngineEndPoint(addresses[i]), evicted[i]);
        }
        Assert.DoesNotContain(server.Handler.Closed, c => c.Session.RemoteEndPoint.Equals(Honest));

        // The newest are still there: a retransmitted ClientHello repeats their flight 4 and starts nothing.
        var started = server.Statistics.HandshakesStarted;
        server.Deliver(addresses[flood - 1], Cookie.WithSequence(hellos[flood - 1], 2));
        server.Deliver(addresses[flood - cap], Cookie.WithSequence(hellos[flood - cap], 2));
        Assert.Equal(started, server.Statistics.HandshakesStarted);
        Assert.NotEmpty(server.Sender.TakeFor(addresses[flood - 1]));
        Assert.NotEmpty(server.Sender.TakeFor(addresses[flood - cap]));

        Cookie.AssertEcho(server, established, "untouched");
        Assert.Single(server.Handler.Established);
    }

    private static IPEndPoint ServerEngineEndPoint(SocketAddress address) => (IPEndPoint)new IPEndPoint(IPAddress.Any, 0).Create(address);

    // ---- Case 27: abandoned and failed handshakes expire ----

    [Fact]
    public void Case27_abandoned_and_failed_handshakes_expire_and_release_everything()
    {
        const int cap = 8;
        var stuck = new NeverAnsweringStore();
        using var server = new ServerHarness(o =>
        {
            o.MaxHandshakesInProgress = cap;
            o.PskStore = stuck;
        });
        var timeout = server.Options.HandshakeTimeout;

        // Six abandoned right after the cookie (flight 4 unanswered).
        for (var i = 0; i < 6; i++)
        {
            Cookie.StartAbandoned(server, new IPEndPoint(IPAddress.Parse("198.51.100.1"), 2000 + i), 2700 + i);
        }
        // One abandoned after its ClientKeyExchange, with the PSK lookup never answering.
        using var waiting = new TestClient(server, new IPEndPoint(IPAddress.Parse("198.51.100.2"), 3000), seed: 31);
        waiting.Start();
        Exchange.Pump(server, waiting, maxRounds: 10);
        // One that fails outright: wrong key.
        using var wrong = new TestClient(server, new IPEndPoint(IPAddress.Parse("198.51.100.3"), 3001),
            new DtlsClientOptions { PskIdentity = "known", PskKey = [9, 9, 9], TimeProvider = server.Time }, seed: 32);
        wrong.Start();
        Exchange.Pump(server, wrong);
        Assert.False(wrong.Established);

        var before = server.Statistics;
        Assert.Equal(7, before.HandshakesInProgress);
        Assert.Equal(7, before.Sessions);
        Assert.Equal(1, before.HandshakesFailed);

        server.Advance(timeout + TimeSpan.FromSeconds(1));

        var after = server.Statistics;
        Assert.Equal(0, after.Sessions);
        Assert.Equal(0, after.HandshakesInProgress);
        Assert.Equal(8, after.HandshakesFailed);
        Assert.Equal(7, server.Handler.Closed.Count(c => c.Reason == DtlsCloseReason.HandshakeTimeout));
        Assert.True(stuck.Cancelled.All(t => t.IsCancellationRequested), "the pending PSK lookup is cancelled");
        Assert.NotEmpty(stuck.Cancelled);
        server.Sender.TakeAll();

        // Released: an honest client completes, and a full table's worth of new handshakes evicts nobody.
        using var client = new TestClient(server, Honest);
        client.Start();
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Cookie.AssertEcho(server, client, "after the expiry");
        for (var i = 0; i < cap; i++)
        {
            Cookie.StartAbandoned(server, new IPEndPoint(IPAddress.Parse("198.51.100.4"), 4000 + i), 2800 + i);
        }
        Assert.Equal(cap, server.Statistics.HandshakesInProgress);
        Assert.DoesNotContain(server.Handler.Closed, c => c.Reason == DtlsCloseReason.Evicted);
    }

    // ---- Case 28: the second ClientHello retransmitted mid-handshake ----

    [Fact]
    public void Case28_retransmitted_second_client_hello_repeats_flight_4_once_and_makes_no_second_association()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Honest);
        client.Start();
        client.Sender.TakeAll().ForEach(d => server.Deliver(client.Address, d.Datagram));
        server.Sender.TakeFor(client.Address).ForEach(client.Deliver);
        var secondHello = Assert.Single(client.Sender.TakeAll()).Datagram;
        server.Deliver(client.Address, secondHello);
        var flight4 = server.Sender.TakeFor(client.Address);
        Assert.NotEmpty(flight4);

        // The client's timer fires (the server's is not run): it repeats ClientHello 2 in a new record.
        server.Time.Advance(TimeSpan.FromMilliseconds(1100));
        client.Tick();
        var retransmitted = Assert.Single(client.Sender.TakeAll()).Datagram;
        Assert.True(Wire.Records(retransmitted)[0].Header.SequenceNumber > Wire.Records(secondHello)[0].Header.SequenceNumber);
        server.Deliver(client.Address, retransmitted);

        var again = server.Sender.TakeFor(client.Address);
        Assert.Equal(flight4.Count, again.Count);
        var first = flight4.SelectMany(Wire.Records).ToList();
        var repeated = again.SelectMany(Wire.Records).ToList();
        Assert.Equal(first.Select(r => r.Body), repeated.Select(r => r.Body)); // the same messages
        Assert.True(repeated[0].Header.SequenceNumber > first[^1].Header.SequenceNumber); // fresh record numbers
        var stats = server.Statistics;
        Assert.Equal(1, stats.HandshakesStarted);
        Assert.Equal(1, stats.Sessions);
        Assert.Equal(1, stats.HandshakesInProgress);
        Assert.Single(server.Handler.Started);

        // The client, having got both copies, finishes; still one association.
        flight4.ForEach(client.Deliver);
        again.ForEach(client.Deliver);
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Assert.Equal(1, server.Statistics.HandshakesCompleted);
        Assert.Equal(1, server.Statistics.Sessions);
        Assert.Empty(server.Handler.Closed);
        Cookie.AssertEcho(server, client, "one association");
    }

    [Fact]
    public void Case28_second_client_hello_after_the_handshake_starts_nothing()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Honest);
        byte[]? secondHello = null;
        var seen = 0;
        client.Start();
        Exchange.Pump(server, client, (d, toServer) =>
        {
            if (toServer && ++seen == 2)
            {
                secondHello = d;
            }
            return [d];
        });
        Assert.True(client.Established);
        Assert.NotNull(secondHello);

        server.Deliver(client.Address, Cookie.WithSequence(secondHello, 60));

        Assert.Empty(server.Sender.TakeFor(client.Address));
        Assert.Equal(1, server.Statistics.HandshakesStarted);
        Assert.Equal(1, server.Statistics.Sessions);
        Cookie.AssertEcho(server, client, "unmoved");
    }

    private sealed class NeverAnsweringStore : IPskStore
    {
        public List<CancellationToken> Cancelled { get; } = [];

        public ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken)
        {
            if (System.Text.Encoding.UTF8.GetString(identity.Span) == "Qt DTLS example client"
                && Cancelled.Count == 0)
            {
                // The first honest identity waits forever (until cancelled); everyone else gets the key.
                Cancelled.Add(cancellationToken);
                return new ValueTask<byte[]?>(new TaskCompletionSource<byte[]?>().Task);
            }
            return new ValueTask<byte[]?>(ServerHarness.Key);
        }
    }

    private static class Cookie
    {
        public static byte[] Flip(byte[] cookie, int index)
        {
            var copy = (byte[])cookie.Clone();
            copy[index] ^= 0x01;
            return copy;
        }

        /// <summary>A copy of a one-record datagram with another record sequence number (a retransmission).</summary>
        public static byte[] WithSequence(byte[] datagram, ulong sequence)
        {
            var copy = (byte[])datagram.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(5), (ushort)(sequence >> 32));
            BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(7), (uint)sequence);
            return copy;
        }

        public static byte[] HelloRecord(byte[] body)
            => Wire.Record(ContentType.Handshake, 0, 0, Wire.Handshake(HandshakeType.ClientHello, 0, body));

        /// <summary>A ClientHello body field by field, for malformed ones; lengths written as given.</summary>
        public static byte[] HelloBody(ushort version, byte[] random, byte[] sessionId, int cookieLength, byte[] cookie,
            byte[] suites, byte[] compression, byte[]? extensions, bool omitLists = false)
        {
            var bytes = new List<byte> { (byte)(version >> 8), (byte)version };
            bytes.AddRange(random);
            bytes.Add((byte)sessionId.Length);
            bytes.AddRange(sessionId);
            bytes.Add((byte)cookieLength);
            bytes.AddRange(cookie);
            if (!omitLists)
            {
                bytes.Add((byte)(suites.Length >> 8));
                bytes.Add((byte)suites.Length);
                bytes.AddRange(suites);
                bytes.AddRange(compression);
                if (extensions is not null)
                {
                    bytes.Add((byte)(extensions.Length >> 8));
                    bytes.Add((byte)extensions.Length);
                    bytes.AddRange(extensions);
                }
            }
            return [.. bytes];
        }

        /// <summary>A ClientHello body with one more extension appended to its extension block.</summary>
        public static byte[] WithExtension(byte[] helloBody, ushort type, byte[] data)
        {
            Assert.True(ClientHello.TryParse(helloBody, out var hello));
            var blockStart = helloBody.Length - hello.Extensions.Length - 2;
            var extension = new byte[4 + data.Length];
            BinaryPrimitives.WriteUInt16BigEndian(extension, type);
            BinaryPrimitives.WriteUInt16BigEndian(extension.AsSpan(2), (ushort)data.Length);
            data.CopyTo(extension, 4);
            var result = Wire.Concat(helloBody, extension);
            BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(blockStart), (ushort)(hello.Extensions.Length + extension.Length));
            return result;
        }

        /// <summary>Nothing kept for anyone: no session, no handshake, no handler event.</summary>
        public static void AssertNoState(ServerHarness server)
        {
            var stats = server.Statistics;
            Assert.Equal(0, stats.Sessions);
            Assert.Equal(0, stats.HandshakesInProgress);
            Assert.Equal(0, stats.HandshakesStarted);
            Assert.Empty(server.Handler.Started);
            Assert.Empty(server.Handler.Closed);
        }

        /// <summary>A cookie-valid handshake that is then abandoned (flight 4 sent, never answered).</summary>
        public static void StartAbandoned(ServerHarness server, IPEndPoint from, int seed)
        {
            var address = from.Serialize();
            var random = TestBytes.RandomBytes(seed);
            var cookie = Wire.FetchCookie(server, address, random);
            var started = server.Statistics.HandshakesStarted;
            server.Deliver(address, Wire.ClientHelloDatagram(random, cookie, messageSeq: 1, recordSequence: 1));
            Assert.Equal(started + 1, server.Statistics.HandshakesStarted);
            server.Sender.TakeFor(address);
        }

        /// <summary>"Others fine": a fresh honest client at <paramref name="address"/> handshakes and gets its ACK.</summary>
        public static void AssertHonestClientWorks(ServerHarness server, IPEndPoint address)
        {
            using var client = Exchange.Handshake(server, address, seed: 77);
            AssertEcho(server, client, "honest");
        }

        public static void AssertEcho(ServerHarness server, TestClient client, string text)
        {
            client.Received.Clear();
            Assert.True(client.Send(text));
            Exchange.Pump(server, client);
            Assert.Equal(text, server.Handler.TextsFrom(client.EndPoint).Last());
            Assert.Equal([$"to {client.EndPoint}: ACK"], client.Received);
        }
    }
}
