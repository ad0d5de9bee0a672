using System.Net;
using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>Real DTLS clients — OpenSSL's s_client and BouncyCastle's — against the HotDtls server.</summary>
public sealed class HotDtlsServerInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    [ToolTheory("openssl")]
    [MemberData(nameof(InteropSuites.OpenSsl), MemberType = typeof(InteropSuites))]
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

    [ToolTheory("openssl")]
    [MemberData(nameof(InteropSuites.OpenSsl), MemberType = typeof(InteropSuites))]
    public async Task OpenSsl_client_with_a_256_byte_mtu_completes(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync(o => o.Mtu = 256);
        await using var client = OpenSslClientPeer.Start(server.EndPoint, suite, extraArguments: ["-mtu", "256"]);

        Assert.Equal(InteropSuites.OpenSslName(suite), await client.WaitForHandshakeAsync(cts.Token));
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(suite, session.CipherSuite);
        var ack = AckServer.AckFor(session.RemoteEndPoint);
        await client.SendLineAsync("small mtu", cts.Token);
        Assert.Equal(ack, await client.ReceiveTextAsync(ack.Length, cts.Token));
    }

    [ToolFact("openssl")]
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
    [MemberData(nameof(InteropSuites.BouncyCastle), MemberType = typeof(InteropSuites))]
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
    [MemberData(nameof(InteropSuites.Gcm), MemberType = typeof(InteropSuites))]
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

    [ToolFact("openssl")]
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

    [ToolTheory("openssl")]
    [InlineData("PSK-AES256-CBC-SHA384", false)] // a suite HotDtls does not implement
    [InlineData("PSK-AES128-CCM8:@SECLEVEL=0", true)] // one it implements, on a server configured for AES-GCM only
    public async Task OpenSsl_client_offering_no_common_suite_is_refused_at_once(string openSslCipher, bool serverGcmOnly)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync(o =>
        {
            if (serverGcmOnly)
            {
                o.CipherSuites.Clear();
                o.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
                o.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384);
            }
        });
        // The handshake_failure alert must reach s_client (and be accepted by its replay window), which then reports
        // alert 40 instead of retransmitting until it times out.
        await using var client = OpenSslClientPeer.Start(server.EndPoint, openSslCipher);
        await Assert.ThrowsAnyAsync<Exception>(() => client.WaitForHandshakeAsync(cts.Token));
        Assert.Contains("SSL alert number 40", client.Diagnostics, StringComparison.Ordinal);
        Assert.Equal(1, server.Server.Statistics.HandshakesFailed);
    }

    [ToolTheory("openssl")]
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

    /// <summary>
    /// The ECDHE_PSK group: s_client offering one group gets it (it prints the server's ephemeral key), and a HotDtls
    /// server configured for P-256 alone picks it from s_client's default list (X25519 first).
    /// </summary>
    [ToolTheory("openssl")]
    [InlineData("P-256", null, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, "ECDH, prime256v1, 256 bits")]
    [InlineData("X25519", null, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256, "X25519, 253 bits")]
    [InlineData(null, NamedGroup.Secp256r1, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256, "ECDH, prime256v1, 256 bits")]
    [InlineData(null, null, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, "X25519, 253 bits")]
    public async Task OpenSsl_client_gets_the_ECDHE_group_both_sides_support(string? clientGroups, NamedGroup? serverOnly,
        CipherSuite suite, string serverTempKey)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync(o =>
        {
            if (serverOnly is { } group)
            {
                o.NamedGroups.Clear();
                o.NamedGroups.Add(group);
            }
        });
        await using var client = OpenSslClientPeer.Start(server.EndPoint, suite,
            extraArguments: clientGroups is null ? null : ["-groups", clientGroups]);

        Assert.Equal(InteropSuites.OpenSslName(suite), await client.WaitForHandshakeAsync(cts.Token));
        Assert.Equal(serverTempKey, await client.WaitForServerTempKeyAsync(cts.Token));
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(suite, session.CipherSuite);

        var ack = AckServer.AckFor(session.RemoteEndPoint);
        await client.SendLineAsync("ecdhe", cts.Token);
        Assert.Equal(ack, await client.ReceiveTextAsync(ack.Length, cts.Token));
    }

    /// <summary>BouncyCastle offering secp256r1 alone: the server must use it (RFC 8422 §5.1.1), or BouncyCastle refuses.</summary>
    [Theory]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256)]
    public async Task BouncyCastle_client_offering_only_P256_completes_with_it(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        var options = BouncyCastlePeerOptions.Default with { NamedGroups = [NamedGroup.Secp256r1] };
        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(server.EndPoint, [suite], options: options,
            cancellationToken: cts.Token);
        Assert.Equal(suite, client.NegotiatedSuite);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(suite, session.CipherSuite);

        client.SendText("P-256");
        Assert.Equal(AckServer.AckFor(session.RemoteEndPoint), await client.ReceiveTextAsync(cts.Token));
    }
}
