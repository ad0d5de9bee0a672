using System.Net;
using System.Text;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Connection;

/// <summary>
/// The client against a server that lies: hand-built flights from the message writers, and a real server's flight 6
/// with a bit flipped. Each bad ServerHello ends the handshake with the alert RFC 5246 names for it; a repeated
/// HelloVerifyRequest changes nothing; unprotected application data is never delivered.
/// </summary>
public sealed class ClientHostileServerTests
{
    private static readonly IPEndPoint s_client = new(IPAddress.Loopback, 46000);
    private static readonly byte[] s_serverRandom = [.. Enumerable.Range(0, 32).Select(i => (byte)(0xA0 + i))];

    /// <summary>A client offering only TLS_PSK_WITH_AES_128_GCM_SHA256, started: its ClientHello is taken and dropped.</summary>
    private static TestClient StartedClient(ServerHarness server)
    {
        // No tickets asked for: a session_ticket extension in the ServerHello is then unsolicited.
        var options = new DtlsClientOptions { PskIdentity = "device", PskKey = ServerHarness.Key, TimeProvider = server.Time, UseSessionTickets = false };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        var client = new TestClient(server, s_client, options);
        client.Start();
        Assert.Single(client.Sender.TakeAll());
        return client;
    }

    private static byte[] ServerHelloBody(ushort version = ProtocolVersion.Dtls12,
        ushort suite = (ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, bool extendedMasterSecret = true)
    {
        var buffer = new byte[128];
        var length = ServerHello.Write(buffer, version, s_serverRandom, [], suite, extendedMasterSecret, renegotiationInfo: true);
        return buffer[..length];
    }

    /// <summary>A ServerHello with no extensions of ours and one extension block holding <paramref name="extension"/> only.</summary>
    private static byte[] ServerHelloWithExtension(ushort type, byte[] data)
    {
        var buffer = new byte[128];
        var length = ServerHello.Write(buffer, ProtocolVersion.Dtls12, s_serverRandom, [],
            (ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, extendedMasterSecret: false, renegotiationInfo: false);
        var extension = new byte[4 + data.Length];
        extension[0] = (byte)(type >> 8);
        extension[1] = (byte)type;
        extension[2] = (byte)(data.Length >> 8);
        extension[3] = (byte)data.Length;
        data.CopyTo(extension, 4);
        return Wire.Concat(buffer[..length], [(byte)(extension.Length >> 8), (byte)extension.Length], extension);
    }

    private static byte[] HandshakeRecord(HandshakeType type, ushort messageSeq, byte[] body, ulong recordSequence = 0,
        ushort recordVersion = ProtocolVersion.Dtls12)
        => Wire.Record(ContentType.Handshake, 0, recordSequence, Wire.Handshake(type, messageSeq, body), recordVersion);

    private static byte[] HelloVerifyRequestRecord(byte[] cookie, ulong recordSequence = 0)
    {
        var body = new byte[HelloVerifyRequest.GetLength(cookie.Length)];
        HelloVerifyRequest.Write(body, ProtocolVersion.Dtls10, cookie);
        return HandshakeRecord(HandshakeType.HelloVerifyRequest, 0, body, recordSequence, ProtocolVersion.Dtls10);
    }

    /// <summary>The client sent one fatal alert in the clear and closed with it.</summary>
    private static void AssertFailedWith(TestClient client, AlertDescription alert, DtlsError error)
    {
        var datagram = Assert.Single(client.Sender.TakeAll()).Datagram;
        var (header, body) = Assert.Single(Wire.Records(datagram));
        Assert.Equal((ContentType.Alert, (ushort)0), (header.Type, header.Epoch));
        Assert.Equal([(byte)AlertLevel.Fatal, (byte)alert], body);
        Assert.True(client.Connection.IsClosed);
        Assert.Equal(DtlsCloseReason.HandshakeFailed, client.ClosedReason);
        Assert.Equal(error, client.ClosedError);
        Assert.Equal(alert, client.ClosedAlert);
        Assert.False(client.Connection.HasRetransmitTimer);
    }

    /// <summary>The one ClientHello in a datagram the client sent, with its message_seq.</summary>
    private static (ushort MessageSeq, byte[] Body) ClientHelloIn(byte[] datagram)
    {
        var (header, record) = Assert.Single(Wire.Records(datagram));
        Assert.Equal(ContentType.Handshake, header.Type);
        Assert.True(HandshakeHeader.TryRead(record, out var hs));
        Assert.Equal(HandshakeType.ClientHello, hs.MsgType);
        return (hs.MessageSeq, record.AsSpan(HandshakeHeader.Size, hs.FragmentLength).ToArray());
    }

    [Theory]
    [InlineData((ushort)CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)] // ours, but not offered
    [InlineData((ushort)0xC0A8)]                                     // TLS_PSK_WITH_AES_128_CCM_8: ours, not offered
    [InlineData((ushort)0x00AA)]                                     // TLS_DHE_PSK_WITH_AES_128_GCM_SHA256: not ours
    [InlineData((ushort)0x0000)]                                     // TLS_NULL_WITH_NULL_NULL
    public void ServerHello_choosing_a_suite_not_offered_gets_illegal_parameter(ushort suite)
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server);

        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0, ServerHelloBody(suite: suite)));

        AssertFailedWith(client, AlertDescription.IllegalParameter, DtlsError.IllegalParameter);
        Assert.Null(client.Connection.NegotiatedSuite);
    }

    [Fact]
    public void Control_the_same_crafted_ServerHello_with_the_offered_suite_is_accepted()
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server);

        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0, ServerHelloBody()));

        Assert.Equal(HandshakeState.ClientExpectServerKeyExchange, client.Connection.State);
        Assert.Equal(0, client.Sender.Count);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, client.Connection.NegotiatedSuite);
    }

    [Theory]
    [InlineData((ushort)0x000F, new byte[] { 1 })]       // heartbeat
    [InlineData((ushort)0x0000, new byte[0])]            // server_name, empty
    [InlineData((ushort)0x0023, new byte[0])]            // session_ticket
    [InlineData((ushort)0xFE0A, new byte[] { 1, 2, 3 })] // nobody's
    [InlineData((ushort)0x0016, new byte[0])]            // encrypt_then_mac: not offered without a CBC suite
    [InlineData((ushort)0x000B, new byte[] { 1, 0 })]    // ec_point_formats: not offered without an ECDHE suite
    [InlineData((ushort)0x000A, new byte[] { 0, 2, 0, 0x1D })] // supported_groups: never sent by a TLS 1.2 server
    [InlineData((ushort)0x0036, new byte[] { 2, 7, 7 })] // connection_id: not offered (RFC 9146 §3)
    [InlineData((ushort)0x003D, new byte[0])]            // rrc: not offered without connection_id
    public void ServerHello_with_an_unsolicited_extension_gets_unsupported_extension(ushort type, byte[] data)
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server);

        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0, ServerHelloWithExtension(type, data)));

        AssertFailedWith(client, AlertDescription.UnsupportedExtension, DtlsError.UnsupportedExtension);
    }

    /// <summary>A started client offering <paramref name="suites"/> (and, for ECDHE ones, X25519 only).</summary>
    private static TestClient StartedClient(ServerHarness server, params CipherSuite[] suites)
    {
        var options = TestClient.OptionsFor(server, suites);
        options.NamedGroups.Clear();
        options.NamedGroups.Add(NamedGroup.X25519);
        var client = new TestClient(server, s_client, options);
        client.Start();
        Assert.Single(client.Sender.TakeAll());
        return client;
    }

    private static byte[] ServerHelloFor(CipherSuite suite, bool encryptThenMac, bool ecPointFormats)
    {
        var buffer = new byte[128];
        var length = ServerHello.Write(buffer, ProtocolVersion.Dtls12, s_serverRandom, [], (ushort)suite,
            extendedMasterSecret: true, renegotiationInfo: true, encryptThenMac, ecPointFormats);
        return buffer[..length];
    }

    [Fact]
    public void A_cbc_suite_chosen_without_encrypt_then_mac_gets_handshake_failure()
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server, CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256);

        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0,
            ServerHelloFor(CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256, encryptThenMac: false, ecPointFormats: false)));

        AssertFailedWith(client, AlertDescription.HandshakeFailure, DtlsError.NoCommonCipherSuite);
    }

    [Fact]
    public void Encrypt_then_mac_echoed_for_an_aead_suite_gets_illegal_parameter()
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server, CipherSuite.TLS_PSK_WITH_AES_128_CCM, CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256);

        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0,
            ServerHelloFor(CipherSuite.TLS_PSK_WITH_AES_128_CCM, encryptThenMac: true, ecPointFormats: false)));

        AssertFailedWith(client, AlertDescription.IllegalParameter, DtlsError.IllegalParameter);
    }

    [Fact]
    public void Control_a_cbc_suite_with_encrypt_then_mac_is_accepted()
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server, CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256);

        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0,
            ServerHelloFor(CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256, encryptThenMac: true, ecPointFormats: false)));

        Assert.Equal(HandshakeState.ClientExpectServerKeyExchange, client.Connection.State);
        Assert.Equal(0, client.Sender.Count);
    }

    [Fact]
    public void Server_point_formats_without_uncompressed_get_illegal_parameter()
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256);
        var hello = ServerHelloWithExtension(HelloExtensions.EcPointFormats, [1, 1]);
        // ServerHelloWithExtension names AES-128-GCM PSK; make it the ECDHE suite the client offered.
        hello[2 + 32 + 1] = 0xD0;
        hello[2 + 32 + 2] = 0x01;

        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0, hello));

        AssertFailedWith(client, AlertDescription.IllegalParameter, DtlsError.IllegalParameter);
    }

    [Fact]
    public void An_ecdhe_server_key_exchange_on_a_group_not_offered_gets_illegal_parameter()
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256);
        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0,
            ServerHelloFor(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, encryptThenMac: false, ecPointFormats: true)));
        using var p256 = HotDtls.Crypto.EphemeralKeyPair.Generate(NamedGroup.Secp256r1);
        var point = new byte[65];
        p256.WritePublicKey(point);
        var body = new byte[ServerKeyExchangeEcdhePsk.GetLength(0, point.Length)];
        ServerKeyExchangeEcdhePsk.Write(body, [], NamedGroup.Secp256r1, point);

        client.Deliver(HandshakeRecord(HandshakeType.ServerKeyExchange, 1, body, recordSequence: 1));

        AssertFailedWith(client, AlertDescription.IllegalParameter, DtlsError.IllegalParameter);
    }

    [Fact]
    public void An_ecdhe_suite_without_server_key_exchange_gets_unexpected_message()
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256);
        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0,
            ServerHelloFor(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, encryptThenMac: false, ecPointFormats: true)));

        client.Deliver(HandshakeRecord(HandshakeType.ServerHelloDone, 1, [], recordSequence: 1));

        AssertFailedWith(client, AlertDescription.UnexpectedMessage, DtlsError.UnexpectedMessage);
    }

    [Theory]
    [InlineData(ProtocolVersion.Dtls10)]
    [InlineData((ushort)0xFEFC)] // DTLS 1.3's number
    [InlineData((ushort)0x0303)] // TLS 1.2
    public void ServerHello_with_another_version_gets_protocol_version(ushort version)
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server);

        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 0, ServerHelloBody(version: version)));

        AssertFailedWith(client, AlertDescription.ProtocolVersion, DtlsError.ProtocolVersion);
    }

    [Fact]
    public void HelloVerifyRequest_with_a_255_byte_cookie_is_echoed_in_the_next_ClientHello()
    {
        using var server = new ServerHarness();
        // No tickets asked for: a session_ticket extension in the ServerHello is then unsolicited.
        var options = new DtlsClientOptions { PskIdentity = "device", PskKey = ServerHarness.Key, TimeProvider = server.Time, UseSessionTickets = false };
        using var client = new TestClient(server, s_client, options);
        client.Start();
        var (firstSeq, first) = ClientHelloIn(Assert.Single(client.Sender.TakeAll()).Datagram);
        Assert.True(ClientHello.TryParse(first, out var firstHello));
        Assert.True(firstHello.Cookie.IsEmpty);
        var cookie = Enumerable.Range(0, ClientHello.MaxCookieLength).Select(i => (byte)(i * 7 + 3)).ToArray();

        client.Deliver(HelloVerifyRequestRecord(cookie));

        var (secondSeq, second) = ClientHelloIn(Assert.Single(client.Sender.TakeAll()).Datagram);
        Assert.True(ClientHello.TryParse(second, out var secondHello));
        Assert.Equal(cookie, secondHello.Cookie.ToArray());
        Assert.Equal(firstHello.Random.ToArray(), secondHello.Random.ToArray()); // RFC 6347 §4.2.1: same random
        Assert.Equal((0, 1), (firstSeq, secondSeq));
        Assert.Equal(HandshakeState.ClientExpectServerHello, client.Connection.State);
    }

    [Fact]
    public void Repeated_HelloVerifyRequest_changes_nothing()
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server);
        var cookie = Enumerable.Repeat((byte)0x5A, 32).ToArray();
        client.Deliver(HelloVerifyRequestRecord(cookie, recordSequence: 0));
        var second = ClientHelloIn(Assert.Single(client.Sender.TakeAll()).Datagram);

        // The same HelloVerifyRequest again (a new record), then one with another cookie but the same message_seq.
        client.Deliver(HelloVerifyRequestRecord(cookie, recordSequence: 1));
        client.Deliver(HelloVerifyRequestRecord(Enumerable.Repeat((byte)0xA5, 32).ToArray(), recordSequence: 2));

        // At most the same ClientHello again (RFC 6347 §4.2.4: a repeated flight may be answered with ours); never a
        // new ClientHello, never the other cookie.
        foreach (var (datagram, _) in client.Sender.TakeAll())
        {
            var repeat = ClientHelloIn(datagram);
            Assert.Equal(second.MessageSeq, repeat.MessageSeq);
            Assert.Equal(second.Body, repeat.Body);
        }
        Assert.Equal(HandshakeState.ClientExpectServerHello, client.Connection.State);
        Assert.False(client.Connection.IsClosed);

        // The handshake goes on from there: ServerHello is message 1.
        client.Deliver(HandshakeRecord(HandshakeType.ServerHello, 1, ServerHelloBody(), recordSequence: 3));
        Assert.Equal(HandshakeState.ClientExpectServerKeyExchange, client.Connection.State);
    }

    [Fact]
    public void Epoch_0_application_data_is_never_delivered_during_or_after_the_handshake()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_client);
        client.Start();
        client.Deliver(Wire.Record(ContentType.ApplicationData, 0, 50, Encoding.UTF8.GetBytes("during")));
        Assert.Empty(client.Received);
        Assert.Equal(1, client.Dropped);
        Assert.Equal(HandshakeState.ClientExpectServerHello, client.Connection.State);

        // Inside flight 6, before the Finished, and after the handshake.
        Exchange.Pump(server, client, (datagram, toServer) =>
            !toServer && Wire.Records(datagram).Any(r => r.Header.Epoch == 1)
                ? [Wire.Concat(Wire.Record(ContentType.ApplicationData, 0, 51, Encoding.UTF8.GetBytes("in flight 6")), datagram)]
                : [datagram]);
        Assert.True(client.Established);
        client.Deliver(Wire.Record(ContentType.ApplicationData, 0, 52, Encoding.UTF8.GetBytes("after")));

        Assert.Empty(client.Received);
        Assert.Equal(3, client.Dropped);
        Assert.True(client.Send("ping"));
        Exchange.Pump(server, client);
        Assert.Equal([$"to {client.EndPoint}: ACK"], client.Received);
    }

    [Theory]
    [InlineData(0)]   // explicit nonce
    [InlineData(9)]   // ciphertext
    [InlineData(-1)]  // tag
    public void Server_Finished_with_a_flipped_bit_fails_the_client_with_decrypt_error(int index)
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_client);
        byte[]? flight6 = null;
        client.Start();
        Exchange.Pump(server, client, (datagram, toServer) =>
        {
            if (!toServer && Wire.Records(datagram).Any(r => r.Header.Epoch == 1))
            {
                flight6 = datagram;
                return [];
            }
            return [datagram];
        });
        Assert.NotNull(flight6);
        Assert.Equal(HandshakeState.ClientExpectChangeCipherSpec, client.Connection.State);

        // Flip one bit of the protected Finished record's body.
        var records = Wire.Records(flight6);
        var (header, body) = records[^1];
        Assert.Equal((ContentType.Handshake, (ushort)1), (header.Type, header.Epoch));
        body[index < 0 ? body.Length - 1 : index] ^= 0x10;
        Assert.Equal(ContentType.ChangeCipherSpec, records[0].Header.Type);
        client.Deliver(Wire.Concat(
            Wire.Record(ContentType.ChangeCipherSpec, 0, records[0].Header.SequenceNumber, records[0].Body),
            Wire.Record(header.Type, 1, header.SequenceNumber, body)));

        Assert.False(client.Established);
        Assert.Equal(DtlsCloseReason.HandshakeFailed, client.ClosedReason);
        Assert.Equal(DtlsError.BadRecordMac, client.ClosedError);
        Assert.Equal(AlertDescription.DecryptError, client.ClosedAlert);

        // The alert goes out under the client's new keys: the server can read it, and forgets the session.
        var alert = Assert.Single(client.Sender.TakeAll()).Datagram;
        var (alertHeader, _) = Assert.Single(Wire.Records(alert));
        Assert.Equal((ContentType.Alert, (ushort)1), (alertHeader.Type, alertHeader.Epoch));
        server.Deliver(client.Address, alert);
        Assert.Equal(DtlsCloseReason.PeerAlert, Assert.Single(server.Handler.Closed).Reason);
        Assert.Equal(0, server.Statistics.Sessions);
    }
}
