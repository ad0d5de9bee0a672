using System.Collections.Concurrent;
using System.Net;
using System.Text;
using HotDtls.Interop.Tests.Peers;
using Xunit.Abstractions;

namespace HotDtls.Interop.Tests;

/// <summary>
/// NAT rebinding mid-session: the lossy relay changes the port the server sees the client at (<see cref="LossyUdpRelay.Rebind"/>)
/// while datagrams flow, to a HotDtls server of two receive loops (so the kernel may hash the new port to the loop that
/// does not own the session: the CID steering program or the hand-off between loops must bring it home). With a
/// Connection ID (RFC 9146 §6) the session carries on; without one the server sees a stranger.
/// </summary>
/// <remarks>
/// Requests are <see cref="RequestBytes"/> bytes, answered by a short ack naming the address the server sent it to.
/// Requests starting with 'B' ask for <see cref="BigReplyBytes"/> instead, more than the server may send to an
/// address that has not proven itself (RFC 9146 §6: no more bytes than it received from there). The figures each test
/// writes are the counters its assertions bound.
/// </remarks>
public sealed class NatRebindingTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(5);

    // A request's plaintext. Its record (≈ 144 bytes with a 6-byte CID and AES-GCM) must pay, on its own, for the
    // path_challenge (≈ 47) and the ack (≈ 63) the server sends to the new address before that address has answered:
    // with requests much under ≈ 70 bytes the first ack after a move does not fit the bound and is withheld.
    private const int RequestBytes = 100;

    // Above what the new address has paid for by the time the big requests arrive (≈ 81 per exchange before, 144 per
    // big request), below the 1200-byte MTU.
    private const int BigReplyBytes = 900;

    private const CipherSuite Suite = CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;

    [Fact]
    public async Task HotDtls_client_with_CID_carries_on_across_a_rebinding_and_proves_its_new_address()
    {
        const int before = 10, after = 10;
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await RebindingServer.StartAsync(cts.Token);
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions());
        await using var client = await DtlsClient.ConnectAsync(relay.EndPoint, ClientOptions(connectionIdLength: 0), cts.Token);
        Assert.True(client.UsesConnectionId);
        var session = await server.Handler.Established.Task.WaitAsync(cts.Token);
        Assert.True(session.UsesConnectionId);

        var first = relay.Upstream;
        var handshake = (first.DatagramsToServer, first.DatagramsFromServer);
        for (var i = 0; i < before; i++)
        {
            await ExchangeAsync(client, Request(i), Ack(i, first.EndPoint), relay, cts.Token);
        }
        var second = relay.Rebind();
        for (var i = before; i < before + after; i++)
        {
            // Every datagram after the change reaches the handler and its ack reaches the client, from the first on.
            await ExchangeAsync(client, Request(i), Ack(i, second.EndPoint), relay, cts.Token);
        }
        // The path_challenge was answered, so the bound is lifted: a reply bigger than the request goes out.
        var big = before + after;
        await ExchangeAsync(client, Request(big, big: true), BigReply(big), relay, cts.Token);

        var stats = server.Server.Statistics;
        Report(server, relay, stats);
        Assert.Equal(Enumerable.Range(0, big + 1).Select(i => $"{i:D2}"), server.Handler.Received);
        AssertTheOwningLoopHadEverything(server);
        Assert.Equal(1, stats.PeerAddressChanges);
        Assert.Equal(1, stats.PeerAddressesProven);
        Assert.Equal(0, stats.PeerAddressChangesRefused);
        Assert.Equal(second.EndPoint, session.RemoteEndPoint);
        // After the move nothing more went to the old address; the new one carried the requests and the path_response,
        // and got the replies and the path_challenge.
        Assert.Equal((handshake.DatagramsToServer + before, handshake.DatagramsFromServer + before),
            (first.DatagramsToServer, first.DatagramsFromServer));
        Assert.Equal(0, first.LostAfterRetired);
        Assert.Equal((after + 1 + 1, after + 1 + 1), (second.DatagramsToServer, second.DatagramsFromServer));
    }

    [Fact]
    public async Task HotDtls_client_without_CID_is_a_stranger_after_a_rebinding()
    {
        const int before = 5, after = 5;
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await RebindingServer.StartAsync(cts.Token);
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions());
        await using var client = await DtlsClient.ConnectAsync(relay.EndPoint, ClientOptions(connectionIdLength: null), cts.Token);
        Assert.False(client.UsesConnectionId);
        var session = await server.Handler.Established.Task.WaitAsync(cts.Token);
        Assert.False(session.UsesConnectionId);

        var first = relay.Upstream;
        for (var i = 0; i < before; i++)
        {
            await ExchangeAsync(client, Request(i), Ack(i, first.EndPoint), relay, cts.Token);
        }
        var atChange = server.Server.Statistics;
        var second = relay.Rebind();
        for (var i = before; i < before + after; i++)
        {
            client.Send(Request(i));
        }
        // The server has read every datagram sent from the new address once its receive count says so.
        await Conditions.WaitUntilAsync(() => server.Server.Statistics.DatagramsReceived >= atChange.DatagramsReceived + after,
            () => $"the server to receive the {after} datagrams from the new address; {relay}", cts.Token);

        var stats = server.Server.Statistics;
        Report(server, relay, stats);
        Assert.Equal(after, second.DatagramsToServer);
        Assert.Equal(Enumerable.Range(0, before).Select(i => $"{i:D2}"), server.Handler.Received);
        Assert.Equal(atChange.DatagramsDelivered, stats.DatagramsDelivered);
        Assert.Equal(atChange.DatagramsSent, stats.DatagramsSent); // Not a byte to the stranger, nor to the old address.
        Assert.Equal(0, stats.PeerAddressChanges);
        Assert.Equal(first.EndPoint, session.RemoteEndPoint);
    }

    [Fact]
    public async Task BouncyCastle_client_with_CID_carries_on_and_its_unproven_address_gets_no_more_than_it_sent()
    {
        const int before = 5, after = 4, bigAfter = 2;
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await RebindingServer.StartAsync(cts.Token);
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions());
        // BouncyCastle offers an empty CID of its own and does not offer draft-ietf-tls-dtls-rrc, so the server cannot
        // prove the new address: the bound stays for the rest of the session.
        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(relay.EndPoint, [Suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = [] }, cancellationToken: cts.Token);
        Assert.NotNull(client.ConnectionId);
        var session = await server.Handler.Established.Task.WaitAsync(cts.Token);
        Assert.True(session.UsesConnectionId);

        var first = relay.Upstream;
        var n = 0;
        for (; n < before; n++)
        {
            await ExchangeAsync(client, Request(n), Ack(n, first.EndPoint), relay, cts.Token);
        }
        // At the address of the handshake a big reply goes out: what holds it back later is the move alone.
        await ExchangeAsync(client, Request(n, big: true), BigReply(n), relay, cts.Token);
        n++;

        var second = relay.Rebind();
        var firstAfter = n;
        for (var end = n + after; n < end; n++)
        {
            await ExchangeAsync(client, Request(n), Ack(n, second.EndPoint), relay, cts.Token);
            AssertBounded(second);
        }
        // The big replies would exceed what the new address has sent: the server withholds them.
        var withheld = n;
        for (var end = n + bigAfter; n < end; n++)
        {
            client.Send(Request(n, big: true));
        }
        // Order is kept on this path, so had a big reply gone out it would arrive before this ack.
        await ExchangeAsync(client, Request(n), Ack(n, second.EndPoint), relay, cts.Token);
        AssertBounded(second);
        n++;

        var stats = server.Server.Statistics;
        Report(server, relay, stats);
        Assert.Equal(Enumerable.Range(0, n).Select(i => $"{i:D2}"), server.Handler.Received);
        Assert.Equal(n - firstAfter, second.DatagramsToServer);
        Assert.Equal(n - firstAfter - bigAfter, second.DatagramsFromServer);
        Assert.True(second.BytesToServer - second.BytesFromServer < Record(BigReplyBytes),
            $"the test's premise: a big reply does not fit in what the new address paid for; {second}");
        AssertTheOwningLoopHadEverything(server);
        Assert.Equal(1, stats.PeerAddressChanges);
        Assert.Equal(0, stats.PeerAddressesProven);
        Assert.Equal(second.EndPoint, session.RemoteEndPoint);
        output.WriteLine($"big replies withheld at the new address: {bigAfter} (requests {withheld}..{withheld + bigAfter - 1})");
    }

    /// <summary>
    /// The loop that owns the session read every datagram of it, whichever loop the kernel's hash picks for the new
    /// address: the steering program sends tls12_cid records to the loop their CID names, and where it is not attached a
    /// loop hands them over before counting them.
    /// </summary>
    private static void AssertTheOwningLoopHadEverything(RebindingServer server)
    {
        var perLoop = server.Server.StatisticsPerLoop().Select(l => l.DatagramsReceived).ToArray();
        Assert.True(perLoop.Sum() == perLoop.Max(), $"datagrams per loop: {string.Join(" + ", perLoop)}");
    }

    /// <summary>RFC 9146 §6: what the server sent to the unproven address never exceeds what it received from there.</summary>
    private static void AssertBounded(RelayUpstreamStats upstream) =>
        Assert.True(upstream.BytesFromServer <= upstream.BytesToServer, $"amplification bound broken: {upstream}");

    // An AES-128-GCM record to the client (no CID: the clients here ask for an empty one): header, explicit nonce, tag.
    private static int Record(int plaintext) => 13 + 8 + plaintext + 16;

    private void Report(RebindingServer server, LossyUdpRelay relay, DtlsServerStatistics stats)
    {
        var upstreams = relay.Upstreams;
        var received = server.Handler.Received.Count;
        output.WriteLine($"receive loops {server.Server.ReceiveLoops}, CID steering attached: {server.Server.ConnectionIdSteeringAttached}, "
            + $"datagrams handed between loops: {server.HandedOff}, datagrams received per loop: "
            + string.Join(" + ", server.Server.StatisticsPerLoop().Select(l => l.DatagramsReceived)));
        output.WriteLine($"delivered to the handler: {received} (from the first address {upstreams[0].DatagramsToServer} sent, "
            + $"from the new address {(upstreams.Count > 1 ? upstreams[1].DatagramsToServer : 0)} sent)");
        foreach (var upstream in upstreams)
        {
            output.WriteLine($"address #{upstream.Index} {upstream.EndPoint}: received from it {upstream.DatagramsToServer} datagrams/"
                + $"{upstream.BytesToServer} B, sent to it {upstream.DatagramsFromServer}/{upstream.BytesFromServer} B");
        }
        output.WriteLine($"server: delivered {stats.DatagramsDelivered}, peer address changes {stats.PeerAddressChanges}, "
            + $"proven {stats.PeerAddressesProven}, refused {stats.PeerAddressChangesRefused}, unknown CID records {stats.UnknownConnectionIdRecords}");
    }

    private static DtlsClientOptions ClientOptions(int? connectionIdLength)
    {
        var options = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
            ConnectionIdLength = connectionIdLength,
        };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(Suite);
        return options;
    }

    private static byte[] Request(int n, bool big = false) =>
        Encoding.ASCII.GetBytes($"{(big ? 'B' : '#')}{n:D2} ".PadRight(RequestBytes, '.'));

    private static string Ack(int n, IPEndPoint to) => $"ack {n:D2} to {to}";

    private static string BigReply(int n) => $"big {n:D2} ".PadRight(BigReplyBytes, '.');

    private static async Task ExchangeAsync(DtlsClient client, byte[] request, string expected, LossyUdpRelay relay,
        CancellationToken cancellationToken)
    {
        client.Send(request);
        var buffer = new byte[client.MaxReceiveSize];
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(s_replyTimeout);
        int length;
        try
        {
            length = await client.ReceiveAsync(buffer, wait.Token);
        }
        catch (OperationCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"no reply to {Encoding.ASCII.GetString(request, 0, 4)}; {relay}");
        }
        Assert.Equal(expected, Encoding.UTF8.GetString(buffer, 0, length));
    }

    private static async Task ExchangeAsync(BouncyCastleDtlsClientPeer client, byte[] request, string expected,
        LossyUdpRelay relay, CancellationToken cancellationToken)
    {
        client.Send(request);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(s_replyTimeout);
        try
        {
            Assert.Equal(expected, await client.ReceiveTextAsync(wait.Token));
        }
        catch (PeerException e)
        {
            throw new Xunit.Sdk.XunitException($"no reply to {Encoding.ASCII.GetString(request, 0, 4)}; {relay}\n{e.Message}");
        }
    }

    /// <summary>A HotDtls server of two receive loops answering requests as the remarks above say.</summary>
    private sealed class RebindingServer : IAsyncDisposable
    {
        private RebindingServer(DtlsServer server, RequestHandler handler)
        {
            Server = server;
            Handler = handler;
        }

        public DtlsServer Server { get; }

        public RequestHandler Handler { get; }

        public IPEndPoint EndPoint => Server.LocalEndPoint;

        public long HandedOff => Server.DatagramsHandedOff;

        public static async Task<RebindingServer> StartAsync(CancellationToken cancellationToken)
        {
            var options = new DtlsServerOptions
            {
                EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
                PskIdentityHint = PeerCredentials.Default.Hint,
                PskStore = PskStore.Single(PeerCredentials.Default.GetKey()),
                ReceiveLoops = 2,
            };
            options.CipherSuites.Clear();
            options.CipherSuites.Add(Suite);
            var handler = new RequestHandler();
            var server = new DtlsServer(options, handler);
            await server.StartAsync(cancellationToken);
            return new RebindingServer(server, handler);
        }

        public ValueTask DisposeAsync() => Server.DisposeAsync();
    }

    private sealed class RequestHandler : DtlsServerHandler
    {
        public TaskCompletionSource<DtlsSession> Established { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The number of each request delivered, in delivery order.</summary>
        public ConcurrentQueue<string> Received { get; } = new();

        public override void OnSessionEstablished(DtlsSession session) => Established.TrySetResult(session);

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            var text = Encoding.ASCII.GetString(plaintext);
            var n = int.Parse(text.AsSpan(1, 2), System.Globalization.CultureInfo.InvariantCulture);
            Received.Enqueue($"{n:D2}");
            var reply = text[0] == 'B' ? BigReply(n) : Ack(n, session.RemoteEndPoint);
            session.Send(Encoding.UTF8.GetBytes(reply));
        }
    }
}
