using System.Collections.Concurrent;
using System.Security.Cryptography;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>
/// Proves each peer driver against a real, independent peer before the drivers are pointed at HotDtls:
/// BouncyCastle client ↔ OpenSSL s_server, OpenSSL s_client ↔ BouncyCastle server, and BouncyCastle on
/// both ends through a lossy relay, and with Connection IDs (RFC 9146).
/// </summary>
public sealed class DriverSelfTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);

    [ToolTheory("openssl")]
    [MemberData(nameof(InteropSuites.OpenSsl), MemberType = typeof(InteropSuites))]
    public async Task BouncyCastleClient_and_OpenSslServer_echo_three_messages(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = OpenSslServerPeer.Start(suite);
        await server.WaitUntilReadyAsync(cts.Token);

        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(server.EndPoint, [suite],
            cancellationToken: cts.Token);
        Assert.Equal(suite, client.NegotiatedSuite);
        Assert.Equal(InteropSuites.OpenSslName(suite), await server.WaitForHandshakeAsync(cts.Token));

        for (var i = 1; i <= 3; i++)
        {
            // s_server prints what it receives line by line and sends each stdin line back with its "\n".
            client.SendText($"Message #{i} ({suite})\n");
            Assert.Equal($"Message #{i} ({suite})\n", await client.ReceiveTextAsync(cts.Token));
        }

        Assert.Equal(3, server.EchoedLines);
    }

    [ToolTheory("openssl")]
    [MemberData(nameof(InteropSuites.OpenSsl), MemberType = typeof(InteropSuites))]
    public async Task OpenSslClient_and_BouncyCastleServer_echo_three_messages(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = BouncyCastleDtlsServerPeer.Start([suite]);
        await using var client = OpenSslClientPeer.Start(server.EndPoint, suite);

        Assert.Equal(InteropSuites.OpenSslName(suite), await client.WaitForHandshakeAsync(cts.Token));
        Assert.Equal(suite, client.NegotiatedSuite);
        Assert.Equal(suite, await server.WaitForHandshakeAsync(cts.Token));
        Assert.True(server.HelloVerifyRequestsSent >= 1, "the server should have demanded a cookie");

        for (var i = 1; i <= 3; i++)
        {
            await client.SendLineAsync($"Message #{i} ({suite})", cts.Token);
            Assert.Equal($"Message #{i} ({suite})", await client.ReceiveLineAsync(cts.Token));
        }

        Assert.Equal(3, server.EchoedRecords);
    }

    [Theory]
    [MemberData(nameof(InteropSuites.Gcm), MemberType = typeof(InteropSuites))]
    public async Task BouncyCastle_peers_handshake_and_echo_through_a_lossy_relay(CipherSuite suite)
    {
        // BouncyCastle's retransmission timers run in real time; 30 s is far more than it needs.
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var options = BouncyCastlePeerOptions.Default with { HandshakeResendTime = TimeSpan.FromMilliseconds(100) };
        await using var server = BouncyCastleDtlsServerPeer.Start([suite], options: options);
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions
        {
            DropProbability = 0.2,
            DuplicateProbability = 0.2,
            ReorderProbability = 0.2,
            Seed = 20240601,
        });

        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(relay.EndPoint,
            [CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384],
            options: options, cancellationToken: cts.Token);
        Assert.Equal(suite, client.NegotiatedSuite);
        Assert.Equal(suite, await server.WaitForHandshakeAsync(cts.Token));

        // Application data is not retransmitted by DTLS, so a message or its echo may be lost: send again
        // until one comes back. Each wait is for the echo event, bounded by a retry interval.
        string? echoed = null;
        for (var attempt = 1; echoed is null; attempt++)
        {
            client.SendText($"lossy #{attempt}");
            using var retry = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            retry.CancelAfter(TimeSpan.FromMilliseconds(500));
            try
            {
                echoed = await client.ReceiveTextAsync(retry.Token);
            }
            catch (PeerException) when (retry.IsCancellationRequested && !cts.IsCancellationRequested)
            {
                // Lost on the way: try again.
            }
        }

        Assert.StartsWith("lossy #", echoed, StringComparison.Ordinal);
        Assert.True(relay.ClientToServer.Dropped + relay.ServerToClient.Dropped > 0, relay.ToString());
        Assert.True(relay.ClientToServer.Duplicated + relay.ServerToClient.Duplicated > 0, relay.ToString());
        Assert.True(relay.ClientToServer.Reordered + relay.ServerToClient.Reordered > 0, relay.ToString());
    }

    [Theory]
    [InlineData(4, 6)]
    [InlineData(0, 8)]
    [InlineData(8, 0)]
    [InlineData(0, 0)]
    public async Task BouncyCastle_peers_negotiate_connection_ids_and_put_them_on_every_encrypted_record(
        int clientCidLength, int serverCidLength)
    {
        const CipherSuite suite = CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        using var cts = new CancellationTokenSource(s_timeout);
        var clientCid = RandomNumberGenerator.GetBytes(clientCidLength);
        var serverCid = RandomNumberGenerator.GetBytes(serverCidLength);
        var toServer = new ConcurrentQueue<byte[]>();
        var toClient = new ConcurrentQueue<byte[]>();
        await using var server = BouncyCastleDtlsServerPeer.Start([suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = serverCid });
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions
        {
            Tap = (direction, datagram) => (direction == RelayDirection.ClientToServer ? toServer : toClient).Enqueue(datagram),
        });

        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(relay.EndPoint, [suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = clientCid }, cancellationToken: cts.Token);
        Assert.Equal(suite, await server.WaitForHandshakeAsync(cts.Token));
        for (var i = 1; i <= 3; i++)
        {
            client.SendText($"cid #{i}");
            Assert.Equal($"cid #{i}", await client.ReceiveTextAsync(cts.Token));
        }

        // Each side learnt both CIDs, the right way round.
        Assert.NotNull(client.ConnectionId);
        Assert.NotNull(server.ConnectionId);
        Assert.Equal(clientCid, client.ConnectionId.Inbound);
        Assert.Equal(serverCid, client.ConnectionId.Outbound);
        Assert.Equal(serverCid, server.ConnectionId.Inbound);
        Assert.Equal(clientCid, server.ConnectionId.Outbound);

        // On the wire, records to a side that asked for a non-empty CID carry it from epoch 1 on, and only then
        // (RFC 9146 §4); a side that asked for an empty one gets plain records.
        WireCapture.AssertConnectionIds(toServer, serverCid, 4, relay.ToString());
        WireCapture.AssertConnectionIds(toClient, clientCid, 4, relay.ToString());
    }

    [Fact]
    public async Task A_bouncy_castle_server_with_a_cid_follows_its_client_to_a_new_address()
    {
        const CipherSuite suite = CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = BouncyCastleDtlsServerPeer.Start([suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = [0, 1, 0xC1, 0xD0] });
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions());
        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(relay.EndPoint, [suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = [] }, cancellationToken: cts.Token);
        await server.WaitForHandshakeAsync(cts.Token);
        client.SendText("before");
        Assert.Equal("before", await client.ReceiveTextAsync(cts.Token));
        var first = relay.Upstream;
        Assert.Equal(first.EndPoint, server.PeerEndPoint);

        var second = relay.Rebind();
        client.SendText("after");
        Assert.Equal("after", await client.ReceiveTextAsync(cts.Token));

        Assert.Equal(1, server.PeerAddressChanges);
        Assert.Equal(second.EndPoint, server.PeerEndPoint);
        Assert.Equal((1, 1), (second.DatagramsToServer, second.DatagramsFromServer));
        Assert.Equal(0, first.LostAfterRetired); // The echo went to the new address, not the old one.
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Without_both_hellos_carrying_connection_id_bouncy_castle_uses_none(bool clientOffers, bool serverIssues)
    {
        const CipherSuite suite = CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        using var cts = new CancellationTokenSource(s_timeout);
        var cidRecords = 0;
        await using var server = BouncyCastleDtlsServerPeer.Start([suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = serverIssues ? [1, 2, 3, 4] : null });
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions
        {
            Tap = (_, datagram) => { if (datagram[0] == WireRecord.Tls12Cid) { Interlocked.Increment(ref cidRecords); } },
        });
        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(relay.EndPoint, [suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = clientOffers ? [5, 6, 7, 8] : null },
            cancellationToken: cts.Token);
        await server.WaitForHandshakeAsync(cts.Token);
        client.SendText("plain");
        Assert.Equal("plain", await client.ReceiveTextAsync(cts.Token));

        Assert.Null(client.ConnectionId);
        Assert.Null(server.ConnectionId);
        Assert.Equal(0, Volatile.Read(ref cidRecords));
    }
}
