using System.Net;
using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>The HotDtls client against real DTLS servers — OpenSSL's s_server (cookies on) and BouncyCastle's — and its own server.</summary>
public sealed class HotDtlsClientInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static DtlsClientOptions ClientOptions(CipherSuite? only = null)
    {
        var options = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
        };
        if (only is { } suite)
        {
            options.CipherSuites.Clear();
            options.CipherSuites.Add(suite);
        }
        return options;
    }

    [ToolTheory("openssl")]
    [MemberData(nameof(InteropSuites.OpenSsl), MemberType = typeof(InteropSuites))]
    public async Task Client_completes_handshake_with_OpenSsl_server_and_gets_echoes(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = OpenSslServerPeer.Start(suite);
        await server.WaitUntilReadyAsync(cts.Token);

        await using var client = await DtlsClient.ConnectAsync(server.EndPoint, ClientOptions(), cts.Token);
        Assert.Equal(suite, client.CipherSuite);
        Assert.Equal(PeerCredentials.Default.Hint, client.PskIdentityHint);
        Assert.Equal(InteropSuites.OpenSslName(suite), await server.WaitForHandshakeAsync(cts.Token));

        var buffer = new byte[client.MaxReceiveSize];
        for (var i = 1; i <= 3; i++)
        {
            client.Send(Encoding.UTF8.GetBytes($"Message #{i}\n"));
            var length = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal($"Message #{i}\n", Encoding.UTF8.GetString(buffer, 0, length));
        }
    }

    [Theory]
    [MemberData(nameof(InteropSuites.BouncyCastle), MemberType = typeof(InteropSuites))]
    public async Task Client_completes_handshake_with_BouncyCastle_server_and_gets_echoes(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = BouncyCastleDtlsServerPeer.Start([suite]);

        await using var client = await DtlsClient.ConnectAsync(server.EndPoint, ClientOptions(), cts.Token);
        Assert.Equal(suite, client.CipherSuite);
        Assert.Equal(suite, await server.WaitForHandshakeAsync(cts.Token));
        Assert.True(server.HelloVerifyRequestsSent >= 1, "BouncyCastle demanded a cookie and HotDtls answered it");

        var buffer = new byte[client.MaxReceiveSize];
        for (var i = 1; i <= 3; i++)
        {
            client.Send(Encoding.UTF8.GetBytes($"Message #{i}"));
            var length = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal($"Message #{i}", Encoding.UTF8.GetString(buffer, 0, length));
        }
    }

    [Theory]
    [MemberData(nameof(InteropSuites.Gcm), MemberType = typeof(InteropSuites))]
    public async Task Client_and_server_complete_through_a_lossy_relay(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(40));
        var fast = TimeSpan.FromMilliseconds(100);
        await using var server = await AckServer.StartAsync(o => o.InitialRetransmitTimeout = fast);
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions
        {
            DropProbability = 0.2,
            DuplicateProbability = 0.2,
            ReorderProbability = 0.2,
            Seed = 4347,
        });
        var options = ClientOptions(suite);
        options.InitialRetransmitTimeout = fast;
        await using var client = await DtlsClient.ConnectAsync(relay.EndPoint, options, cts.Token);
        Assert.Equal(suite, client.CipherSuite);

        var buffer = new byte[client.MaxReceiveSize];
        string? reply = null;
        for (var attempt = 0; reply is null; attempt++)
        {
            client.Send(Encoding.UTF8.GetBytes($"lossy #{attempt}"));
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            wait.CancelAfter(TimeSpan.FromMilliseconds(500));
            try
            {
                var length = await client.ReceiveAsync(buffer, wait.Token);
                reply = Encoding.UTF8.GetString(buffer, 0, length);
            }
            catch (OperationCanceledException) when (!cts.IsCancellationRequested)
            {
            }
        }
        Assert.StartsWith("to (127.0.0.1:", reply);
        Assert.EndsWith("): ACK", reply);
    }

    [Fact]
    public async Task Client_reports_a_clear_error_when_nothing_listens()
    {
        var options = ClientOptions();
        options.HandshakeTimeout = TimeSpan.FromSeconds(2);
        options.InitialRetransmitTimeout = TimeSpan.FromMilliseconds(200);
        var port = FreePort.GetUdpPort();
        var error = await Assert.ThrowsAsync<DtlsException>(
            () => DtlsClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), options));
        Assert.Contains($"127.0.0.1:{port}", error.Message);
        Assert.Contains("nothing listens", error.Message);
    }

    [Fact]
    public async Task Client_with_the_wrong_key_gets_decrypt_error_from_HotDtls_server()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync();
        var options = ClientOptions();
        options.PskKey = [0x00, 0x11, 0x22, 0x33];
        var error = await Assert.ThrowsAsync<DtlsException>(() => DtlsClient.ConnectAsync(server.EndPoint, options, cts.Token));
        Assert.Equal(AlertDescription.DecryptError, error.Alert);
        Assert.Contains("PSK", error.Message);
        Assert.DoesNotContain("00112233", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The ECDHE_PSK group: an s_server allowing one group (<c>-groups</c>) gets it from the HotDtls client's list
    /// (X25519, then P-256), and a HotDtls client configured for P-256 alone gets it from s_server's default list.
    /// </summary>
    [ToolTheory("openssl")]
    [InlineData("P-256", null, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData("X25519", null, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256)]
    [InlineData(null, NamedGroup.Secp256r1, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256)]
    public async Task Client_completes_ECDHE_PSK_handshake_with_OpenSsl_server_in_the_group_both_support(string? serverGroups,
        NamedGroup? clientOnly, CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = OpenSslServerPeer.Start(suite, extraArguments: serverGroups is null ? null : ["-groups", serverGroups]);
        await server.WaitUntilReadyAsync(cts.Token);
        var options = ClientOptions();
        if (clientOnly is { } group)
        {
            options.NamedGroups.Clear();
            options.NamedGroups.Add(group);
        }

        await using var client = await DtlsClient.ConnectAsync(server.EndPoint, options, cts.Token);
        Assert.Equal(suite, client.CipherSuite);
        Assert.Equal(InteropSuites.OpenSslName(suite), await server.WaitForHandshakeAsync(cts.Token));

        var buffer = new byte[client.MaxReceiveSize];
        client.Send(Encoding.UTF8.GetBytes("ecdhe\n"));
        var length = await client.ReceiveAsync(buffer, cts.Token);
        Assert.Equal("ecdhe\n", Encoding.UTF8.GetString(buffer, 0, length));
    }

    /// <summary>A HotDtls client offering P-256 alone: BouncyCastle's server picks from the client's list, so it must use P-256.</summary>
    [Theory]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256)]
    public async Task Client_offering_only_P256_completes_with_BouncyCastle_server(CipherSuite suite)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = BouncyCastleDtlsServerPeer.Start([suite]);
        var options = ClientOptions();
        options.NamedGroups.Clear();
        options.NamedGroups.Add(NamedGroup.Secp256r1);

        await using var client = await DtlsClient.ConnectAsync(server.EndPoint, options, cts.Token);
        Assert.Equal(suite, client.CipherSuite);
        Assert.Equal(suite, await server.WaitForHandshakeAsync(cts.Token));

        var buffer = new byte[client.MaxReceiveSize];
        client.Send(Encoding.UTF8.GetBytes("P-256"));
        var length = await client.ReceiveAsync(buffer, cts.Token);
        Assert.Equal("P-256", Encoding.UTF8.GetString(buffer, 0, length));
    }
}
