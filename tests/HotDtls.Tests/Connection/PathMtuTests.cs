using System.Net;
using HotDtls.Client;
using HotDtls.Handshake;
using HotDtls.Server;
using HotDtls.Tests.Support;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;

namespace HotDtls.Tests.Connection;

/// <summary>
/// RFC 6347 §4.1.1.1 in both roles: a handshake flight retransmitted without an answer steps down
/// <see cref="PathMtuLadder"/> (Mtu → 1200 → 548) from its second retransmission on, and a send the socket refuses with
/// EMSGSIZE steps down at once and is sent again; each step is logged once (event ids 40 and 41) and the handshake
/// completes in the smaller datagrams.
/// </summary>
public sealed class PathMtuTests
{
    private static readonly IPEndPoint s_client = new(IPAddress.Loopback, 44000);

    /// <summary>A sender that refuses (and reports, as EMSGSIZE) every datagram above <paramref name="largest"/> bytes.</summary>
    private sealed class RefusingSender(int largest) : IDatagramSender, IDatagramSendFeedback
    {
        private bool _tooLarge;

        public List<(byte[] Datagram, SocketAddress Peer)> Sent { get; } = [];

        public List<int> Refused { get; } = [];

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
        {
            if (datagram.Length > largest)
            {
                Refused.Add(datagram.Length);
                _tooLarge = true;
                return;
            }
            Sent.Add((datagram.ToArray(), peer));
        }

        public bool TakeMessageTooLarge()
        {
            var value = _tooLarge;
            _tooLarge = false;
            return value;
        }

        public List<byte[]> Take()
        {
            var taken = Sent.Select(s => s.Datagram).ToList();
            Sent.Clear();
            return taken;
        }
    }

    private sealed class EventIdLogger : ILogger
    {
        public List<(int Id, LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Entries.Add((eventId.Id, logLevel, formatter(state, exception)));
    }

    private sealed class Events : IClientEvents
    {
        public bool Established { get; private set; }

        public void OnEstablished() => Established = true;

        public void OnApplicationData(ReadOnlySpan<byte> plaintext)
        {
        }

        public void OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
        {
        }

        public void OnDropped(DropReason reason)
        {
        }
    }

    /// <summary>A server engine with its own sender and a logger, on the harness's options, handler and clock.</summary>
    private sealed class LoggedServer : IDisposable
    {
        public LoggedServer(ServerHarness harness, int largestDatagram)
        {
            Harness = harness;
            Sender = new RefusingSender(largestDatagram);
            Engine = new ServerEngine(harness.Options, harness.Handler, Sender, Log, new SeededRandom(3));
        }

        public ServerHarness Harness { get; }
        public RefusingSender Sender { get; }
        public EventIdLogger Log { get; } = new();
        public ServerEngine Engine { get; }

        public void Deliver(SocketAddress from, byte[] datagram) => Engine.ProcessDatagram(from, (byte[])datagram.Clone());

        public void Advance(TimeSpan by)
        {
            for (var elapsed = TimeSpan.Zero; elapsed < by; elapsed += ServerEngine.TickInterval)
            {
                Harness.Time.Advance(ServerEngine.TickInterval);
                Engine.OnTick();
            }
        }

        public void Dispose() => Engine.Dispose();
    }

    /// <summary>Moves datagrams between a test client and the logged server until both are quiet; <paramref name="dropToClient"/> loses server datagrams.</summary>
    private static List<byte[]> Pump(LoggedServer server, TestClient client, Func<byte[], bool>? dropToClient = null)
    {
        var toClient = new List<byte[]>();
        for (var round = 0; round < 100; round++)
        {
            var up = client.Sender.TakeAll();
            var down = server.Sender.Take();
            if (up.Count == 0 && down.Count == 0)
            {
                return toClient;
            }
            foreach (var (datagram, _) in up)
            {
                server.Deliver(client.Address, datagram);
            }
            foreach (var datagram in down)
            {
                toClient.Add(datagram);
                if (dropToClient is null || !dropToClient(datagram))
                {
                    client.Deliver(datagram);
                }
            }
        }
        throw new InvalidOperationException("The exchange did not settle.");
    }

    [Theory]
    [InlineData(1200, 548)]
    [InlineData(1201, 1200)]
    [InlineData(1400, 1200)]
    [InlineData(65507, 1200)]
    [InlineData(549, 548)]
    [InlineData(548, 548)]
    [InlineData(256, 256)]
    public void The_ladder_steps_to_1200_then_548_and_never_below_a_configured_smaller_mtu(int current, int next)
        => Assert.Equal(next, PathMtuLadder.Next(current));

    [Fact]
    public void Server_flight_4_shrinks_from_its_second_unanswered_retransmission_and_the_handshake_then_completes()
    {
        using var harness = new ServerHarness(o =>
        {
            o.Mtu = 1400;
            o.PskIdentityHint = new string('h', 3000);
        });
        using var server = new LoggedServer(harness, int.MaxValue);
        using var client = new TestClient(harness, s_client);
        client.Start();

        // Flight 4 is lost every time; the HelloVerifyRequest gets through.
        var first = Pump(server, client, d => Wire.CookieOf(d) is null);
        var sizes = new List<int> { first.Skip(1).Max(d => d.Length) };
        List<byte[]> resent = [];
        foreach (var wait in new[] { 1, 2, 4, 8 })
        {
            server.Advance(TimeSpan.FromSeconds(wait));
            resent = server.Sender.Take();
            Assert.NotEmpty(resent);
            sizes.Add(resent.Max(d => d.Length));
        }

        // Sent, 1st retransmission at the configured 1400; 2nd at 1200; 3rd and 4th at 548.
        Assert.InRange(sizes[0], 1201, 1400);
        Assert.InRange(sizes[1], 1201, 1400);
        Assert.InRange(sizes[2], 549, 1200);
        Assert.InRange(sizes[3], 400, 548);
        Assert.InRange(sizes[4], 400, 548);
        Assert.Equal([(40, LogLevel.Information), (40, LogLevel.Information)],
            server.Log.Entries.Where(e => e.Id is 40 or 41).Select(e => (e.Id, e.Level)));
        Assert.Contains("1200", server.Log.Entries.First(e => e.Id == 40).Message, StringComparison.Ordinal);

        // The path lets 548-byte datagrams through: the last retransmission arrives and the handshake finishes.
        foreach (var datagram in resent)
        {
            client.Deliver(datagram);
        }
        Pump(server, client);
        Assert.True(client.Established);
        Assert.Single(harness.Handler.Established);
    }

    [Fact]
    public void Server_steps_down_at_once_when_the_socket_refuses_a_datagram_as_too_large()
    {
        using var harness = new ServerHarness(o =>
        {
            o.Mtu = 1400;
            o.PskIdentityHint = new string('h', 3000);
        });
        using var server = new LoggedServer(harness, largestDatagram: 600);
        using var client = new TestClient(harness, s_client);
        client.Start();

        var toClient = Pump(server, client);

        // No timer ran: the refusals alone brought flight 4 down to 548 (1400 → 1200 → 548), and the handshake finished.
        Assert.True(client.Established);
        Assert.NotEmpty(server.Sender.Refused);
        Assert.All(toClient, d => Assert.InRange(d.Length, 0, 600));
        Assert.Equal([41, 41], server.Log.Entries.Where(e => e.Id is 40 or 41).Select(e => e.Id));
        Assert.All(server.Log.Entries.Where(e => e.Id == 41), e => Assert.Equal(LogLevel.Warning, e.Level));
    }

    private static DtlsClientOptions BigFlight5(ServerHarness server)
    {
        var options = TestClient.PlainPskOptions(server);
        options.Mtu = 1400;
        options.PskIdentity = new string('i', 3000);
        return options;
    }

    [Fact]
    public void Client_flight_5_shrinks_from_its_second_unanswered_retransmission()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_client, BigFlight5(server));
        client.Start();
        var flight5 = new List<byte[]>();
        Exchange.Pump(server, client, (d, up) =>
        {
            if (up && d.Length > 1000)
            {
                flight5.Add(d);
                return [];
            }
            return [d];
        });
        var sizes = new List<int> { flight5.Max(d => d.Length) };
        foreach (var wait in new[] { 1, 2, 4 })
        {
            server.Time.Advance(TimeSpan.FromSeconds(wait));
            client.Tick();
            sizes.Add(client.Sender.TakeAll().Max(d => d.Datagram.Length));
        }

        Assert.InRange(sizes[0], 1201, 1400);
        Assert.InRange(sizes[1], 1201, 1400);
        Assert.InRange(sizes[2], 549, 1200);
        Assert.InRange(sizes[3], 400, 548);
        Assert.Equal(2, client.Engine.PathMtuReductions);
        Assert.Equal(548, client.Engine.ReducedPathMtu);
        // The stepped size lives in the handshake state, which an established session gives back.
        server.Time.Advance(TimeSpan.FromSeconds(8));
        client.Tick();
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Assert.True(client.Connection.HandshakeStateReleased);
    }

    [Fact]
    public void Client_steps_down_at_once_when_its_send_is_refused_with_EMSGSIZE()
    {
        using var server = new ServerHarness();
        var sender = new RefusingSender(600);
        var events = new Events();
        var options = BigFlight5(server);
        options.ValidateClient();
        using var engine = new ClientEngine(options, server.Address, sender, events, new SeededRandom(11));
        var address = s_client.Serialize();

        engine.Start();
        for (var round = 0; round < 20 && !events.Established; round++)
        {
            foreach (var datagram in sender.Take())
            {
                server.Deliver(address, datagram);
            }
            foreach (var datagram in server.Sender.TakeFor(address))
            {
                engine.ProcessDatagram((byte[])datagram.Clone());
            }
        }

        Assert.True(events.Established);
        Assert.NotEmpty(sender.Refused);
        Assert.Equal(2, engine.PathMtuReductions);
        Assert.Equal(548, engine.ReducedPathMtu);
    }
}
