using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using M = HotDtls.Diagnostics.MetricNames;

namespace HotDtls.Tests;

/// <summary>The socket-level server and client on loopback: start, echo, stop, errors a user can cause.</summary>
public sealed class DtlsServerTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private static readonly byte[] s_key = Convert.FromHexString("1a2b3c4d5e6f");

    private sealed class EventHandler : DtlsServerHandler
    {
        public TaskCompletionSource<DtlsSession> Established { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<DtlsCloseReason> Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ConcurrentQueue<string> Received { get; } = new();

        public override void OnSessionEstablished(DtlsSession session) => Established.TrySetResult(session);

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            Received.Enqueue(Encoding.UTF8.GetString(plaintext));
            session.Send(Encoding.UTF8.GetBytes($"to {session.RemoteEndPoint}: ACK"));
        }

        public override void OnSessionClosed(DtlsSession session, DtlsCloseReason reason) => Closed.TrySetResult(reason);
    }

    private static DtlsServerOptions ServerOptions(int port = 0) => new()
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, port),
        PskIdentityHint = "Qt DTLS example server",
        PskStore = PskStore.Single(s_key),
    };

    private static DtlsClientOptions ClientOptions() => new() { PskIdentity = "test client", PskKey = s_key };

    [Fact]
    public async Task Client_and_server_handshake_and_echo_over_loopback()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var handler = new EventHandler();
        await using var server = new DtlsServer(ServerOptions(), handler);
        await server.StartAsync(cts.Token);
        await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, ClientOptions(), cts.Token);

        var session = await handler.Established.Task.WaitAsync(cts.Token);
        Assert.Equal("test client", session.PskIdentity);
        Assert.Equal(client.LocalEndPoint, session.RemoteEndPoint);
        Assert.Equal("Qt DTLS example server", client.PskIdentityHint);
        Assert.True(client.IsEstablished);

        client.Send("Message #1"u8);
        var buffer = new byte[client.MaxReceiveSize];
        var length = await client.ReceiveAsync(buffer, cts.Token);
        Assert.Equal($"to {client.LocalEndPoint}: ACK", Encoding.UTF8.GetString(buffer, 0, length));
        Assert.Equal(["Message #1"], handler.Received);
    }

    [Fact]
    public async Task Clients_offering_Connection_ID_get_one_from_a_server_of_two_loops_and_echo_through_it()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var handler = new EventHandler();
        var options = ServerOptions();
        options.ReceiveLoops = 2;
        await using var server = new DtlsServer(options, handler);
        await server.StartAsync(cts.Token);
        if (OperatingSystem.IsLinux())
        {
            Assert.True(server.ConnectionIdSteeringAttached, $"loops {server.ReceiveLoops}");
        }

        for (var i = 0; i < 6; i++)
        {
            var clientOptions = ClientOptions();
            clientOptions.ConnectionIdLength = 0;
            await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, clientOptions, cts.Token);
            Assert.True(client.UsesConnectionId);
            client.Send("over CID"u8);
            var buffer = new byte[client.MaxReceiveSize];
            var length = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal($"to {client.LocalEndPoint}: ACK", Encoding.UTF8.GetString(buffer, 0, length));
            if (i == 0)
            {
                var session = await handler.Established.Task.WaitAsync(cts.Token);
                Assert.True(session.UsesConnectionId);
            }
        }
    }

    [Theory]
    [InlineData(6, true)]
    [InlineData(0, false)] // The extension is answered, but the client's records carry no CID: nothing to follow.
    [InlineData(null, false)] // The extension is ignored.
    public async Task A_client_uses_a_Connection_ID_only_when_the_server_issues_a_non_empty_one(int? serverCidLength,
        bool expected)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var handler = new EventHandler();
        var options = ServerOptions();
        options.ConnectionIdLength = serverCidLength;
        await using var server = new DtlsServer(options, handler);
        await server.StartAsync(cts.Token);
        var clientOptions = ClientOptions();
        clientOptions.ConnectionIdLength = 0;

        await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, clientOptions, cts.Token);
        var session = await handler.Established.Task.WaitAsync(cts.Token);

        Assert.Equal(expected, client.UsesConnectionId);
        Assert.Equal(expected, session.UsesConnectionId);
    }

    [Fact]
    public async Task StopAsync_sends_close_notify_that_the_client_reports()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var handler = new EventHandler();
        var server = new DtlsServer(ServerOptions(), handler);
        await server.StartAsync(cts.Token);
        await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, ClientOptions(), cts.Token);
        await handler.Established.Task.WaitAsync(cts.Token);

        await server.StopAsync(cts.Token);

        var error = await Assert.ThrowsAsync<DtlsException>(async () => await client.ReceiveAsync(new byte[100], cts.Token));
        Assert.Contains("close_notify", error.Message);
        Assert.False(client.IsEstablished);
        Assert.Equal(DtlsCloseReason.LocalClose, await handler.Closed.Task.WaitAsync(cts.Token));
    }

    [Fact]
    public async Task Disposing_the_client_sends_close_notify_and_the_server_forgets_the_peer()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var handler = new EventHandler();
        await using var server = new DtlsServer(ServerOptions(), handler);
        await server.StartAsync(cts.Token);
        var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, ClientOptions(), cts.Token);
        await handler.Established.Task.WaitAsync(cts.Token);

        await client.DisposeAsync();

        Assert.Equal(DtlsCloseReason.PeerClosed, await handler.Closed.Task.WaitAsync(cts.Token));
        Assert.Equal(0, server.Statistics.Sessions);
        await Assert.ThrowsAsync<DtlsException>(() => client.SendAsync("late"u8.ToArray()).AsTask());
    }

    [Fact]
    public async Task Starting_on_a_port_in_use_says_so()
    {
        using var occupier = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        occupier.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)occupier.LocalEndPoint!).Port;
        await using var server = new DtlsServer(ServerOptions(port), new EventHandler());

        var error = await Assert.ThrowsAsync<DtlsException>(() => server.StartAsync());
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("already in use", error.Message);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(1, 4)]
    [InlineData(4, 1)]
    public async Task A_second_server_on_a_taken_port_fails_to_start_and_the_first_keeps_every_peer(int firstLoops, int secondLoops)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var firstOptions = ServerOptions();
        firstOptions.ReceiveLoops = firstLoops;
        var handler = new EventHandler();
        await using var first = new DtlsServer(firstOptions, handler);
        await first.StartAsync(cts.Token);
        var port = first.LocalEndPoint.Port;

        var secondOptions = ServerOptions(port);
        secondOptions.ReceiveLoops = secondLoops;
        await using var second = new DtlsServer(secondOptions, new EventHandler());
        var error = await Assert.ThrowsAsync<DtlsException>(() => second.StartAsync(cts.Token));
        Assert.Equal(DtlsExceptionReason.AddressInUse, error.Reason);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("already in use", error.Message);

        // Nothing of the second server joined the port: a client still reaches the first.
        await using var client = await DtlsClient.ConnectAsync(first.LocalEndPoint, ClientOptions(), cts.Token);
        await handler.Established.Task.WaitAsync(cts.Token);
        Assert.Equal(1, first.Statistics.HandshakesCompleted);
    }

    [Fact]
    public async Task A_port_held_by_another_programs_SO_REUSEPORT_socket_is_refused_whatever_the_loops()
    {
        // What a careless or hostile process of the same user could hold: with SO_REUSEPORT the kernel would let our
        // reuse-port sockets join it and hand it a share of the peers.
        using var occupier = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        occupier.SetRawSocketOption(1, 15, BitConverter.GetBytes(1));
        occupier.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)occupier.LocalEndPoint!).Port;
        foreach (var loops in new[] { 1, 2, 3 })
        {
            var options = ServerOptions(port);
            options.ReceiveLoops = loops;
            await using var server = new DtlsServer(options, new EventHandler());
            var error = await Assert.ThrowsAsync<DtlsException>(() => server.StartAsync());
            Assert.Equal(DtlsExceptionReason.AddressInUse, error.Reason);
        }
    }

    [Fact]
    public async Task A_port_is_free_again_once_its_server_has_stopped()
    {
        var options = ServerOptions();
        options.ReceiveLoops = 2;
        var first = new DtlsServer(options, new EventHandler());
        await first.StartAsync();
        var port = first.LocalEndPoint.Port;
        await first.StopAsync();

        var again = ServerOptions(port);
        again.ReceiveLoops = 2;
        await using var second = new DtlsServer(again, new EventHandler());
        await second.StartAsync();
        Assert.Equal(port, second.LocalEndPoint.Port);
        Assert.Equal(second.ReceiveLoops, second.RunningLoops);
    }

    [Fact]
    public async Task Server_can_be_started_only_once_and_LocalEndPoint_needs_a_start()
    {
        await using var server = new DtlsServer(ServerOptions(), new EventHandler());
        Assert.Throws<InvalidOperationException>(() => server.LocalEndPoint);
        await server.StartAsync();
        Assert.NotEqual(0, server.LocalEndPoint.Port);
        await Assert.ThrowsAsync<InvalidOperationException>(() => server.StartAsync());
    }

    [Fact]
    public async Task RunningLoops_counts_every_loop_while_started_and_none_before_or_after()
    {
        var options = ServerOptions();
        options.ReceiveLoops = 2;
        var server = new DtlsServer(options, new EventHandler());
        Assert.Equal(0, server.RunningLoops);

        await server.StartAsync();
        Assert.Equal(server.ReceiveLoops, server.RunningLoops);
        Assert.True(server.RunningLoops >= 1);

        await server.StopAsync();
        Assert.Equal(0, server.RunningLoops);
    }

    [Fact]
    public async Task Server_on_IPv6_loopback_serves_an_IPv6_client()
    {
        if (!Socket.OSSupportsIPv6)
        {
            return;
        }
        using var cts = new CancellationTokenSource(s_timeout);
        var options = ServerOptions();
        options.EndPoint = new IPEndPoint(IPAddress.IPv6Loopback, 0);
        var handler = new EventHandler();
        await using var server = new DtlsServer(options, handler);
        await server.StartAsync(cts.Token);
        await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, ClientOptions(), cts.Token);
        client.Send("v6"u8);
        var buffer = new byte[200];
        var length = await client.ReceiveAsync(buffer, cts.Token);
        Assert.StartsWith("to [::1]:", Encoding.UTF8.GetString(buffer, 0, length));
    }

    [Fact]
    public void Options_errors_say_what_to_fix()
    {
        var noEndPoint = new DtlsServerOptions { PskStore = PskStore.Single([1]) };
        Assert.Contains("EndPoint is required", Assert.Throws<ArgumentException>(() => new DtlsServer(noEndPoint, new EventHandler())).Message);

        var noStore = new DtlsServerOptions { EndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        Assert.Contains("PskStore", Assert.Throws<ArgumentException>(() => new DtlsServer(noStore, new EventHandler())).Message);

        var tinyMtu = ServerOptions();
        tinyMtu.Mtu = 100;
        Assert.Contains("Mtu", Assert.Throws<ArgumentOutOfRangeException>(() => new DtlsServer(tinyMtu, new EventHandler())).Message);

        var noSuites = ServerOptions();
        noSuites.CipherSuites.Clear();
        Assert.Contains("CipherSuites", Assert.Throws<ArgumentException>(() => new DtlsServer(noSuites, new EventHandler())).Message);

        Assert.Contains("PskKey", Assert.Throws<ArgumentException>(() =>
            DtlsClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, 1), new DtlsClientOptions()).GetAwaiter().GetResult()).Message);
    }

    [Fact]
    public async Task Oversized_datagram_is_refused_with_a_clear_message()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var handler = new EventHandler();
        await using var server = new DtlsServer(ServerOptions(), handler);
        await server.StartAsync(cts.Token);
        await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, ClientOptions(), cts.Token);
        var error = Assert.Throws<ArgumentException>(() => client.Send(new byte[client.MaxSendSize + 1]));
        Assert.Contains("16384", error.Message);
    }

    [Fact]
    public async Task Connect_can_be_cancelled()
    {
        using var cts = new CancellationTokenSource();
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var connect = DtlsClient.ConnectAsync((IPEndPoint)silent.LocalEndPoint!, ClientOptions(), cts.Token);
        // The ClientHello reaching the silent socket proves the handshake is under way before it is cancelled.
        await silent.ReceiveAsync(new byte[2048], SocketFlags.None);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => connect);
    }

    [Fact]
    public async Task Client_sends_from_its_LocalEndPoint_and_a_later_client_can_reuse_it()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var handler = new EventHandler();
        await using var server = new DtlsServer(ServerOptions(), handler);
        await server.StartAsync(cts.Token);
        var options = ClientOptions();
        // Any 127/8 address is local on Linux; 127.0.0.1 keeps the test portable.
        options.LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 0);
        var first = await DtlsClient.ConnectAsync(server.LocalEndPoint, options, cts.Token);
        var session = await handler.Established.Task.WaitAsync(cts.Token);
        Assert.Equal(first.LocalEndPoint, session.RemoteEndPoint);
        var local = first.LocalEndPoint;
        await first.DisposeAsync();
        Assert.Equal(DtlsCloseReason.PeerClosed, await handler.Closed.Task.WaitAsync(cts.Token));

        options.LocalEndPoint = local;
        await using var second = await DtlsClient.ConnectAsync(server.LocalEndPoint, options, cts.Token);

        Assert.Equal(local, second.LocalEndPoint);
        second.Send("again"u8);
        var buffer = new byte[200];
        var length = await second.ReceiveAsync(buffer, cts.Token);
        Assert.Equal($"to {local}: ACK", Encoding.UTF8.GetString(buffer, 0, length));
    }

    [Fact]
    public async Task A_LocalEndPoint_in_use_or_of_the_wrong_family_is_refused_with_a_clear_message()
    {
        using var occupier = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        occupier.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var server = new IPEndPoint(IPAddress.Loopback, 1);
        var options = ClientOptions();
        options.LocalEndPoint = (IPEndPoint)occupier.LocalEndPoint!;

        var inUse = await Assert.ThrowsAsync<DtlsException>(() => DtlsClient.ConnectAsync(server, options));
        Assert.Contains($"LocalEndPoint {occupier.LocalEndPoint}", inUse.Message);
        Assert.Contains("in use", inUse.Message);

        options.LocalEndPoint = new IPEndPoint(IPAddress.IPv6Loopback, 0);
        var family = await Assert.ThrowsAsync<ArgumentException>(() => DtlsClient.ConnectAsync(server, options));
        Assert.Contains("LocalEndPoint", family.Message);
        Assert.Contains("one family", family.Message);
    }

    [Fact]
    public async Task A_client_resumes_a_saved_session_over_loopback()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var options = ServerOptions();
        options.EnableSessionResumption = true;
        await using var server = new DtlsServer(options, new EventHandler());
        await server.StartAsync(cts.Token);
        DtlsSavedSession saved;
        await using (var first = await DtlsClient.ConnectAsync(server.LocalEndPoint, ClientOptions(), cts.Token))
        {
            Assert.False(first.IsResumed);
            saved = Assert.IsType<DtlsSavedSession>(first.SaveSession());
        }

        using (saved)
        {
            var resuming = ClientOptions();
            resuming.Session = saved;
            await using var second = await DtlsClient.ConnectAsync(server.LocalEndPoint, resuming, cts.Token);

            Assert.True(second.IsResumed);
            second.Send("resumed"u8);
            var buffer = new byte[second.MaxReceiveSize];
            var length = await second.ReceiveAsync(buffer, cts.Token);
            Assert.Equal($"to {second.LocalEndPoint}: ACK", Encoding.UTF8.GetString(buffer, 0, length));
        }
        Assert.Equal(1, server.Statistics.HandshakesResumed);
    }

    private sealed class TestMeterFactory : System.Diagnostics.Metrics.IMeterFactory
    {
        public List<System.Diagnostics.Metrics.Meter> Meters { get; } = [];

        public System.Diagnostics.Metrics.Meter Create(System.Diagnostics.Metrics.MeterOptions options)
        {
            var meter = new System.Diagnostics.Metrics.Meter(options);
            Meters.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in Meters)
            {
                meter.Dispose();
            }
        }
    }

    [Fact]
    public async Task The_meter_comes_from_the_given_factory_tags_the_bound_port_and_reports_nothing_once_stopped()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        using var factory = new TestMeterFactory();
        var options = ServerOptions();
        options.MeterFactory = factory;
        options.ReceiveLoops = 2;
        var handler = new EventHandler();
        var server = new DtlsServer(options, handler);
        await server.StartAsync(cts.Token);
        var meter = Assert.Single(factory.Meters);
        Assert.Equal("HotDtls", meter.Name);
        using var recorder = new Support.MetricRecorder(meter);

        await using (var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, ClientOptions(), cts.Token))
        {
            // The server's handler hears of the session after the handshake's end was recorded, under the same lock.
            await handler.Established.Task.WaitAsync(cts.Token);
            var completed = Assert.Single(recorder.Of(M.CompletedHandshakes));
            Assert.Equal(server.LocalEndPoint.Port, completed[M.ServerPortTag]);
            Assert.Equal(1, recorder.Observed(M.ActiveSessions));
            Assert.Equal(server.Statistics.DatagramsReceived,
                recorder.Observed(M.Datagrams, M.DirectionTag, M.Receive));
        }
        await server.DisposeAsync();

        // The factory's meter outlives the server: its callbacks must neither throw nor report the stopped server.
        Assert.Empty(recorder.Observe(M.ActiveSessions));
        Assert.Empty(recorder.Observe(M.DroppedRecords));
    }
}
