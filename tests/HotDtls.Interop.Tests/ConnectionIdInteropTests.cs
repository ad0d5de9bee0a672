using System.Security.Cryptography;
using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>
/// Connection IDs (RFC 9146) against BouncyCastle 2.7.0, an independent implementation: the connection_id extension
/// both ways, tls12_cid records on the wire with the CIDs each side asked for, and the RFC 9146 §5 additional_data in
/// the record protection — for AEAD (AES-GCM, ChaCha20-Poly1305) and for CBC with encrypt_then_mac (§5.2), where a
/// difference in what either side authenticates would fail every record.
/// </summary>
public sealed class ConnectionIdInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    // The CID length a HotDtls server issues by default (DtlsServerOptions.ConnectionIdLength).
    private const int ServerCidLength = 6;

    // Finished and three application records each way.
    private const int ProtectedRecords = 4;

    /// <summary>The record protections RFC 9146 §5 defines additional_data for, each under a key exchange.</summary>
    public static TheoryData<CipherSuite, int> BouncyCastleClientCases()
    {
        var data = new TheoryData<CipherSuite, int>();
        foreach (var suite in s_suites)
        {
            foreach (var clientCidLength in (int[])[0, 4])
            {
                data.Add(suite, clientCidLength);
            }
        }
        return data;
    }

    /// <summary>Each suite with the HotDtls client asking for none or 5 bytes, and BouncyCastle issuing none or 8.</summary>
    public static TheoryData<CipherSuite, int, int> BouncyCastleServerCases()
    {
        var data = new TheoryData<CipherSuite, int, int>();
        foreach (var suite in s_suites)
        {
            foreach (var clientCidLength in (int[])[0, 5])
            {
                foreach (var serverCidLength in (int[])[0, 8])
                {
                    data.Add(suite, clientCidLength, serverCidLength);
                }
            }
        }
        return data;
    }

    private static readonly CipherSuite[] s_suites =
    [
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256, // encrypt_then_mac: RFC 9146 §5.2
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256,
    ];

    [Theory]
    [MemberData(nameof(BouncyCastleClientCases))]
    public async Task BouncyCastle_client_offering_a_CID_gets_the_servers_and_both_put_them_on_the_wire(CipherSuite suite,
        int clientCidLength)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var wire = new WireCapture();
        var clientCid = RandomNumberGenerator.GetBytes(clientCidLength);
        await using var server = await AckServer.StartAsync();
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions { Tap = wire.Tap });
        await using var client = await BouncyCastleDtlsClientPeer.ConnectAsync(relay.EndPoint, [suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = clientCid }, cancellationToken: cts.Token);
        Assert.Equal(suite, client.NegotiatedSuite);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(suite, session.CipherSuite);

        for (var i = 1; i <= 3; i++)
        {
            client.SendText($"cid #{i}");
            Assert.Equal(AckServer.AckFor(session.RemoteEndPoint), await client.ReceiveTextAsync(cts.Token));
        }
        Assert.Equal(["cid #1", "cid #2", "cid #3"], server.Events.Received);

        // BouncyCastle read the server's CID from the ServerHello: the length HotDtls issues, led by its node byte (0).
        var negotiated = client.ConnectionId;
        Assert.NotNull(negotiated);
        Assert.Equal(clientCid, negotiated.Inbound);
        Assert.Equal(ServerCidLength, negotiated.Outbound.Length);
        Assert.Equal(0, negotiated.Outbound[0]);
        Assert.True(session.UsesConnectionId);

        WireCapture.AssertConnectionIds(wire.ToServer, negotiated.Outbound, ProtectedRecords, relay.ToString());
        WireCapture.AssertConnectionIds(wire.ToClient, clientCid, ProtectedRecords, relay.ToString());
    }

    [Theory]
    [MemberData(nameof(BouncyCastleServerCases))]
    public async Task HotDtls_client_offering_a_CID_to_a_BouncyCastle_server_and_both_put_them_on_the_wire(CipherSuite suite,
        int clientCidLength, int serverCidLength)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var wire = new WireCapture();
        var serverCid = RandomNumberGenerator.GetBytes(serverCidLength);
        await using var server = BouncyCastleDtlsServerPeer.Start([suite],
            options: BouncyCastlePeerOptions.Default with { ConnectionId = serverCid });
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions { Tap = wire.Tap });
        var options = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
            ConnectionIdLength = clientCidLength,
        };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(suite);

        await using var client = await DtlsClient.ConnectAsync(relay.EndPoint, options, cts.Token);
        Assert.Equal(suite, client.CipherSuite);
        Assert.Equal(suite, await server.WaitForHandshakeAsync(cts.Token));
        var buffer = new byte[client.MaxReceiveSize];
        for (var i = 1; i <= 3; i++)
        {
            client.Send(Encoding.UTF8.GetBytes($"cid #{i}"));
            var length = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal($"cid #{i}", Encoding.UTF8.GetString(buffer, 0, length));
        }

        // BouncyCastle read the client's CID from the ClientHello: the length the options asked for. The client's records
        // carry a CID, so its session can follow it, only when the server issued a non-empty one.
        Assert.Equal(serverCidLength > 0, client.UsesConnectionId);
        var negotiated = server.ConnectionId;
        Assert.NotNull(negotiated);
        Assert.Equal(serverCid, negotiated.Inbound);
        Assert.Equal(clientCidLength, negotiated.Outbound.Length);

        WireCapture.AssertConnectionIds(wire.ToServer, serverCid, ProtectedRecords, relay.ToString());
        WireCapture.AssertConnectionIds(wire.ToClient, negotiated.Outbound, ProtectedRecords, relay.ToString());
    }
}
