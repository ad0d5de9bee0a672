using System.Net;
using System.Text;

namespace HotDtls.Tests.Server;

/// <summary>Receive loops on real sockets: several SO_REUSEPORT loops, both receive strategies, stopping.</summary>
public sealed class ServerLoopTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly byte[] s_key = Convert.FromHexString("1a2b3c4d5e6f");

    private sealed class EchoHandler : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
            => session.Send(plaintext);
    }

    private static DtlsServerOptions Options(int loops, DtlsReceiveStrategy strategy) => new()
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        PskStore = PskStore.Single(s_key),
        ReceiveLoops = loops,
        ReceiveStrategy = strategy,
    };

    private static async Task EchoAsync(DtlsClient client, string text, CancellationToken token)
    {
        client.Send(Encoding.UTF8.GetBytes(text));
        var buffer = new byte[2048];
        var length = await client.ReceiveAsync(buffer, token);
        Assert.Equal(text, Encoding.UTF8.GetString(buffer, 0, length));
    }

    [Fact]
    public async Task Several_loops_share_one_port_and_the_kernel_spreads_peers_over_them()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = new DtlsServer(Options(4, DtlsReceiveStrategy.BlockingThread), new EchoHandler());
        await server.StartAsync(cts.Token);
        // SO_REUSEPORT loops are Linux-only; elsewhere one loop runs and the spreading checks below are moot.
        Assert.Equal(OperatingSystem.IsLinux() ? 4 : 1, server.ReceiveLoops);

        var clients = new List<DtlsClient>();
        try
        {
            for (var i = 0; i < 16; i++)
            {
                var client = await DtlsClient.ConnectAsync(server.LocalEndPoint,
                    new DtlsClientOptions { PskIdentity = $"client {i}", PskKey = s_key }, cts.Token);
                clients.Add(client);
                await EchoAsync(client, $"ping from {i}", cts.Token);
            }

            var total = server.Statistics;
            Assert.Equal(16, total.HandshakesCompleted);
            Assert.Equal(16, total.Sessions);
            Assert.Equal(16, total.DatagramsDelivered);
            var perLoop = server.StatisticsPerLoop();
            Assert.Equal(16, perLoop.Sum(s => s.Sessions));
            // 16 peers hashed over 4 sockets all landing on one: probability 4 × 4^-16.
            Assert.True(perLoop.Count(s => s.Sessions > 0) >= Math.Min(2, perLoop.Length), string.Join(", ", perLoop.Select(s => s.Sessions)));
            // Each peer's whole conversation stays on its loop: every loop that started handshakes finished them.
            Assert.All(perLoop, s => Assert.Equal(s.HandshakesStarted, s.HandshakesCompleted));
        }
        finally
        {
            foreach (var client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(DtlsReceiveStrategy.Async, 1)]
    [InlineData(DtlsReceiveStrategy.Async, 2)]
    [InlineData(DtlsReceiveStrategy.BlockingThread, 1)]
    [InlineData(DtlsReceiveStrategy.Batched, 1)]
    [InlineData(DtlsReceiveStrategy.Batched, 2)]
    public async Task Each_receive_strategy_serves_and_stops_with_close_notify(DtlsReceiveStrategy strategy, int loops)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var server = new DtlsServer(Options(loops, strategy), new EchoHandler());
        await server.StartAsync(cts.Token);
        // Batched falls back to a blocking thread only where the C library lacks recvmmsg.
        Assert.Equal(strategy == DtlsReceiveStrategy.Batched && !OperatingSystem.IsLinux() ? DtlsReceiveStrategy.BlockingThread : strategy,
            server.ReceiveStrategy);
        await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint,
            new DtlsClientOptions { PskIdentity = "strategy", PskKey = s_key }, cts.Token);
        await EchoAsync(client, $"{strategy} with {loops}", cts.Token);
        await EchoAsync(client, "a second datagram", cts.Token);

        await server.StopAsync(cts.Token);

        var error = await Assert.ThrowsAsync<DtlsException>(async () => await client.ReceiveAsync(new byte[100], cts.Token));
        Assert.Contains("close_notify", error.Message);
    }

    [Fact]
    public async Task The_batched_loop_drops_empty_and_junk_datagrams_and_keeps_serving_the_session()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = new DtlsServer(Options(1, DtlsReceiveStrategy.Batched), new EchoHandler());
        await server.StartAsync(cts.Token);
        await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint,
            new DtlsClientOptions { PskIdentity = "junk", PskKey = s_key }, cts.Token);
        var before = server.Statistics;

        using (var stranger = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp))
        {
            stranger.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            stranger.SendTo([], server.LocalEndPoint);
            stranger.SendTo(new byte[] { 0x17, 0xfe, 0xfd, 0x00, 0x01, 0xff }, server.LocalEndPoint); // truncated record
            stranger.SendTo(new byte[1500], server.LocalEndPoint); // zeros: content type 0
        }
        await EchoAsync(client, "still here", cts.Token);

        var after = server.Statistics;
        // The echo's datagram arrived after the junk on the same socket: all three were read and none made state.
        Assert.True(after.DatagramsReceived - before.DatagramsReceived >= 4);
        Assert.Equal(before.HandshakesStarted, after.HandshakesStarted);
        Assert.Equal(1, after.Sessions);
    }

    [Fact]
    public async Task A_port_in_use_is_reported_even_with_several_loops()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        using var occupier = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork,
            System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        occupier.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var options = Options(3, DtlsReceiveStrategy.BlockingThread);
        options.EndPoint = (IPEndPoint)occupier.LocalEndPoint!;
        await using var server = new DtlsServer(options, new EchoHandler());

        var error = await Assert.ThrowsAsync<DtlsException>(() => server.StartAsync(cts.Token));

        Assert.Contains("already in use", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void ReceiveLoops_out_of_range_is_refused_with_advice(int loops)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new DtlsServer(Options(loops, DtlsReceiveStrategy.Async), new EchoHandler()));
        Assert.Contains("one per processor", error.Message);
    }

    [Fact]
    public void Defaults_are_one_batched_loop_per_processor()
    {
        var options = new DtlsServerOptions();
        Assert.Equal(Environment.ProcessorCount, options.ReceiveLoops);
        Assert.Equal(DtlsReceiveStrategy.Batched, options.ReceiveStrategy);
    }
}
