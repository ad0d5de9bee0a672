using System.Net;
using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>Real DTLS clients — OpenSSL's s_client and BouncyCastle's — against the HotDtls server.</summary>
public sealed class HotDtlsServerInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [Theory]
    [MemberData(nameof(InteropSuites.All), MemberType = typeof(InteropSuites))]
    public async Task OpenSsl_client_completes_handshake_and_each_message_gets_its_ack(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        await using var client = OpenSslClientPeer.Start(server.EndPoint, suite);

        Assert.Equal(InteropSuites.OpenSslName(suite), await client.WaitForHandshakeAsync(cts.Token));
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(suite, session.CipherSuite);
        Assert.Equal(PeerCredentials.Default.Identity, session.PskIdentity);
        Assert.True(session.UsesExtendedMasterSecret, "OpenSSL offers the extended master secret; HotDtls must use it");

        var ack = AckServer.AckFor(session.RemoteEndPoint);
        for (var i = 1; i <= 3; i++)
        {
            await client.SendLineAsync($"Message #{i}", cts.Token);
            Assert.Equal(ack, await client.ReceiveTextAsync(ack.Length, cts.Token));
        }
        Assert.Equal(["Message #1\n", "Message #2\n", "Message #3\n"], server.Events.Received);

        // s_client's close_notify is answered and the session forgotten.
        await client.CloseAsync(cts.Token);
        while (server.Events.Closed.IsEmpty)
        {
            await Task.Yield();
            cts.Token.ThrowIfCancellationRequested();
        }
        Assert.Equal(DtlsCloseReason.PeerClosed, server.Events.Closed.Single().Reason);
        Assert.Equal(0, server.Server.Statistics.Sessions);
    }

    [Theory]
    [MemberData(nameof(InteropSuites.All), MemberType = typeof(InteropSuites))]
    public async Task OpenSsl_client_with_a_256_byte_mtu_completes(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync(o => o.Mtu = 256);
        await using var client = OpenSslClientPeer.Start(server.EndPoint, suite, extraArguments: ["-mtu", "256"]);

        await client.WaitForHandshakeAsync(cts.Token);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        var ack = AckServer.AckFor(session.RemoteEndPoint);
        await client.SendLineAsync("small mtu", cts.Token);
        Assert.Equal(ack, await client.ReceiveTextAsync(ack.Length, cts.Token));
    }

    [Fact]
    public async Task OpenSsl_client_with_the_wrong_key_fails_and_the_server_keeps_serving()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        var wrong = PeerCredentials.Default with { KeyHex = "00112233" };
        await using (var bad = OpenSslClientPeer.Start(server.EndPoint, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, wrong))
        {
            // HotDtls answers a Finished it cannot authenticate with a fatal decrypt_error, so s_client gives up
            // at once instead of timing out.
            await Assert.ThrowsAnyAsync<Exception>(() => bad.WaitForHandshakeAsync(cts.Token));
        }
        Assert.Equal(1, server.Server.Statistics.HandshakesFailed);

        await using var good = OpenSslClientPeer.Start(server.EndPoint, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        await good.WaitForHandshakeAsync(cts.Token);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        var ack = AckServer.AckFor(session.RemoteEndPoint);
        await good.SendLineAsync("after a failure", cts.Token);
        Assert.Equal(ack, await good.ReceiveTextAsync(ack.Length, cts.Token));
    }

    [Theory]
    [MemberData(nameof(InteropSuites.All), MemberType = typeof(InteropSuites))]
    public async Task BouncyCastle_client_completes_handshake_and_each_message_gets_its_ack(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(server.EndPoint, [suite], cancellationToken: cts.Token);
        Assert.Equal(suite, client.NegotiatedSuite);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(suite, session.CipherSuite);

        for (var i = 1; i <= 3; i++)
        {
            client.SendText($"Message #{i}");
            Assert.Equal(AckServer.AckFor(session.RemoteEndPoint), await client.ReceiveTextAsync(cts.Token));
        }
        Assert.Equal(["Message #1", "Message #2", "Message #3"], server.Events.Received);
    }

    [Theory]
    [MemberData(nameof(InteropSuites.All), MemberType = typeof(InteropSuites))]
    public async Task BouncyCastle_client_completes_through_a_lossy_relay(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        await using var server = await AckServer.StartAsync(o => o.InitialRetransmitTimeout = TimeSpan.FromMilliseconds(100));
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions
        {
            DropProbability = 0.2,
            DuplicateProbability = 0.2,
            ReorderProbability = 0.2,
            Seed = 6347,
        });
        var options = BouncyCastlePeerOptions.Default with { HandshakeResendTime = TimeSpan.FromMilliseconds(100) };
        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(relay.EndPoint, [suite], options: options,
            cancellationToken: cts.Token);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);

        // Application data is not retransmitted by DTLS: send until an ACK makes it back through the loss.
        string? reply = null;
        for (var attempt = 0; reply is null; attempt++)
        {
            client.SendText($"lossy #{attempt}");
            try
            {
                reply = Encoding.UTF8.GetString(await client.ReceiveAsync(TimeSpan.FromMilliseconds(500)));
            }
            catch (PeerException) when (!cts.IsCancellationRequested)
            {
            }
        }
        Assert.Equal(AckServer.AckFor(session.RemoteEndPoint), reply);
        Assert.True(relay.ClientToServer.Dropped + relay.ServerToClient.Dropped > 0, "the relay should have dropped something");
    }

    [Fact]
    public async Task OpenSsl_client_with_a_128_byte_identity_and_a_64_byte_key_completes()
    {
        // RFC 4279 §5.3: identities of at least 128 bytes and keys of at least 64 bytes must be supported.
        using var cts = new CancellationTokenSource(s_timeout);
        var credentials = PeerCredentials.Default with { Identity = new string('i', 128), KeyHex = string.Concat(Enumerable.Repeat("ab", 64)) };
        await using var server = await AckServer.StartAsync(o => o.PskStore = PskStore.Single(credentials.GetKey()));
        await using var client = OpenSslClientPeer.Start(server.EndPoint, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384, credentials);

        await client.WaitForHandshakeAsync(cts.Token);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(credentials.Identity, session.PskIdentity);
        var ack = AckServer.AckFor(session.RemoteEndPoint);
        await client.SendLineAsync("long identity", cts.Token);
        Assert.Equal(ack, await client.ReceiveTextAsync(ack.Length, cts.Token));
    }

    [Fact]
    public async Task OpenSsl_client_offering_no_common_suite_is_refused_at_once()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        // CCM_8 is not (yet) a HotDtls suite: the handshake_failure alert must reach s_client (and be accepted by its
        // replay window), which then reports alert 40 instead of retransmitting until it times out.
        await using var client = OpenSslClientPeer.Start(server.EndPoint, "PSK-AES128-CCM8:@SECLEVEL=0");
        await Assert.ThrowsAnyAsync<Exception>(() => client.WaitForHandshakeAsync(cts.Token));
        Assert.Contains("SSL alert number 40", client.Diagnostics, StringComparison.Ordinal);
        Assert.Equal(1, server.Server.Statistics.HandshakesFailed);
    }

    [Theory]
    [InlineData(1234)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task OpenSsl_client_completes_through_a_lossy_relay(int seed)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var server = await AckServer.StartAsync(o => o.InitialRetransmitTimeout = TimeSpan.FromMilliseconds(200));
        // No duplication here: OpenSSL 3.0's s_client stops sending application data once it has received a
        // duplicated server datagram, whatever the server (seen with BouncyCastle's and OpenSSL's own s_server too).
        // Duplication is covered with the BouncyCastle and HotDtls clients.
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions
        {
            DropProbability = 0.2,
            ReorderProbability = 0.2,
            Seed = seed,
        });
        await using var client = OpenSslClientPeer.Start(relay.EndPoint, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        await client.WaitForHandshakeAsync(cts.Token);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);

        // Application data is not retransmitted by DTLS: send until one ACK makes it back through the loss.
        var ack = AckServer.AckFor(session.RemoteEndPoint);
        var reply = client.ReceiveTextAsync(ack.Length, cts.Token);
        for (var attempt = 0; !reply.IsCompleted; attempt++)
        {
            await client.SendLineAsync($"lossy #{attempt}", cts.Token);
            await Task.WhenAny(reply, Task.Delay(TimeSpan.FromMilliseconds(300), cts.Token));
        }
        Assert.Equal(ack, await reply);
        Assert.True(relay.ClientToServer.Dropped + relay.ServerToClient.Dropped > 0, "the relay should have dropped something");
    }
}
