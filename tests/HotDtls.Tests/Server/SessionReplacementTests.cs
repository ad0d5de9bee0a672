using System.Net;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

/// <summary>
/// RFC 6347 §4.2.8: a client that reboots comes back from the same address and port with a new handshake. The old
/// association must keep working until the new handshake completes (the new ClientHello proves nothing until then);
/// only a completed handshake replaces it. Both clients share one address here, so every step routes the server's
/// datagrams by hand to the client they are meant for.
/// </summary>
public sealed class SessionReplacementTests
{
    private static readonly IPEndPoint s_address = new(IPAddress.Loopback, 41000);

    /// <summary>Delivers what <paramref name="client"/> has sent; returns what the server sent back to the shared address.</summary>
    private static List<byte[]> Step(ServerHarness server, TestClient client)
    {
        foreach (var (datagram, _) in client.Sender.TakeAll())
        {
            server.Deliver(client.Address, datagram);
        }
        return server.Sender.TakeFor(client.Address);
    }

    /// <summary>The old client sends <paramref name="text"/> and gets exactly one datagram back: its ACK.</summary>
    private static void AssertAnswers(ServerHarness server, TestClient client, string text)
    {
        Assert.Equal(0, server.Sender.Count);
        var before = client.Received.Count;
        Assert.True(client.Send(text));
        var reply = Assert.Single(Step(server, client));
        client.Deliver(reply);
        Assert.Equal(before + 1, client.Received.Count);
        Assert.Equal($"to {client.EndPoint}: ACK", client.Received[^1]);
        Assert.Equal(text, server.Handler.TextsFrom(client.EndPoint).Last());
    }

    /// <summary>Runs a new client's cookie exchange and flight 3; returns flight 4 (not yet delivered to it).</summary>
    private static List<byte[]> ToFlight4(ServerHarness server, TestClient client)
    {
        client.Start();
        var verify = Assert.Single(Step(server, client));
        Assert.NotNull(Wire.CookieOf(verify));
        client.Deliver(verify);
        var flight4 = Step(server, client);
        Assert.NotEmpty(flight4);
        return flight4;
    }

    private static void Deliver(TestClient client, List<byte[]> datagrams) => datagrams.ForEach(client.Deliver);

    [Fact]
    public void Old_session_answers_throughout_a_rebooted_clients_handshake_and_is_replaced_when_it_completes()
    {
        using var server = new ServerHarness();
        using var old = Exchange.Handshake(server, s_address, seed: 7);
        var oldSession = Assert.Single(server.Handler.Established);
        using var rebooted = new TestClient(server, s_address, seed: 8);

        rebooted.Start();
        var verify = Assert.Single(Step(server, rebooted));
        AssertAnswers(server, old, "during the cookie exchange");
        rebooted.Deliver(verify);

        var flight4 = Step(server, rebooted);
        Assert.NotEmpty(flight4);
        var stats = server.Statistics;
        Assert.Equal(2, stats.HandshakesStarted);
        Assert.Equal(1, stats.HandshakesInProgress);
        Assert.Equal(1, stats.Sessions);
        Assert.Empty(server.Handler.Closed);
        AssertAnswers(server, old, "while flight 4 is out");

        Deliver(rebooted, flight4);
        Assert.Equal(0, server.Sender.Count);
        AssertAnswers(server, old, "while flight 5 is on its way");
        Assert.True(oldSession.IsEstablished);

        var flight6 = Step(server, rebooted);
        Assert.NotEmpty(flight6);
        var (closedSession, reason) = Assert.Single(server.Handler.Closed);
        Assert.Same(oldSession, closedSession);
        Assert.Equal(DtlsCloseReason.Replaced, reason);
        Assert.False(oldSession.IsEstablished);
        Assert.False(oldSession.TrySend([1, 2, 3]));
        stats = server.Statistics;
        Assert.Equal(1, stats.Sessions);
        Assert.Equal(0, stats.HandshakesInProgress);
        Assert.Equal(2, stats.HandshakesCompleted);

        Deliver(rebooted, flight6);
        Assert.True(rebooted.Established);
        AssertAnswers(server, rebooted, "the new session");

        // The old keys are gone: what the old client still sends authenticates with nothing and gets no answer.
        var delivered = server.Statistics.DatagramsDelivered;
        Assert.True(old.Send("ghost"));
        Assert.Empty(Step(server, old));
        Assert.Equal(delivered, server.Statistics.DatagramsDelivered);
        Assert.Single(server.Handler.Closed);
        AssertAnswers(server, rebooted, "still the new session");
    }

    [Fact]
    public void Abandoned_new_handshake_leaves_the_old_session_working_and_times_out_alone()
    {
        using var server = new ServerHarness();
        using var old = Exchange.Handshake(server, s_address, seed: 7);
        var oldSession = Assert.Single(server.Handler.Established);
        using var abandoned = new TestClient(server, s_address, seed: 8);
        // The new client answers flight 4, but its flight 5 is lost until after the deadline.
        Deliver(abandoned, ToFlight4(server, abandoned));
        var lateFlight5 = abandoned.Sender.TakeAll();
        Assert.NotEmpty(lateFlight5);
        var successor = server.Handler.Started[^1];
        Assert.NotSame(oldSession, successor);

        // The server repeats it to the address until the handshake deadline;
        // the old client, chatting every 5 s, is answered every time.
        var retransmissions = 0;
        var deadline = server.Options.HandshakeTimeout + TimeSpan.FromSeconds(5);
        for (var elapsed = TimeSpan.Zero; elapsed < deadline; elapsed += TimeSpan.FromSeconds(5))
        {
            server.Advance(TimeSpan.FromSeconds(5));
            foreach (var datagram in server.Sender.TakeFor(abandoned.Address))
            {
                Assert.All(Wire.Records(datagram), r => Assert.Equal((ContentType.Handshake, (ushort)0), (r.Header.Type, r.Header.Epoch)));
                retransmissions++;
            }
            AssertAnswers(server, old, $"at {elapsed + TimeSpan.FromSeconds(5)}");
        }

        Assert.InRange(retransmissions, 1, 10);
        var (closedSession, reason) = Assert.Single(server.Handler.Closed);
        Assert.Same(successor, closedSession);
        Assert.Equal(DtlsCloseReason.HandshakeTimeout, reason);
        Assert.True(oldSession.IsEstablished);
        var stats = server.Statistics;
        Assert.Equal(1, stats.Sessions);
        Assert.Equal(0, stats.HandshakesInProgress);
        Assert.Equal(1, stats.HandshakesFailed);

        // The abandoned client's late flight 5 finds nothing: the old session neither takes it nor breaks.
        var delivered = server.Statistics.DatagramsDelivered;
        lateFlight5.ForEach(d => server.Deliver(abandoned.Address, d.Datagram));
        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(delivered, server.Statistics.DatagramsDelivered);
        Assert.Single(server.Handler.Closed);
        AssertAnswers(server, old, "after the successor timed out");

        // The address can still be taken over by a handshake that does finish.
        using var rebooted = new TestClient(server, s_address, seed: 9);
        Deliver(rebooted, ToFlight4(server, rebooted));
        Deliver(rebooted, Step(server, rebooted));
        Assert.True(rebooted.Established);
        Assert.Equal((oldSession, DtlsCloseReason.Replaced), server.Handler.Closed[^1]);
        AssertAnswers(server, rebooted, "replaced at last");
    }

    [Fact]
    public void New_handshake_replaces_an_unfinished_one_from_the_same_address()
    {
        using var server = new ServerHarness();
        using var first = new TestClient(server, s_address, seed: 7);
        Deliver(first, ToFlight4(server, first));
        var firstSession = Assert.Single(server.Handler.Started);
        Assert.Equal(0, server.Sender.Count);

        using var second = new TestClient(server, s_address, seed: 8);
        second.Start();
        var verify = Assert.Single(Step(server, second));
        Assert.Empty(server.Handler.Closed); // a cookieless hello changes nothing
        second.Deliver(verify);
        var flight4 = Step(server, second);
        Assert.NotEmpty(flight4);

        var (closedSession, reason) = Assert.Single(server.Handler.Closed);
        Assert.Same(firstSession, closedSession);
        Assert.Equal(DtlsCloseReason.Replaced, reason);
        var stats = server.Statistics;
        Assert.Equal(1, stats.Sessions);
        Assert.Equal(1, stats.HandshakesInProgress);

        Deliver(second, flight4);
        Deliver(second, Step(server, second));
        Assert.True(second.Established);
        Assert.Single(server.Handler.Established);
        AssertAnswers(server, second, "the second handshake");

        // The first client's flight 5, arriving late, is a stranger's: nothing answers it, the new session stays.
        Assert.NotEqual(0, first.Sender.Count);
        Assert.Empty(Step(server, first));
        Assert.Single(server.Handler.Closed);
        Assert.Equal(1, server.Statistics.Sessions);
        AssertAnswers(server, second, "undisturbed");
    }

    [Fact]
    public void Second_reboot_replaces_the_first_new_handshake_and_the_old_session_lasts_until_one_completes()
    {
        using var server = new ServerHarness();
        using var old = Exchange.Handshake(server, s_address, seed: 7);
        var oldSession = Assert.Single(server.Handler.Established);

        using var firstReboot = new TestClient(server, s_address, seed: 8);
        Assert.NotEmpty(ToFlight4(server, firstReboot));
        var firstSuccessor = server.Handler.Started[^1];
        AssertAnswers(server, old, "one successor running");

        using var secondReboot = new TestClient(server, s_address, seed: 9);
        var flight4 = ToFlight4(server, secondReboot);
        var (closedSession, reason) = Assert.Single(server.Handler.Closed);
        Assert.Same(firstSuccessor, closedSession);
        Assert.Equal(DtlsCloseReason.Replaced, reason);
        Assert.Equal(1, server.Statistics.HandshakesInProgress);
        Assert.Equal(1, server.Statistics.Sessions);
        AssertAnswers(server, old, "the second successor running");

        Deliver(secondReboot, flight4);
        Deliver(secondReboot, Step(server, secondReboot));
        Assert.True(secondReboot.Established);
        Assert.Equal([(firstSuccessor, DtlsCloseReason.Replaced), (oldSession, DtlsCloseReason.Replaced)], server.Handler.Closed);
        Assert.Equal(1, server.Statistics.Sessions);
        AssertAnswers(server, secondReboot, "the survivor");
    }
}
