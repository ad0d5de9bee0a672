using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>
/// The impairment relay itself: its seeded decisions (<see cref="DatagramFateDecider"/>) and what it does to real
/// datagrams on loopback — drop, duplicate, reorder, delay, MTU — checked by counters and by what arrives. Tests
/// wait only for datagrams to arrive (with a timeout), never for time to pass.
/// </summary>
public sealed class RelayTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    // Stopwatch and System.Threading.Timer are different clocks: the timer runs on the coarse millisecond tick and
    // was seen firing 3.9 ms early in Stopwatch terms on a loaded CI machine (150 ms hold, released after 146.1 ms).
    // The tests prove that datagrams are held or delayed by the timer, not its precision: a tenth of the wait is slack.
    private static readonly TimeSpan s_clockSlack = TimeSpan.FromMilliseconds(15);

    [Fact]
    public void Same_seed_gives_the_same_fates_and_another_seed_does_not()
    {
        var options = new LossyUdpRelayOptions
        {
            DropProbability = 0.3, DuplicateProbability = 0.2, ReorderProbability = 0.2,
            Delay = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(20),
        };
        var a = Fates(new DatagramFateDecider(options, 42), 200);
        var b = Fates(new DatagramFateDecider(options, 42), 200);
        var c = Fates(new DatagramFateDecider(options, 43), 200);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Without_jitter_the_fates_are_the_three_draws_the_relay_always_made()
    {
        // Seeds picked for the lossy tests before delays existed must keep their drop/duplicate/reorder sequence.
        var options = new LossyUdpRelayOptions { DropProbability = 0.2, DuplicateProbability = 0.2, ReorderProbability = 0.2 };
        var decider = new DatagramFateDecider(options, 6347);
        var random = new Random(6347);
        for (var i = 0; i < 100; i++)
        {
            var fate = decider.Next(100);
            Assert.Equal(random.NextDouble() < 0.2, fate.Drop);
            Assert.Equal(random.NextDouble() < 0.2, fate.Duplicate);
            Assert.Equal(random.NextDouble() < 0.2, fate.Reorder);
            Assert.Equal(TimeSpan.Zero, fate.Delay);
        }
    }

    [Fact]
    public void Rates_match_the_probabilities_and_jitter_stays_within_its_bounds()
    {
        var options = new LossyUdpRelayOptions
        {
            DropProbability = 0.3, DuplicateProbability = 0.1, ReorderProbability = 0.2,
            Delay = TimeSpan.FromMilliseconds(50), Jitter = TimeSpan.FromMilliseconds(20),
        };
        var fates = Fates(new DatagramFateDecider(options, 7), 20_000);
        Assert.InRange(fates.Count(f => f.Drop) / 20_000.0, 0.28, 0.32);
        Assert.InRange(fates.Count(f => f.Duplicate) / 20_000.0, 0.09, 0.11);
        Assert.InRange(fates.Count(f => f.Reorder) / 20_000.0, 0.19, 0.21);
        Assert.All(fates, f => Assert.InRange(f.Delay, TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(70)));
        Assert.InRange(fates.Average(f => f.Delay.TotalMilliseconds), 49, 51);
        Assert.True(fates.Min(f => f.Delay) < TimeSpan.FromMilliseconds(32) && fates.Max(f => f.Delay) > TimeSpan.FromMilliseconds(68),
            "jitter should cover its whole range");
    }

    [Fact]
    public void Jitter_larger_than_the_delay_never_gives_a_negative_delay()
    {
        var options = new LossyUdpRelayOptions { Delay = TimeSpan.FromMilliseconds(5), Jitter = TimeSpan.FromMilliseconds(20) };
        var fates = Fates(new DatagramFateDecider(options, 3), 1000);
        Assert.All(fates, f => Assert.InRange(f.Delay, TimeSpan.Zero, TimeSpan.FromMilliseconds(25)));
        Assert.Contains(fates, f => f.Delay == TimeSpan.Zero);
    }

    [Fact]
    public void Datagrams_above_the_size_limit_are_too_large_not_dropped()
    {
        var options = new LossyUdpRelayOptions { DropProbability = 1, MaxDatagramSize = 256 };
        var decider = new DatagramFateDecider(options, 1);
        var big = decider.Next(257);
        Assert.True(big.TooLarge);
        Assert.False(big.Drop);
        var fits = decider.Next(256);
        Assert.False(fits.TooLarge);
        Assert.True(fits.Drop);
    }

    [Theory]
    [InlineData(-0.1, 0, 0)]
    [InlineData(0, 1.5, 0)]
    [InlineData(0, 0, double.NaN)]
    public void Probabilities_outside_0_to_1_are_refused(double drop, double duplicate, double reorder)
    {
        var options = new LossyUdpRelayOptions { DropProbability = drop, DuplicateProbability = duplicate, ReorderProbability = reorder };
        Assert.Throws<ArgumentOutOfRangeException>(() => new DatagramFateDecider(options, 1));
    }

    [Fact]
    public async Task Drops_exactly_the_datagrams_the_seed_says_and_counts_them()
    {
        var options = new LossyUdpRelayOptions { DropProbability = 0.4, Seed = 11 };
        // Predict the fates; send until at least 20 were sent and the last one survives, so its arrival proves
        // that every earlier datagram has been decided.
        var decider = new DatagramFateDecider(options, options.Seed);
        var survivors = new List<int>();
        var dropped = 0;
        var count = 0;
        while (count < 20 || survivors[^1] != count - 1)
        {
            if (decider.Next(Payload(count).Length).Drop)
            {
                dropped++;
            }
            else
            {
                survivors.Add(count);
            }
            count++;
        }
        Assert.True(dropped > 0);

        await using var net = Loopback.Start(options);
        for (var i = 0; i < count; i++)
        {
            net.ClientSend(Payload(i));
        }

        foreach (var expected in survivors)
        {
            Assert.Equal(expected, Index(await net.ServerReceiveAsync()));
        }
        Assert.Equal(count, net.Relay.ClientToServer.Received);
        Assert.Equal(dropped, net.Relay.ClientToServer.Dropped);
        Assert.Equal(survivors.Count, net.Relay.ClientToServer.Forwarded);
        Assert.Equal(0, net.Relay.ClientToServer.TooLarge);
    }

    [Fact]
    public async Task Duplicates_arrive_twice_and_are_counted_once_as_forwarded()
    {
        await using var net = Loopback.Start(new LossyUdpRelayOptions { DuplicateProbability = 1 });
        for (var i = 0; i < 5; i++)
        {
            net.ClientSend(Payload(i));
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(i, Index(await net.ServerReceiveAsync()));
            Assert.Equal(i, Index(await net.ServerReceiveAsync()));
        }
        Assert.Equal(5, net.Relay.ClientToServer.Forwarded);
        Assert.Equal(5, net.Relay.ClientToServer.Duplicated);
    }

    [Fact]
    public async Task A_held_datagram_goes_after_the_next_one_or_after_the_hold_time()
    {
        var hold = TimeSpan.FromMilliseconds(150);
        await using var net = Loopback.Start(new LossyUdpRelayOptions { ReorderProbability = 1, MaxHoldTime = hold });
        net.ClientSend(Payload(0));
        net.ClientSend(Payload(1));
        Assert.Equal(1, Index(await net.ServerReceiveAsync()));
        Assert.Equal(0, Index(await net.ServerReceiveAsync()));
        Assert.Equal(1, net.Relay.ClientToServer.Reordered);

        // Alone, a held datagram is released by the hold timer: late, not lost.
        var sent = Stopwatch.GetTimestamp();
        net.ClientSend(Payload(2));
        Assert.Equal(2, Index(await net.ServerReceiveAsync()));
        Assert.True(Stopwatch.GetElapsedTime(sent) >= hold - s_clockSlack, $"released after {Stopwatch.GetElapsedTime(sent)}");
        Assert.Equal(2, net.Relay.ClientToServer.Reordered);
        Assert.Equal(3, net.Relay.ClientToServer.Forwarded);
    }

    [Fact]
    public async Task A_fixed_delay_holds_every_datagram_that_long_and_keeps_their_order()
    {
        var delay = TimeSpan.FromMilliseconds(80);
        await using var net = Loopback.Start(new LossyUdpRelayOptions { Delay = delay });
        var sent = Stopwatch.GetTimestamp();
        for (var i = 0; i < 10; i++)
        {
            net.ClientSend(Payload(i));
        }

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(i, Index(await net.ServerReceiveAsync()));
            if (i == 0)
            {
                Assert.True(Stopwatch.GetElapsedTime(sent) >= delay - s_clockSlack, $"arrived after {Stopwatch.GetElapsedTime(sent)}");
            }
        }
        Assert.Equal(10, net.Relay.ClientToServer.Delayed);
        Assert.Equal(10, net.Relay.ClientToServer.Forwarded);

        // The other direction is delayed too.
        var replied = Stopwatch.GetTimestamp();
        await net.ServerSendAsync(Payload(100));
        Assert.Equal(100, Index(await net.ClientReceiveAsync()));
        Assert.True(Stopwatch.GetElapsedTime(replied) >= delay - s_clockSlack, $"arrived after {Stopwatch.GetElapsedTime(replied)}");
        Assert.Equal(1, net.Relay.ServerToClient.Delayed);
    }

    [Fact]
    public async Task Each_datagram_waits_at_least_its_own_jittered_delay()
    {
        var options = new LossyUdpRelayOptions { Delay = TimeSpan.FromMilliseconds(60), Jitter = TimeSpan.FromMilliseconds(50), Seed = 5 };
        var decider = new DatagramFateDecider(options, options.Seed);
        var delays = Enumerable.Range(0, 12).Select(i => decider.Next(Payload(i).Length).Delay).ToArray();
        Assert.True(delays.Max() - delays.Min() > TimeSpan.FromMilliseconds(40), "the seed should spread the delays");

        await using var net = Loopback.Start(options);
        var sentAt = new long[delays.Length];
        for (var i = 0; i < delays.Length; i++)
        {
            sentAt[i] = Stopwatch.GetTimestamp();
            net.ClientSend(Payload(i));
        }

        var arrived = new List<int>();
        for (var n = 0; n < delays.Length; n++)
        {
            var i = Index(await net.ServerReceiveAsync());
            var waited = Stopwatch.GetElapsedTime(sentAt[i]);
            Assert.True(waited >= delays[i] - s_clockSlack, $"datagram {i}: drawn delay {delays[i]}, arrived after {waited}");
            arrived.Add(i);
        }
        Assert.Equal(Enumerable.Range(0, delays.Length), arrived.Order());
        Assert.NotEqual(Enumerable.Range(0, delays.Length), arrived); // Jitter this wide reorders.
        Assert.Equal(delays.Length, net.Relay.ClientToServer.Delayed);
    }

    [Fact]
    public async Task Datagrams_above_the_size_limit_are_dropped_both_ways_and_counted_apart()
    {
        await using var net = Loopback.Start(new LossyUdpRelayOptions { MaxDatagramSize = 256 });
        net.ClientSend(Payload(0, 300));
        net.ClientSend(Payload(1, 257));
        net.ClientSend(Payload(2, 256));
        var arrived = await net.ServerReceiveAsync();
        Assert.Equal((2, 256), (Index(arrived), arrived.Length));
        Assert.Equal(2, net.Relay.ClientToServer.TooLarge);
        Assert.Equal(0, net.Relay.ClientToServer.Dropped);
        Assert.Equal(1, net.Relay.ClientToServer.Forwarded);

        await net.ServerSendAsync(Payload(3, 1200));
        await net.ServerSendAsync(Payload(4, 200));
        arrived = await net.ClientReceiveAsync();
        Assert.Equal((4, 200), (Index(arrived), arrived.Length));
        Assert.Equal(1, net.Relay.ServerToClient.TooLarge);
    }

    [Fact]
    public async Task A_rebinding_moves_the_client_to_a_new_port_and_the_server_s_replies_there_come_back()
    {
        var lost = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var net = Loopback.Start(new LossyUdpRelayOptions
        {
            Trace = line => { if (line.Contains("LOST", StringComparison.Ordinal)) { lost.TrySetResult(line); } },
        });
        var first = net.Relay.Upstream;
        for (var i = 0; i < 3; i++)
        {
            net.ClientSend(Payload(i, 40));
            var (datagram, from) = await net.ServerReceiveFromAsync();
            Assert.Equal((i, first.EndPoint), (Index(datagram), from));
            await net.ServerSendToAsync(Payload(i, 120), from); // Echo, three times the size, to the address it came from.
            Assert.Equal(i, Index(await net.ClientReceiveAsync()));
        }
        Assert.False(net.Relay.Rebound.IsCompleted);

        var second = net.Relay.Rebind();
        Assert.NotEqual(first.EndPoint, second.EndPoint);
        Assert.Same(second, await net.Relay.Rebound);
        Assert.Same(second, net.Relay.Upstream);
        Assert.True(first.IsRetired && !second.IsRetired);
        for (var i = 3; i < 5; i++)
        {
            net.ClientSend(Payload(i, 40));
            var (datagram, from) = await net.ServerReceiveFromAsync();
            Assert.Equal((i, second.EndPoint), (Index(datagram), from));
            await net.ServerSendToAsync(Payload(i, 120), from);
            Assert.Equal(i, Index(await net.ClientReceiveAsync()));
        }

        // A server that has not noticed the change answers the old address: that mapping is gone.
        await net.ServerSendToAsync(Payload(99, 120), first.EndPoint);
        Assert.Contains(first.EndPoint.ToString(), await lost.Task.WaitAsync(s_timeout), StringComparison.Ordinal);

        Assert.Equal([first, second], net.Relay.Upstreams);
        Assert.Equal((3, 120L, 4, 480L, 1, 120L), Counts(first));
        Assert.Equal((2, 80L, 2, 240L, 0, 0L), Counts(second));
        Assert.Equal(5, net.Relay.ClientToServer.Forwarded);
        Assert.Equal(5, net.Relay.ServerToClient.Received); // The lost one never reached the lossy path.
        Assert.Equal(5, net.Relay.ServerToClient.Forwarded);
    }

    [Fact]
    public async Task A_rebinding_after_n_client_datagrams_happens_exactly_before_datagram_n()
    {
        await using var net = Loopback.Start(new LossyUdpRelayOptions { RebindAfterClientDatagrams = 3 });
        var first = net.Relay.Upstream;
        for (var i = 0; i < 6; i++)
        {
            net.ClientSend(Payload(i));
        }

        var second = await net.Relay.Rebound.WaitAsync(s_timeout);
        for (var i = 0; i < 6; i++)
        {
            // One relay loop sends them in order, and loopback keeps the order of one receiving socket.
            var (datagram, from) = await net.ServerReceiveFromAsync();
            Assert.Equal((i, i < 3 ? first.EndPoint : second.EndPoint), (Index(datagram), from));
        }
        Assert.Equal(3, first.DatagramsToServer);
        Assert.Equal(3, second.DatagramsToServer);
        Assert.Equal(2, net.Relay.Upstreams.Count); // Once, not at every later datagram.

        await net.ServerSendToAsync(Payload(6), second.EndPoint);
        Assert.Equal(6, Index(await net.ClientReceiveAsync()));
        Assert.Equal(1, second.DatagramsFromServer);
    }

    [Fact]
    public async Task Where_the_nat_keeps_the_old_mapping_the_old_address_still_reaches_the_client()
    {
        await using var net = Loopback.Start(new LossyUdpRelayOptions { OldAddressKeepsWorking = true });
        net.ClientSend(Payload(0));
        var (_, old) = await net.ServerReceiveFromAsync();
        var second = net.Relay.Rebind();
        net.ClientSend(Payload(1));
        var (_, current) = await net.ServerReceiveFromAsync();
        Assert.Equal(second.EndPoint, current);

        await net.ServerSendToAsync(Payload(2), old);
        Assert.Equal(2, Index(await net.ClientReceiveAsync()));
        await net.ServerSendToAsync(Payload(3), current);
        Assert.Equal(3, Index(await net.ClientReceiveAsync()));
        var first = net.Relay.Upstreams[0];
        Assert.Equal((1, 0), (first.DatagramsFromServer, first.LostAfterRetired));
        Assert.Equal(1, second.DatagramsFromServer);
    }

    [Fact]
    public async Task Each_rebinding_gets_a_new_address_and_a_disposed_relay_refuses_one()
    {
        var net = Loopback.Start(new LossyUdpRelayOptions());
        var addresses = new HashSet<IPEndPoint> { net.Relay.Upstream.EndPoint };
        for (var i = 1; i <= 3; i++)
        {
            var upstream = net.Relay.Rebind();
            Assert.Equal(i, upstream.Index);
            Assert.True(addresses.Add(upstream.EndPoint), $"rebinding {i} reused {upstream.EndPoint}");
            net.ClientSend(Payload(i));
            Assert.Equal(upstream.EndPoint, (await net.ServerReceiveFromAsync()).From);
        }
        await net.DisposeAsync();
        Assert.Throws<ObjectDisposedException>(() => net.Relay.Rebind());
    }

    [Fact]
    public void A_rebinding_point_below_one_is_refused()
    {
        var options = new LossyUdpRelayOptions { RebindAfterClientDatagrams = 0 };
        Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
    }

    private static (int, long, int, long, int, long) Counts(RelayUpstreamStats stats) =>
        (stats.DatagramsToServer, stats.BytesToServer, stats.DatagramsFromServer, stats.BytesFromServer,
            stats.LostAfterRetired, stats.BytesLostAfterRetired);

    private static List<DatagramFate> Fates(DatagramFateDecider decider, int count)
    {
        var fates = new List<DatagramFate>(count);
        for (var i = 0; i < count; i++)
        {
            fates.Add(decider.Next(100));
        }
        return fates;
    }

    private static byte[] Payload(int index, int length = 32)
    {
        var payload = new byte[length];
        BinaryPrimitives.WriteInt32BigEndian(payload, index);
        return payload;
    }

    private static int Index(byte[] datagram) => BinaryPrimitives.ReadInt32BigEndian(datagram);

    /// <summary>A client socket → relay → server socket on loopback.</summary>
    private sealed class Loopback : IAsyncDisposable
    {
        private readonly Socket _client;
        private readonly Socket _server;
        private EndPoint? _relayServerSide;

        private Loopback(Socket client, Socket server, LossyUdpRelay relay)
        {
            _client = client;
            _server = server;
            Relay = relay;
        }

        public LossyUdpRelay Relay { get; }

        public static Loopback Start(LossyUdpRelayOptions options)
        {
            var server = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            server.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            var relay = new LossyUdpRelay((IPEndPoint)server.LocalEndPoint!, options);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            client.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            client.Connect(relay.EndPoint);
            return new Loopback(client, server, relay);
        }

        public void ClientSend(byte[] datagram) => _client.Send(datagram);

        public async Task<byte[]> ServerReceiveAsync()
        {
            using var cts = new CancellationTokenSource(s_timeout);
            var buffer = new byte[ushort.MaxValue];
            var result = await _server.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            _relayServerSide = result.RemoteEndPoint;
            return buffer.AsSpan(0, result.ReceivedBytes).ToArray();
        }

        /// <summary>The next datagram at the server and the address it came from (the relay's current upstream).</summary>
        public async Task<(byte[] Datagram, IPEndPoint From)> ServerReceiveFromAsync()
        {
            using var cts = new CancellationTokenSource(s_timeout);
            var buffer = new byte[ushort.MaxValue];
            var result = await _server.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cts.Token);
            _relayServerSide = result.RemoteEndPoint;
            return (buffer.AsSpan(0, result.ReceivedBytes).ToArray(), (IPEndPoint)result.RemoteEndPoint);
        }

        /// <summary>Sends from the server to <paramref name="to"/>, as a server answering the address a record came from.</summary>
        public async Task ServerSendToAsync(byte[] datagram, EndPoint to) => await _server.SendToAsync(datagram, SocketFlags.None, to);

        /// <summary>Sends to the relay's server-side socket; the client must have sent first (the relay learns it so).</summary>
        public async Task ServerSendAsync(byte[] datagram)
        {
            var relay = _relayServerSide ?? throw new InvalidOperationException("Receive one datagram on the server before replying.");
            await _server.SendToAsync(datagram, SocketFlags.None, relay);
        }

        public async Task<byte[]> ClientReceiveAsync()
        {
            using var cts = new CancellationTokenSource(s_timeout);
            var buffer = new byte[ushort.MaxValue];
            var received = await _client.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            return buffer.AsSpan(0, received).ToArray();
        }

        public async ValueTask DisposeAsync()
        {
            await Relay.DisposeAsync();
            _client.Dispose();
            _server.Dispose();
        }
    }
}
