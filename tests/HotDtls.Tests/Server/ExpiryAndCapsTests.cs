using System.Net;
using HotDtls.Tests.Hostile;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

/// <summary>
/// What the server forgets and what it refuses: IdleTimeout for established sessions, MaxSessions for the table
/// (half-open handshakes give way, established sessions never do), HandshakeTimeout measured from the handshake's
/// start. The MaxHandshakesInProgress flood and the release of abandoned handshakes are HOSTILE 26 and 27
/// (CookieHostileTests).
/// </summary>
public sealed class ExpiryAndCapsTests
{
    private static IPEndPoint Peer(int i) => new(IPAddress.Parse("192.0.2.10"), 42000 + i);

    /// <summary>Runs a client's cookie exchange and flight 3 and lets it answer flight 4; its flight 5 stays unsent.</summary>
    private static TestClient HalfOpen(ServerHarness server, int i, out List<byte[]> flight5)
    {
        var client = new TestClient(server, Peer(i), seed: 100 + i);
        flight5 = FlightSteps.ToFlight5(server, client);
        return client;
    }

    [Fact]
    public void Idle_session_is_closed_after_IdleTimeout_and_freed_while_an_active_one_survives()
    {
        using var server = new ServerHarness(o => o.IdleTimeout = TimeSpan.FromSeconds(10));
        using var idle = Exchange.Handshake(server, Peer(1), seed: 1);
        using var active = Exchange.Handshake(server, Peer(2), seed: 2);
        var idleSession = server.Handler.Established[0];
        var activeSession = server.Handler.Established[1];

        // Nine and a half seconds of silence: nobody is closed yet.
        for (var i = 0; i < 19; i++)
        {
            server.Advance(TimeSpan.FromMilliseconds(500));
            if (i % 6 == 5)
            {
                FlightSteps.AssertEcho(server, active, $"t{i}");
            }
        }
        Assert.Empty(server.Handler.Closed);
        Assert.Equal(2, server.Statistics.Sessions);

        // Past ten seconds the idle session goes; the one that spoke every three seconds stays.
        for (var i = 0; i < 6; i++)
        {
            server.Advance(TimeSpan.FromMilliseconds(500));
            if (i % 6 == 5)
            {
                FlightSteps.AssertEcho(server, active, $"u{i}");
            }
        }
        Assert.Equal([(idleSession, DtlsCloseReason.IdleTimeout)], server.Handler.Closed);
        Assert.False(idleSession.IsEstablished);
        Assert.True(activeSession.IsEstablished);
        Assert.Equal(1, server.Statistics.Sessions);
        Assert.Equal(0, server.Sender.Count); // an idle close sends nothing

        // Forgotten: the idle client's next record is a stranger's, answered by nobody.
        var delivered = server.Statistics.DatagramsDelivered;
        Assert.True(idle.Send("too late"));
        foreach (var (datagram, _) in idle.Sender.TakeAll())
        {
            server.Deliver(idle.Address, datagram);
        }
        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(delivered, server.Statistics.DatagramsDelivered);

        // Once the other one falls silent too, the table is empty.
        server.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal((activeSession, DtlsCloseReason.IdleTimeout), server.Handler.Closed[^1]);
        Assert.Equal(0, server.Statistics.Sessions);
        Assert.Equal(0, server.Statistics.HandshakesInProgress);
    }

    [Fact]
    public void Full_table_of_established_sessions_drops_a_new_cookie_valid_hello_and_takes_it_once_a_slot_frees()
    {
        using var server = new ServerHarness(o => o.MaxSessions = 2);
        using var a = Exchange.Handshake(server, Peer(1), seed: 1);
        using var b = Exchange.Handshake(server, Peer(2), seed: 2);
        using var late = new TestClient(server, Peer(3), seed: 3);
        late.Start();

        // The cookie exchange is stateless, so it is still answered…
        FlightSteps.Deliver(server, late, FlightSteps.Take(late));
        FlightSteps.DeliverToClient(server, late);
        var before = server.Statistics;

        // …but the cookie-valid ClientHello that would need a slot (cap + 1) is dropped: no handshake, no answer.
        FlightSteps.Deliver(server, late, FlightSteps.Take(late));
        var after = server.Statistics;
        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(before.HandshakesStarted, after.HandshakesStarted);
        Assert.Equal(before.RecordsDropped + 1, after.RecordsDropped);
        Assert.Equal(2, after.Sessions);
        Assert.Equal(0, after.HandshakesInProgress);
        Assert.Equal(2, server.Handler.Started.Count);
        Assert.Empty(server.Handler.Closed);
        FlightSteps.AssertEcho(server, a, "a untouched");
        FlightSteps.AssertEcho(server, b, "b untouched");

        // A freed slot takes the client's retransmitted ClientHello.
        server.Handler.Established[0].Close();
        server.Sender.TakeAll(); // a's close_notify
        server.Time.Advance(TimeSpan.FromSeconds(1));
        late.Tick();
        Exchange.Pump(server, late);
        Assert.True(late.Established);
        Assert.Equal(2, server.Statistics.Sessions);
        FlightSteps.AssertEcho(server, late, "in");
        FlightSteps.AssertEcho(server, b, "b still");
    }

    [Fact]
    public void When_half_open_handshakes_fill_the_table_the_oldest_one_is_evicted_never_an_established_session()
    {
        using var server = new ServerHarness(o => o.MaxSessions = 3);
        using var established = Exchange.Handshake(server, Peer(0), seed: 1);
        using var oldest = HalfOpen(server, 1, out var oldestFlight5);
        server.Advance(TimeSpan.FromMilliseconds(100));
        using var younger = HalfOpen(server, 2, out var youngerFlight5);
        var oldestSession = server.Handler.Started[1];
        Assert.Equal(3, server.Statistics.Sessions);
        Assert.Equal(2, server.Statistics.HandshakesInProgress);

        using var newcomer = Exchange.Handshake(server, Peer(3), seed: 3);

        Assert.Equal([(oldestSession, DtlsCloseReason.Evicted)], server.Handler.Closed);
        Assert.Equal(3, server.Statistics.Sessions);
        FlightSteps.AssertEcho(server, established, "never evicted");
        FlightSteps.AssertEcho(server, newcomer, "made room");

        // The younger half-open handshake kept its slot and finishes; the evicted one's flight 5 finds nothing.
        FlightSteps.AssertCompletes(server, younger, [.. youngerFlight5]);
        server.Sender.TakeAll();
        var before = server.Statistics;
        FlightSteps.Deliver(server, oldest, oldestFlight5);
        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(before.HandshakesCompleted, server.Statistics.HandshakesCompleted);
        Assert.Equal(3, server.Statistics.Sessions);
        Assert.Single(server.Handler.Closed);
    }

    [Fact]
    public void Newcomer_does_not_evict_a_rebooted_clients_handshake_when_that_frees_no_slot()
    {
        // The table is full of established sessions; one of them is being re-handshaken from its own address
        // (RFC 6347 §4.2.8). That new handshake occupies no slot of its own, so evicting it cannot make room.
        using var server = new ServerHarness(o => o.MaxSessions = 1);
        using var old = Exchange.Handshake(server, Peer(0), seed: 1);
        using var rebooted = new TestClient(server, Peer(0), seed: 2);
        var flight5 = FlightSteps.ToFlight5(server, rebooted);
        Assert.Equal(1, server.Statistics.HandshakesInProgress);

        using var stranger = new TestClient(server, Peer(1), seed: 3);
        stranger.Start();
        Exchange.Pump(server, stranger);

        Assert.False(stranger.Established);
        Assert.Empty(server.Handler.Closed);
        Assert.Equal(1, server.Statistics.HandshakesInProgress);
        FlightSteps.AssertCompletes(server, rebooted, [.. flight5]);
        Assert.Equal([(server.Handler.Established[0], DtlsCloseReason.Replaced)], server.Handler.Closed);
        Assert.Equal(1, server.Statistics.Sessions);
    }

    [Theory]
    [InlineData(4900, true)]
    [InlineData(5100, false)]
    public void HandshakeTimeout_runs_from_the_cookie_valid_hello_and_then_frees_the_handshake(int flight5AtMs, bool completes)
    {
        using var server = new ServerHarness(o => o.HandshakeTimeout = TimeSpan.FromSeconds(5));
        using var client = new TestClient(server, Peer(1), seed: 1);
        var flight5 = FlightSteps.ToFlight5(server, client);

        server.Advance(TimeSpan.FromMilliseconds(flight5AtMs));
        server.Sender.TakeAll(); // flight 4 retransmissions
        Assert.Equal(completes ? 1 : 0, server.Statistics.HandshakesInProgress);
        Assert.Equal(completes ? 1 : 0, server.Statistics.Sessions);
        FlightSteps.Deliver(server, client, flight5);

        if (completes)
        {
            FlightSteps.DeliverToClient(server, client);
            Assert.True(client.Established);
            Assert.Empty(server.Handler.Closed);
            FlightSteps.AssertEcho(server, client, "just in time");
        }
        else
        {
            Assert.Equal(0, server.Sender.Count);
            Assert.Equal((server.Handler.Started[0], DtlsCloseReason.HandshakeTimeout), Assert.Single(server.Handler.Closed));
            Assert.Equal(0, server.Statistics.HandshakesCompleted);
            // Nothing left to retransmit or to expire.
            server.Advance(TimeSpan.FromSeconds(60));
            Assert.Equal(0, server.Sender.Count);
            Assert.Single(server.Handler.Closed);
        }
    }

    [Fact]
    public void Idle_sessions_release_their_cipher_objects_and_recreate_them_on_the_next_record()
    {
        using var server = new ServerHarness(o => o.ReleaseIdleCiphersAfter = TimeSpan.FromSeconds(10));
        using var idle = Exchange.Handshake(server, Peer(1), seed: 1);
        using var active = Exchange.Handshake(server, Peer(2), seed: 2);

        // Twenty-five seconds: the active session speaks every 5 s, the idle one never.
        for (var i = 1; i <= 50; i++)
        {
            server.Advance(TimeSpan.FromMilliseconds(500));
            if (i % 10 == 0)
            {
                FlightSteps.AssertEcho(server, active, $"t{i}");
            }
        }

        // Both of the idle session's ciphers (read and write) went; none of the active one's.
        Assert.Equal(2, server.Statistics.CiphersReleased);
        Assert.Equal(2, server.Statistics.Sessions);
        // The idle session still works: its ciphers come back from the kept keys.
        FlightSteps.AssertEcho(server, idle, "after the pause");
    }

    [Fact]
    public void ReleaseIdleCiphersAfter_infinite_keeps_cipher_objects()
    {
        using var server = new ServerHarness(o => o.ReleaseIdleCiphersAfter = Timeout.InfiniteTimeSpan);
        using var idle = Exchange.Handshake(server, Peer(1), seed: 1);

        server.Advance(TimeSpan.FromSeconds(60));

        Assert.Equal(0, server.Statistics.CiphersReleased);
        FlightSteps.AssertEcho(server, idle, "still here");
    }
}
