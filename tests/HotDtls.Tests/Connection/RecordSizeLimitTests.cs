using System.Net;
using HotDtls.Connection;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Connection;

/// <summary>
/// record_size_limit (RFC 8449) and max_fragment_length (RFC 6066 §4) between the client and server engines: what each
/// role announces and answers, that every record sent afterwards — handshake fragments and application data — really
/// stays within the peer's limit (read off the wire), that an authentic record over one's own limit ends the session
/// with record_overflow, what MaxSendSize reports, and every refusal the RFCs name.
/// </summary>
public sealed class RecordSizeLimitTests
{
    private static readonly IPEndPoint s_client = new(IPAddress.Loopback, 43000);
    private static readonly byte[] s_serverRandom = [.. Enumerable.Range(0, 32).Select(i => (byte)(0x50 + i))];

    // TLS_PSK_WITH_AES_128_GCM_SHA256, the suite PlainPskOptions prefers: 8 bytes of explicit nonce, 16 of tag.
    private static readonly int s_overhead = CipherSuiteInfo.Get(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256).SealedLength(0);

    private static TestClient Client(ServerHarness server, int? recordSizeLimit = null, int? maxFragmentLength = null,
        int? connectionIdLength = null, string? identity = null)
    {
        var options = TestClient.PlainPskOptions(server);
        options.RecordSizeLimit = recordSizeLimit;
        options.MaxFragmentLength = maxFragmentLength;
        options.ConnectionIdLength = connectionIdLength;
        if (identity is not null)
        {
            options.PskIdentity = identity;
        }
        return new TestClient(server, s_client, options);
    }

    /// <summary>Runs the handshake, keeping a copy of every datagram each way.</summary>
    private static (List<byte[]> ToServer, List<byte[]> ToClient) Handshake(ServerHarness server, TestClient client)
    {
        var toServer = new List<byte[]>();
        var toClient = new List<byte[]>();
        client.Start();
        Exchange.Pump(server, client, (datagram, up) =>
        {
            (up ? toServer : toClient).Add(datagram);
            return [datagram];
        });
        Assert.True(client.Established, $"closed: {client.ClosedReason} {client.ClosedError} {client.ClosedAlert}");
        return (toServer, toClient);
    }

    /// <summary>
    /// The plaintext each record of a datagram carries: the length field of an epoch-0 record; for a protected one the
    /// length less the AEAD's nonce and tag (with a CID, that is the DTLSInnerPlaintext, the type byte included).
    /// </summary>
    private static List<int> PlaintextSizes(byte[] datagram, int connectionIdLength = 0)
    {
        var sizes = new List<int>();
        var reader = new DatagramReader(datagram, connectionIdLength);
        while (reader.TryReadRecord(out var header, out _))
        {
            sizes.Add(header.Epoch == 0 ? header.Length : header.Length - s_overhead);
        }
        Assert.NotEmpty(sizes);
        return sizes;
    }

    private static void AssertWithin(IEnumerable<byte[]> datagrams, int limit, int connectionIdLength = 0)
    {
        foreach (var datagram in datagrams)
        {
            foreach (var size in PlaintextSizes(datagram, connectionIdLength))
            {
                Assert.InRange(size, 0, limit);
            }
        }
    }

    private static ServerConnection ServerSide(ServerHarness server) => (ServerConnection)server.Handler.Established.Single().Channel;

    [Fact]
    public void A_client_announcing_64_gets_16384_back_and_every_server_record_from_the_ServerHello_on_stays_within_64()
    {
        // A long hint makes ServerKeyExchange far larger than 64 bytes; tickets add a NewSessionTicket to flight 6.
        using var server = new ServerHarness(o =>
        {
            o.PskIdentityHint = new string('h', 300);
            o.EnableSessionTickets = true;
        });
        using var client = Client(server, recordSizeLimit: 64);

        var (_, toClient) = Handshake(server, client);

        // Flight 2 (HelloVerifyRequest) answers before any state exists; everything after it obeys the limit.
        Assert.NotNull(Wire.CookieOf(toClient[0]));
        AssertWithin(toClient.Skip(1), 64);
        Assert.Contains(toClient.Skip(1), d => PlaintextSizes(d).Count > 3); // the flight really was cut into fragments
        var session = server.Handler.Established.Single();
        Assert.Equal(64, session.MaxSendSize);
        Assert.Equal(DtlsOptions.MaxRecordSizeLimit, client.Engine.MaxSendSize);
        Assert.False(client.Engine.PeerLimitsRecordSize);

        // Application data: the handler's answer and a push of exactly 64 bytes pass; 65 is refused, naming the limit.
        Assert.True(client.Send(new string('a', 1000)));
        Exchange.Pump(server, client);
        Assert.Equal($"to {s_client}: ACK", client.Received.Single());
        Assert.True(session.TrySend(new byte[64]));
        var pushed = Assert.Single(server.Sender.TakeFor(client.Address));
        AssertWithin([pushed], 64);
        var refused = Assert.Throws<ArgumentException>(() => session.Send(new byte[65]));
        Assert.Contains("64", refused.Message, StringComparison.Ordinal);
        Assert.Contains("peer", refused.Message, StringComparison.Ordinal);
        Assert.Empty(server.Sender.TakeFor(client.Address));
    }

    [Fact]
    public void The_server_answers_with_its_configured_limit_and_the_clients_flight_5_and_data_keep_to_it()
    {
        using var server = new ServerHarness(o => o.RecordSizeLimit = 100);
        using var client = Client(server, recordSizeLimit: 1024, identity: new string('i', 400));

        var (toServer, _) = Handshake(server, client);

        // Flight 5 (ClientKeyExchange with a 400-byte identity, Finished) follows the ServerHello: within 100.
        AssertWithin(toServer.Skip(2), 100);
        Assert.Equal(100, client.Engine.MaxSendSize);
        Assert.True(client.Engine.PeerLimitsRecordSize);
        Assert.Equal(1024, server.Handler.Established.Single().MaxSendSize);

        Assert.True(client.Engine.TrySend(new byte[100]));
        AssertWithin(client.Sender.TakeAll().Select(d => d.Datagram), 100);
        Assert.False(client.Engine.TrySend(new byte[101]));
        Assert.Equal(0, client.Sender.Count);
    }

    [Fact]
    public void The_refusal_message_names_the_limit_and_the_peer_and_the_plain_one_names_the_protocol()
    {
        var peer = DtlsSession.TooLargeMessage(300, 256, peerSetIt: true);
        Assert.Contains("300", peer, StringComparison.Ordinal);
        Assert.Contains("limited every record it receives to 256 bytes", peer, StringComparison.Ordinal);
        Assert.Contains("MaxSendSize is 256", peer, StringComparison.Ordinal);

        var protocol = DtlsSession.TooLargeMessage(16385, 16384, peerSetIt: false);
        Assert.Contains("16384", protocol, StringComparison.Ordinal);
        Assert.DoesNotContain("peer", protocol, StringComparison.Ordinal);
    }

    [Fact]
    public void A_client_announcing_nothing_leaves_both_sides_at_16384_and_a_configured_server_limit_unenforced()
    {
        using var server = new ServerHarness(o => o.RecordSizeLimit = 128);
        using var client = Client(server);

        Handshake(server, client);

        Assert.Equal(DtlsSession.MaxPlaintextLength, client.Engine.MaxSendSize);
        Assert.Equal(DtlsSession.MaxPlaintextLength, server.Handler.Established.Single().MaxSendSize);
        // The client never heard of the server's 128: the server must take what the protocol allows.
        Assert.True(client.Engine.TrySend(new byte[DtlsSession.MaxPlaintextLength]));
        Exchange.Pump(server, client);
        Assert.False(client.Connection.IsClosed);
        Assert.Equal(DtlsSession.MaxPlaintextLength, server.Handler.Datagrams.Single().Plaintext.Length);
    }

    [Fact]
    public void The_abbreviated_handshake_answers_record_size_limit_too()
    {
        using var server = new ServerHarness(o =>
        {
            o.EnableSessionResumption = true;
            o.RecordSizeLimit = 300;
        });
        DtlsSavedSession saved;
        using (var first = Client(server, recordSizeLimit: 200))
        {
            Handshake(server, first);
            saved = Assert.IsType<DtlsSavedSession>(first.Engine.SaveSession());
        }
        var options = TestClient.PlainPskOptions(server);
        options.RecordSizeLimit = 200;
        options.Session = saved;
        using var second = new TestClient(server, new IPEndPoint(IPAddress.Loopback, 43001), options, seed: 9);

        second.Start();
        var toClient = new List<byte[]>();
        Exchange.Pump(server, second, (d, up) =>
        {
            if (!up)
            {
                toClient.Add(d);
            }
            return [d];
        });

        Assert.True(second.Established);
        Assert.True(second.Engine.IsResumed);
        Assert.Equal(300, second.Engine.MaxSendSize);
        Assert.Equal(200, server.Handler.Established[^1].MaxSendSize);
        AssertWithin(toClient.Skip(1), 200);
        saved.Dispose();
    }

    [Theory]
    [InlineData(512)]
    [InlineData(1024)]
    [InlineData(2048)]
    [InlineData(4096)]
    public void Max_fragment_length_is_echoed_and_limits_both_directions_from_the_ServerHello_on(int length)
    {
        using var server = new ServerHarness(o => o.PskIdentityHint = new string('h', 5000));
        using var client = Client(server, maxFragmentLength: length, identity: new string('i', 5000));

        var (toServer, toClient) = Handshake(server, client);

        AssertWithin(toClient.Skip(1), length);
        AssertWithin(toServer.Skip(2), length);
        Assert.Equal(length, client.Engine.MaxSendSize);
        Assert.Equal(length, server.Handler.Established.Single().MaxSendSize);
        Assert.True(client.Engine.TrySend(new byte[length]));
        Exchange.Pump(server, client);
        Assert.Equal(length, server.Handler.Datagrams.Single().Plaintext.Length);
    }

    [Fact]
    public void With_both_extensions_the_server_ignores_max_fragment_length_and_answers_record_size_limit()
    {
        using var server = new ServerHarness();
        using var client = Client(server, recordSizeLimit: 2000, maxFragmentLength: 512);

        Handshake(server, client);

        // RFC 8449 §5. Had the server echoed max_fragment_length as well, the client would have refused the ServerHello.
        Assert.Equal(2000, server.Handler.Established.Single().MaxSendSize);
        Assert.Equal(DtlsSession.MaxPlaintextLength, client.Engine.MaxSendSize);
    }

    [Fact]
    public void With_a_CID_the_inner_type_byte_counts_against_the_limit()
    {
        using var server = new ServerHarness(o => o.ConnectionIdLength = 4);
        using var client = Client(server, recordSizeLimit: 64, connectionIdLength: 3);

        Handshake(server, client);
        var session = server.Handler.Established.Single();
        Assert.Equal(63, session.MaxSendSize);

        Assert.True(session.TrySend(new byte[63]));
        var pushed = Assert.Single(server.Sender.TakeFor(client.Address));
        Assert.Equal((byte)ContentType.Tls12Cid, pushed[0]);
        AssertWithin([pushed], 64, connectionIdLength: 3);
        client.Deliver(pushed);
        Assert.False(client.Connection.IsClosed);
        Assert.Throws<ArgumentException>(() => session.Send(new byte[64]));
    }

    [Fact]
    public void An_authentic_record_over_the_clients_limit_ends_the_session_with_record_overflow()
    {
        using var server = new ServerHarness();
        using var client = Client(server, recordSizeLimit: 100);
        Handshake(server, client);
        var session = server.Handler.Established.Single();

        // At the limit: delivered.
        Assert.True(session.TrySend(new byte[100]));
        client.Deliver(Assert.Single(server.Sender.TakeFor(client.Address)));
        Assert.False(client.Connection.IsClosed);

        // A server that ignores the limit (its record layer told otherwise) sends 101 bytes.
        ServerSide(server).Records.SetPlaintextLimits(0, 0);
        Assert.True(session.TrySend(new byte[101]));
        client.Deliver(Assert.Single(server.Sender.TakeFor(client.Address)));

        Assert.True(client.Connection.IsClosed);
        Assert.Equal(DtlsCloseReason.ProtocolError, client.ClosedReason);
        Assert.Equal(DtlsError.RecordOverflow, client.ClosedError);
        Assert.Equal(AlertDescription.RecordOverflow, client.ClosedAlert);
        // The alert goes out protected; the server closes on it.
        var alert = Assert.Single(client.Sender.TakeAll()).Datagram;
        server.Deliver(client.Address, alert);
        Assert.Equal(DtlsCloseReason.PeerAlert, server.Handler.Closed.Single().Reason);
    }

    [Fact]
    public void An_authentic_record_over_the_servers_limit_ends_the_session_with_record_overflow()
    {
        using var server = new ServerHarness(o => o.RecordSizeLimit = 128);
        using var client = Client(server, recordSizeLimit: 1000);
        Handshake(server, client);

        Assert.True(client.Engine.TrySend(new byte[128]));
        Exchange.Pump(server, client);
        Assert.Empty(server.Handler.Closed);

        client.Connection.Records.SetPlaintextLimits(0, 1000);
        Assert.True(client.Engine.TrySend(new byte[129]));
        Exchange.Pump(server, client);

        Assert.Equal(DtlsCloseReason.ProtocolError, server.Handler.Closed.Single().Reason);
        Assert.Equal(DtlsCloseReason.PeerAlert, client.ClosedReason);
        Assert.Equal(AlertDescription.RecordOverflow, client.ClosedAlert);
    }

    [Fact]
    public void Without_the_extension_an_oversized_record_is_only_dropped_as_before()
    {
        using var server = new ServerHarness();
        using var client = Client(server);
        Handshake(server, client);

        // Both sides at 2^14: nothing was announced, nothing is enforced beyond the protocol's own limit.
        Assert.Equal(0, client.Connection.Records.ReceivePlaintextLimit);
        Assert.Equal(0, ServerSide(server).Records.ReceivePlaintextLimit);
    }

    // ---- refusals: a ServerHello the client must reject ----

    private static TestClient StartedClient(ServerHarness server, int? recordSizeLimit, int? maxFragmentLength)
    {
        var options = new DtlsClientOptions
        {
            PskIdentity = "device",
            PskKey = ServerHarness.Key,
            TimeProvider = server.Time,
            UseSessionTickets = false,
            RecordSizeLimit = recordSizeLimit,
            MaxFragmentLength = maxFragmentLength,
        };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        var client = new TestClient(server, s_client, options);
        client.Start();
        Assert.Single(client.Sender.TakeAll());
        return client;
    }

    private static byte[] ServerHelloRecord(int recordSizeLimit, byte maxFragmentLengthCode)
    {
        var buffer = new byte[160];
        var length = ServerHello.Write(buffer, ProtocolVersion.Dtls12, s_serverRandom, [],
            (ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, extendedMasterSecret: true, renegotiationInfo: true);
        length = HelloExtensions.AppendRecordLimits(buffer, length, ServerHello.GetExtensionBlockStart(0), recordSizeLimit, maxFragmentLengthCode);
        return Wire.Record(ContentType.Handshake, 0, 0, Wire.Handshake(HandshakeType.ServerHello, 0, buffer[..length]));
    }

    private static void AssertClientFailedWith(TestClient client, AlertDescription alert)
    {
        var (header, body) = Assert.Single(Wire.Records(Assert.Single(client.Sender.TakeAll()).Datagram));
        Assert.Equal(ContentType.Alert, header.Type);
        Assert.Equal([(byte)AlertLevel.Fatal, (byte)alert], body);
        Assert.Equal(DtlsCloseReason.HandshakeFailed, client.ClosedReason);
        Assert.Equal(alert, client.ClosedAlert);
    }

    [Theory]
    [InlineData(null, null, 512, 0, AlertDescription.UnsupportedExtension)]   // record_size_limit not announced
    [InlineData(null, null, 0, 1, AlertDescription.UnsupportedExtension)]     // max_fragment_length not asked for
    [InlineData(null, 512, 512, 0, AlertDescription.UnsupportedExtension)]    // asked for max_fragment_length only
    [InlineData(1000, null, 0, 1, AlertDescription.UnsupportedExtension)]     // announced record_size_limit only
    [InlineData(1000, null, 63, 0, AlertDescription.IllegalParameter)]        // RFC 8449 §4: below 64
    [InlineData(1000, null, 0, 0, null)]                                      // control: no answer is fine
    [InlineData(1000, null, 64, 0, null)]                                     // control: 64 is legal
    [InlineData(null, 512, 0, 2, AlertDescription.IllegalParameter)]          // RFC 6066 §4: a different length
    [InlineData(null, 512, 0, 1, null)]                                       // control: the echo
    [InlineData(1000, 512, 1000, 1, AlertDescription.IllegalParameter)]       // RFC 8449 §5: both answered
    public void The_client_judges_the_servers_answers(int? recordSizeLimit, int? maxFragmentLength, int answeredLimit,
        byte answeredCode, AlertDescription? alert)
    {
        using var server = new ServerHarness();
        using var client = StartedClient(server, recordSizeLimit, maxFragmentLength);

        client.Deliver(ServerHelloRecord(answeredLimit, answeredCode));

        if (alert is { } expected)
        {
            AssertClientFailedWith(client, expected);
            return;
        }
        Assert.Equal(HandshakeState.ClientExpectServerKeyExchange, client.Connection.State);
        var limit = answeredLimit != 0 ? answeredLimit : HelloExtensions.MaxFragmentLengthOf(answeredCode);
        Assert.Equal(limit == 0 ? DtlsSession.MaxPlaintextLength : limit, client.Engine.MaxSendSize);
    }

    // ---- refusals: a ClientHello the server must reject ----

    /// <summary>Sends a cookie-verified ClientHello carrying the given limits and returns the server's one answer datagram.</summary>
    private static byte[] AnswerTo(ServerHarness server, int recordSizeLimit, byte maxFragmentLengthCode)
    {
        var from = s_client.Serialize();
        var random = new byte[32];
        random[0] = 0x42;
        var cookie = Wire.FetchCookie(server, from, random);
        var body = new byte[600];
        var hello = Wire.ClientHelloBody(random, cookie);
        hello.CopyTo(body, 0);
        var length = HelloExtensions.AppendRecordLimits(body, hello.Length,
            ClientHello.GetExtensionBlockStart(0, cookie.Length, Wire.DefaultSuites.Length), recordSizeLimit, maxFragmentLengthCode);
        server.Deliver(from, Wire.Record(ContentType.Handshake, 0, 1, Wire.Handshake(HandshakeType.ClientHello, 1, body.AsSpan(0, length))));
        return Assert.Single(server.Sender.TakeFor(from));
    }

    private static byte[]? ServerHelloBodyIn(byte[] datagram)
    {
        foreach (var (header, body) in Wire.Records(datagram))
        {
            if (header.Type == ContentType.Handshake && HandshakeHeader.TryRead(body, out var hs) && hs.MsgType == HandshakeType.ServerHello)
            {
                return body.AsSpan(HandshakeHeader.Size, hs.FragmentLength).ToArray();
            }
        }
        return null;
    }

    [Theory]
    [InlineData(63, 0)]   // RFC 8449 §4
    [InlineData(0, 0xFF)] // RFC 6066 §4: not a defined code
    [InlineData(0, 5)]
    public void The_server_refuses_an_illegal_limit_with_illegal_parameter(int recordSizeLimit, byte code)
    {
        using var server = new ServerHarness();

        var answer = AnswerTo(server, recordSizeLimit, code);

        var (header, body) = Assert.Single(Wire.Records(answer));
        Assert.Equal(ContentType.Alert, header.Type);
        Assert.Equal([(byte)AlertLevel.Fatal, (byte)AlertDescription.IllegalParameter], body);
    }

    [Theory]
    [InlineData(0, 1, 0, 1)]         // max_fragment_length alone: echoed
    [InlineData(700, 0, 16384, 0)]   // record_size_limit alone: answered with 2^14
    [InlineData(700, 0xFF, 16384, 0)] // both: max_fragment_length ignored, even an illegal one (RFC 8449 §5)
    [InlineData(40000, 0, 16384, 0)] // above 2^14: legal, DTLS 1.2's own limit still applies
    public void The_server_answers_what_it_accepts(int recordSizeLimit, byte code, int answeredLimit, byte answeredCode)
    {
        using var server = new ServerHarness();

        var serverHello = ServerHelloBodyIn(AnswerTo(server, recordSizeLimit, code));

        Assert.NotNull(serverHello);
        Assert.True(ServerHello.TryParse(serverHello, out var parsed));
        Assert.Equal(answeredLimit != 0, parsed.HasRecordSizeLimit);
        Assert.Equal(answeredLimit, parsed.RecordSizeLimit);
        Assert.Equal(answeredCode != 0, parsed.HasMaxFragmentLength);
        Assert.Equal(answeredCode, parsed.MaxFragmentLength);
    }
}
