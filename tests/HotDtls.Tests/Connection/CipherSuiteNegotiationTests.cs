using System.Buffers.Binary;
using System.Net;
using System.Text;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Connection;

/// <summary>
/// Every suite of the provider table end to end between the client and server engines, and the rules of choosing one:
/// server preference, groups, encrypt_then_mac, point formats, and what a tampering peer or middlebox gets.
/// </summary>
public sealed class CipherSuiteNegotiationTests
{
    private static readonly IPEndPoint s_peer = new(IPAddress.Loopback, 41000);

    public static TheoryData<CipherSuite, NamedGroup> SuitesAndGroups()
    {
        var data = new TheoryData<CipherSuite, NamedGroup>();
        foreach (var info in CipherSuiteInfo.All)
        {
            data.Add(info.Suite, NamedGroup.X25519);
            if (info.IsEcdhe)
            {
                data.Add(info.Suite, NamedGroup.Secp256r1);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SuitesAndGroups))]
    public void Every_suite_completes_a_handshake_and_carries_datagrams_both_ways(CipherSuite suite, NamedGroup group)
    {
        using var server = new ServerHarness();
        var options = TestClient.OptionsFor(server, suite);
        options.NamedGroups.Clear();
        options.NamedGroups.Add(group);
        using var client = new TestClient(server, s_peer, options);

        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established, $"closed: {client.ClosedReason} {client.ClosedError} {client.ClosedAlert}");
        Assert.Equal(suite, client.Engine.NegotiatedSuite);
        var session = Assert.Single(server.Handler.Established);
        Assert.Equal(suite, session.CipherSuite);
        Assert.Equal("Qt DTLS example server"u8.ToArray(), client.Engine.IdentityHint);

        // Sizes around the CBC block and the largest record.
        foreach (var size in new[] { 1, 15, 16, 17, 1200, DtlsSession.MaxPlaintextLength })
        {
            var text = new string((char)('a' + (size % 26)), size);
            Assert.True(client.Send(text));
            Exchange.Pump(server, client);
            Assert.Equal(text, server.Handler.TextsFrom(s_peer).Last());
            Assert.Equal($"to {s_peer}: ACK", client.Received.Last());
        }
        Assert.Equal(0, client.Dropped);
    }

    [Fact]
    public void The_server_picks_by_its_own_preference_not_the_clients()
    {
        using var server = new ServerHarness(o =>
        {
            o.CipherSuites.Clear();
            o.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8);
            o.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        });
        var options = TestClient.OptionsFor(server, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8);
        using var client = new TestClient(server, s_peer, options);

        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, client.Engine.NegotiatedSuite);
    }

    [Fact]
    public void The_default_server_prefers_forward_secrecy_and_x25519()
    {
        using var server = new ServerHarness();
        var options = TestClient.OptionsFor(server, [.. DtlsOptions.DefaultCipherSuites]);
        options.NamedGroups.Clear();
        options.NamedGroups.Add(NamedGroup.Secp256r1);
        options.NamedGroups.Add(NamedGroup.X25519);
        using var client = new TestClient(server, s_peer, options);

        client.Start();
        var flight4 = new List<byte[]>();
        Exchange.Pump(server, client, (datagram, toServer) =>
        {
            if (!toServer)
            {
                flight4.Add(datagram);
            }
            return [datagram];
        });

        Assert.True(client.Established);
        Assert.Equal(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, client.Engine.NegotiatedSuite);
        var keyExchange = Messages(flight4).First(m => m.Type == HandshakeType.ServerKeyExchange).Body;
        Assert.True(ServerKeyExchangeEcdhePsk.TryParse(keyExchange, out var hint, out var group, out var point));
        Assert.Equal("Qt DTLS example server", Encoding.UTF8.GetString(hint));
        Assert.Equal((ushort)NamedGroup.X25519, group);
        Assert.Equal(32, point.Length);
    }

    [Fact]
    public void Without_a_common_group_an_ecdhe_suite_is_skipped_for_the_next_common_one()
    {
        using var server = new ServerHarness(o =>
        {
            o.NamedGroups.Clear();
            o.NamedGroups.Add(NamedGroup.Secp256r1);
        });
        var options = TestClient.OptionsFor(server, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_128_CCM);
        options.NamedGroups.Clear();
        options.NamedGroups.Add(NamedGroup.X25519);
        using var client = new TestClient(server, s_peer, options);

        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_CCM, client.Engine.NegotiatedSuite);
    }

    [Fact]
    public void A_client_offering_only_disabled_suites_gets_handshake_failure()
    {
        using var server = new ServerHarness(o =>
        {
            o.CipherSuites.Clear();
            o.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        });
        var options = TestClient.OptionsFor(server, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256);
        using var client = new TestClient(server, s_peer, options);

        client.Start();
        Exchange.Pump(server, client);

        Assert.False(client.Established);
        Assert.Equal((DtlsCloseReason.PeerAlert, AlertDescription.HandshakeFailure), (client.ClosedReason, client.ClosedAlert));
    }

    [Fact]
    public void A_cbc_suite_is_never_chosen_without_encrypt_then_mac()
    {
        using var server = new ServerHarness();
        var from = s_peer.Serialize();
        var random = new byte[32];
        random[3] = 3;
        ushort[] suites = [(ushort)CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256, (ushort)CipherSuite.TLS_PSK_WITH_AES_128_CCM];

        var flight4 = HelloAndAnswer(server, from, random, suites, encryptThenMac: false);
        var hello = Messages(flight4).First(m => m.Type == HandshakeType.ServerHello).Body;
        Assert.True(ServerHello.TryParse(hello, out var parsed));
        Assert.Equal((ushort)CipherSuite.TLS_PSK_WITH_AES_128_CCM, parsed.CipherSuite);
        Assert.False(parsed.HasEncryptThenMac);

        ushort[] cbcOnly = [(ushort)CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256];
        var withEtm = HelloAndAnswer(server, new IPEndPoint(IPAddress.Loopback, 41001).Serialize(), random, cbcOnly, encryptThenMac: true);
        Assert.True(ServerHello.TryParse(Messages(withEtm).First(m => m.Type == HandshakeType.ServerHello).Body, out var chosen));
        Assert.Equal((ushort)CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256, chosen.CipherSuite);
        Assert.True(chosen.HasEncryptThenMac);

        var refused = HelloAndAnswer(server, new IPEndPoint(IPAddress.Loopback, 41002).Serialize(), random, cbcOnly, encryptThenMac: false);
        var (header, body) = Assert.Single(Wire.Records(Assert.Single(refused)));
        Assert.Equal(ContentType.Alert, header.Type);
        Assert.Equal(new byte[] { (byte)AlertLevel.Fatal, (byte)AlertDescription.HandshakeFailure }, body);
    }

    [Fact]
    public void Point_formats_without_uncompressed_end_an_ecdhe_handshake_with_illegal_parameter()
    {
        using var server = new ServerHarness();
        var from = s_peer.Serialize();
        var random = new byte[32];
        ushort[] suites = [(ushort)CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256];
        // supported_groups: x25519; ec_point_formats: ansiX962_compressed_prime (1) only.
        var extensions = Convert.FromHexString("000a00040002001d" + "000b00020101");

        var answer = HelloAndAnswer(server, from, random, suites, encryptThenMac: false, extraExtensions: extensions);

        var (header, body) = Assert.Single(Wire.Records(Assert.Single(answer)));
        Assert.Equal(ContentType.Alert, header.Type);
        Assert.Equal(new byte[] { (byte)AlertLevel.Fatal, (byte)AlertDescription.IllegalParameter }, body);
    }

    [Theory]
    [InlineData(NamedGroup.X25519)]
    [InlineData(NamedGroup.Secp256r1)]
    public void An_invalid_client_point_ends_the_handshake_with_illegal_parameter(NamedGroup group)
    {
        using var server = new ServerHarness();
        var options = TestClient.OptionsFor(server, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256);
        options.NamedGroups.Clear();
        options.NamedGroups.Add(group);
        using var client = new TestClient(server, s_peer, options);
        var alerts = new List<byte[]>();

        client.Start();
        Exchange.Pump(server, client, (datagram, toServer) =>
        {
            if (!toServer)
            {
                alerts.AddRange(Wire.Records(datagram).Where(r => r.Header.Type == ContentType.Alert).Select(r => r.Body));
                return [datagram];
            }
            return [ReplacePoint(datagram, HandshakeType.ClientKeyExchange, group)];
        });

        Assert.False(client.Established);
        Assert.Contains(alerts, a => a.AsSpan().SequenceEqual(new byte[] { (byte)AlertLevel.Fatal, (byte)AlertDescription.IllegalParameter }));
        Assert.Equal(0, server.Statistics.Sessions);
    }

    [Theory]
    [InlineData(NamedGroup.X25519)]
    [InlineData(NamedGroup.Secp256r1)]
    public void An_invalid_server_point_makes_the_client_refuse_with_illegal_parameter(NamedGroup group)
    {
        using var server = new ServerHarness();
        var options = TestClient.OptionsFor(server, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256);
        options.NamedGroups.Clear();
        options.NamedGroups.Add(group);
        using var client = new TestClient(server, s_peer, options);

        client.Start();
        Exchange.Pump(server, client, (datagram, toServer) =>
            toServer ? [datagram] : [ReplacePoint(datagram, HandshakeType.ServerKeyExchange, group)]);

        Assert.False(client.Established);
        Assert.Equal(DtlsError.IllegalParameter, client.ClosedError);
    }

    [Fact]
    public void A_middlebox_that_strips_the_preferred_suites_from_both_hellos_is_caught_at_finished()
    {
        using var server = new ServerHarness();
        var options = TestClient.OptionsFor(server, CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8);
        using var client = new TestClient(server, s_peer, options);

        client.Start();
        // Both ClientHellos lose their first suite, so the cookie still matches and the server picks the weaker suite,
        // which the client did offer: only the Finished messages, over the whole transcript, can tell.
        Exchange.Pump(server, client, (datagram, toServer) => toServer ? [StripFirstSuite(datagram)] : [datagram]);

        Assert.False(client.Established);
        Assert.Equal(0, server.Statistics.Sessions);
        Assert.Equal(1, server.Statistics.HandshakesFailed);
    }

    [Fact]
    public void Ecdhe_client_hellos_without_a_valid_cookie_cost_no_key_and_no_allocation()
    {
        using var server = new ServerHarness();
        ushort[] suites = [(ushort)CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256, (ushort)CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256];
        var groups = Convert.FromHexString("000a00060004001d0017" + "000b00020100");
        var random = new byte[32];
        var cookieless = Wire.Record(ContentType.Handshake, 0, 0,
            Wire.Handshake(HandshakeType.ClientHello, 0, HelloBody(random, [], suites, encryptThenMac: false, groups)));
        var badCookie = Wire.Record(ContentType.Handshake, 0, 1,
            Wire.Handshake(HandshakeType.ClientHello, 1, HelloBody(random, new byte[32], suites, encryptThenMac: false, groups)));
        var peers = new SocketAddress[64];
        for (var i = 0; i < peers.Length; i++)
        {
            peers[i] = new IPEndPoint(IPAddress.Loopback, 42000 + i).Serialize();
        }
        // Answers go nowhere (a capturing sender would allocate for each HelloVerifyRequest it keeps).
        using var engine = new HotDtls.Server.ServerEngine(server.Options, server.Handler, new CountingSender(),
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SeededRandom(5));
        // Warm up the hello path (JIT, the HelloVerifyRequest writer).
        engine.ProcessDatagram(peers[0], cookieless);

        // An ephemeral key (libsodium or libcrypto object and its buffers) would show here as allocations.
        var allocated = Allocations.Least(attempt =>
        {
            foreach (var peer in peers)
            {
                engine.ProcessDatagram(peer, cookieless);
                engine.ProcessDatagram(peer, badCookie);
            }
        });

        Assert.Equal(0, allocated);
        var statistics = engine.GetStatistics();
        Assert.Equal((0, 0), (statistics.Sessions, statistics.HandshakesInProgress));
        Assert.True(statistics.HelloVerifyRequestsSent >= 2 * peers.Length, "the hellos were not even answered");
    }

    private sealed class CountingSender : HotDtls.Transport.IDatagramSender
    {
        public int Sent { get; private set; }

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer) => Sent++;
    }

    private static List<byte[]> HelloAndAnswer(ServerHarness server, SocketAddress from, byte[] random, ushort[] suites,
        bool encryptThenMac, byte[]? extraExtensions = null)
    {
        server.Deliver(from, Wire.Record(ContentType.Handshake, 0, 0,
            Wire.Handshake(HandshakeType.ClientHello, 0, HelloBody(random, [], suites, encryptThenMac, extraExtensions))));
        var cookie = Wire.CookieOf(server.Sender.TakeFor(from).Single())!;
        server.Deliver(from, Wire.Record(ContentType.Handshake, 0, 1,
            Wire.Handshake(HandshakeType.ClientHello, 1, HelloBody(random, cookie, suites, encryptThenMac, extraExtensions))));
        return server.Sender.TakeFor(from);
    }

    private static byte[] HelloBody(byte[] random, byte[] cookie, ushort[] suites, bool encryptThenMac, byte[]? extraExtensions)
    {
        var buffer = new byte[1024];
        var length = ClientHello.Write(buffer, ProtocolVersion.Dtls12, random, [], cookie, suites, true, true, encryptThenMac);
        if (extraExtensions is null)
        {
            return buffer[..length];
        }
        // Append raw extensions to the block (whose length field follows compression_methods).
        var body = buffer[..length];
        var blockStart = 2 + 32 + 1 + 1 + cookie.Length + 2 + (2 * suites.Length) + 2;
        var blockLength = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(blockStart));
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(blockStart), (ushort)(blockLength + extraExtensions.Length));
        return [.. body, .. extraExtensions];
    }

    private static IEnumerable<(HandshakeType Type, byte[] Body)> Messages(IEnumerable<byte[]> datagrams)
    {
        foreach (var datagram in datagrams)
        {
            foreach (var (header, body) in Wire.Records(datagram))
            {
                if (header.Type != ContentType.Handshake || header.Epoch != 0)
                {
                    continue;
                }
                var offset = 0;
                while (offset + HandshakeHeader.Size <= body.Length
                    && HandshakeHeader.TryRead(body.AsSpan(offset), out var message))
                {
                    yield return (message.MsgType, body.AsSpan(offset + HandshakeHeader.Size, message.FragmentLength).ToArray());
                    offset += HandshakeHeader.Size + message.FragmentLength;
                }
            }
        }
    }

    /// <summary>Rewrites the ECDH point at the end of an epoch-0 key exchange message into one that must be refused.</summary>
    private static byte[] ReplacePoint(byte[] datagram, HandshakeType type, NamedGroup group)
        => RewriteMessage(datagram, type, body =>
        {
            var pointLength = group == NamedGroup.X25519 ? 32 : 65;
            var point = body.AsSpan(body.Length - pointLength);
            if (group == NamedGroup.X25519)
            {
                // A point of small order: the shared secret is all zeros (RFC 7748 §6.1).
                point.Clear();
            }
            else
            {
                // Still uncompressed, but y is changed: off the curve.
                point[^1] ^= 1;
            }
        });

    private static byte[] StripFirstSuite(byte[] datagram)
        => RewriteMessage(datagram, HandshakeType.ClientHello, body =>
        {
            var cookieLength = body[2 + 32 + 1];
            var suitesAt = 2 + 32 + 1 + 1 + cookieLength;
            var suitesLength = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(suitesAt));
            // Replace the first suite by repeating the last one: same length, so no other field moves.
            body.AsSpan(suitesAt + 2 + suitesLength - 2, 2).CopyTo(body.AsSpan(suitesAt + 2, 2));
        });

    private static byte[] RewriteMessage(byte[] datagram, HandshakeType type, Action<byte[]> rewrite)
    {
        var output = new List<byte>();
        foreach (var (header, body) in Wire.Records(datagram))
        {
            if (header.Type == ContentType.Handshake && header.Epoch == 0
                && HandshakeHeader.TryRead(body, out var message) && message.MsgType == type
                && message.FragmentOffset == 0 && message.FragmentLength == message.Length)
            {
                var messageBody = body.AsSpan(HandshakeHeader.Size, message.FragmentLength).ToArray();
                rewrite(messageBody);
                messageBody.CopyTo(body.AsSpan(HandshakeHeader.Size));
            }
            output.AddRange(Wire.Record(header.Type, header.Epoch, header.SequenceNumber, body));
        }
        return [.. output];
    }
}
