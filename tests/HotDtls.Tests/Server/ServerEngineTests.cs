using System.Net;
using HotDtls.Records;
using HotDtls.Server;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

public sealed class ServerEngineTests
{
    [Fact]
    public void Handshake_completes_and_datagram_is_acknowledged()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);

        Assert.True(client.Send("Message #1"));
        Exchange.Pump(server, client);

        Assert.Equal(["Message #1"], server.Handler.TextsFrom(client.EndPoint));
        Assert.Equal([$"to {client.EndPoint}: ACK"], client.Received);
        var stats = server.Statistics;
        Assert.Equal(1, stats.HandshakesCompleted);
        Assert.Equal(1, stats.HelloVerifyRequestsSent);
        Assert.Equal(1, stats.Sessions);
        Assert.Equal(0, stats.HandshakesInProgress);
    }

    [Theory]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    public void Each_suite_negotiates_when_it_is_the_only_one_offered(CipherSuite suite)
    {
        using var server = new ServerHarness();
        var options = new DtlsClientOptions { PskIdentity = "id", PskKey = ServerHarness.Key, TimeProvider = server.Time };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(suite);
        using var client = new TestClient(server, Exchange.DefaultClient, options);
        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.Equal(suite, client.Connection.NegotiatedSuite);
        Assert.Equal(suite, server.Handler.Established.Single().CipherSuite);
        Assert.True(client.Connection.UsesExtendedMasterSecret);
    }

    [Fact]
    public void Many_peers_on_one_engine_each_get_their_own_ack()
    {
        using var server = new ServerHarness();
        var clients = new List<TestClient>();
        for (var i = 0; i < 20; i++)
        {
            clients.Add(Exchange.Handshake(server, new IPEndPoint(IPAddress.Loopback, 41000 + i), seed: i));
        }
        foreach (var client in clients)
        {
            client.Send($"hello from {client.EndPoint.Port}");
            Exchange.Pump(server, client);
            Assert.Equal([$"to {client.EndPoint}: ACK"], client.Received);
            client.Dispose();
        }
        Assert.Equal(20, server.Statistics.Sessions);
    }
}

public sealed class FragmentedClientHelloTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void Cookie_valid_ClientHello_in_two_byte_fragments_completes_the_handshake(bool reverse, bool duplicate)
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        client.Start();
        // Flight 1 → HelloVerifyRequest → flight 3 (the ClientHello with the cookie), taken before delivery.
        server.Deliver(client.Address, client.Sender.TakeAll().Single().Datagram);
        client.Deliver(server.Sender.TakeFor(client.Address).Single());
        var helloWithCookie = client.Sender.TakeAll().Single().Datagram;

        var sequence = 100UL;
        foreach (var datagram in Refragmenter.Split(helloWithCookie, 2, ref sequence, reverse, duplicate))
        {
            server.Deliver(client.Address, datagram);
        }

        Assert.Equal(1, server.Statistics.HandshakesStarted);
        // The fragments took record sequence numbers the client does not know about; a real fragmenting client
        // numbers its later epoch-0 records after them, so this one's are renumbered to match.
        Exchange.Pump(server, client, (datagram, toServer) => toServer ? [Refragmenter.Renumber(datagram, ref sequence)] : [datagram]);
        Assert.True(client.Established, $"client closed: {client.ClosedReason} {client.ClosedError}, server: {server.Statistics}");
        Assert.True(client.Send("fragmented hello"));
        Exchange.Pump(server, client);
        Assert.Equal([$"to {client.EndPoint}: ACK"], client.Received);
    }

    [Fact]
    public void Fragment_of_a_cookieless_ClientHello_creates_no_state_and_gets_no_answer()
    {
        using var server = new ServerHarness();
        var from = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 40001).Serialize();
        var hello = Wire.ClientHelloDatagram(new byte[32], []);
        var sequence = 0UL;
        foreach (var datagram in Refragmenter.Split(hello, 16, ref sequence))
        {
            server.Deliver(from, datagram);
        }
        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(0, server.Statistics.Sessions);
        Assert.True(server.Statistics.RecordsDropped > 0);
    }
}

public sealed class ThrowingHandlerTests
{
    private sealed class ThrowingHandler : DtlsServerHandler
    {
        public int Calls { get; private set; }

        public override void OnHandshakeStarted(DtlsSession session) => Throw();

        public override void OnSessionEstablished(DtlsSession session) => Throw();

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            session.Send("reply before the throw"u8);
            Throw();
        }

        public override void OnSessionClosed(DtlsSession session, DtlsCloseReason reason) => Throw();

        private void Throw()
        {
            Calls++;
            throw new InvalidOperationException("application bug");
        }
    }

    [Fact]
    public void A_handler_that_throws_everywhere_does_not_break_the_engine_or_other_sessions()
    {
        var handler = new ThrowingHandler();
        using var harness = new ServerHarness();
        var options = harness.Options;
        using var engine = new HotDtls.Server.ServerEngine(options, handler, harness.Sender,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SeededRandom(3));

        for (var i = 0; i < 2; i++)
        {
            using var client = new TestClient(harness, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 42000 + i), seed: i);
            client.Start();
            for (var round = 0; round < 10; round++)
            {
                foreach (var (datagram, _) in client.Sender.TakeAll())
                {
                    engine.ProcessDatagram(client.Address, datagram);
                }
                foreach (var datagram in harness.Sender.TakeFor(client.Address))
                {
                    client.Deliver(datagram);
                }
            }
            Assert.True(client.Established);
            client.Send("hello");
            foreach (var (datagram, _) in client.Sender.TakeAll())
            {
                engine.ProcessDatagram(client.Address, datagram);
            }
            foreach (var datagram in harness.Sender.TakeFor(client.Address))
            {
                client.Deliver(datagram);
            }
            Assert.Equal(["reply before the throw"], client.Received);
        }
        Assert.Equal(2, engine.CloseAll());
        Assert.Equal(8, handler.Calls);
    }
}

public sealed class RefusedHandshakeTests
{
    [Fact]
    public void No_common_suite_gets_a_handshake_failure_alert_numbered_like_the_ClientHello()
    {
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[5] = 5;
        ushort[] ccm8Only = [0xC0A8];
        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 0,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 0, Wire.ClientHelloBody(random, [], ccm8Only))));
        var cookie = Wire.CookieOf(server.Sender.TakeFor(from).Single())!;

        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 1,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, Wire.ClientHelloBody(random, cookie, ccm8Only))));

        // The client's replay window has seen record 0 (the HelloVerifyRequest): the alert must be record 1, the
        // ClientHello's number (RFC 6347 §4.2.1), or a real client drops it and retransmits until it times out.
        var (header, body) = Wire.Records(server.Sender.TakeFor(from).Single()).Single();
        Assert.Equal(HotDtls.Records.ContentType.Alert, header.Type);
        Assert.Equal(1UL, header.SequenceNumber);
        Assert.Equal(new byte[] { (byte)AlertLevel.Fatal, (byte)AlertDescription.HandshakeFailure }, body);
        Assert.Equal(1, server.Statistics.HandshakesFailed);
        Assert.Equal(0, server.Statistics.Sessions);
    }
}

public sealed class HelloVerifyRequestLimitTests
{
    [Fact]
    public void A_datagram_packing_several_cookieless_ClientHellos_gets_one_HelloVerifyRequest()
    {
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var datagram = Wire.Concat(
            Wire.ClientHelloDatagram(new byte[32], [], recordSequence: 0),
            Wire.ClientHelloDatagram(new byte[32], [], recordSequence: 1),
            Wire.ClientHelloDatagram(new byte[32], [], recordSequence: 2));

        server.Deliver(from, datagram);

        Assert.Single(server.Sender.TakeFor(from));
        Assert.Equal(1, server.Statistics.HelloVerifyRequestsSent);
        Assert.True(server.Sender.BytesSent <= datagram.Length);
    }

    [Fact]
    public void A_whole_ClientHello_above_MaxHandshakeMessageLength_is_dropped_even_with_a_valid_cookie()
    {
        using var server = new ServerHarness(o => o.MaxHandshakeMessageLength = 1024);
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[1] = 1;
        var cookie = Wire.FetchCookie(server, from, random);
        var manySuites = new ushort[700];
        for (var i = 0; i < manySuites.Length; i++)
        {
            manySuites[i] = (ushort)(0x1000 + i);
        }
        manySuites[^1] = (ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        var body = Wire.ClientHelloBody(random, cookie, manySuites);
        Assert.True(body.Length > 1024);

        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 1,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, body)));

        Assert.Equal(0, server.Statistics.HandshakesStarted);
        Assert.Equal(0, server.Sender.Count);
    }
}

public sealed class CookieBindingTests
{
    [Fact]
    public void A_cookie_replayed_with_other_cipher_suites_gets_a_fresh_HelloVerifyRequest_and_no_state()
    {
        // RFC 6347 §4.2.1: the second ClientHello repeats version, random, session_id, cipher_suites and
        // compression_methods; the cookie binds all of them.
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[3] = 3;
        var cookie = Wire.FetchCookie(server, from, random);
        ushort[] otherSuites = [(ushort)CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384];

        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 1,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, Wire.ClientHelloBody(random, cookie, otherSuites))));

        Assert.NotNull(Wire.CookieOf(server.Sender.TakeFor(from).Single()));
        Assert.Equal(0, server.Statistics.HandshakesStarted);

        // Control: the same cookie with the suites it was made for starts the handshake.
        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 2,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, Wire.ClientHelloBody(random, cookie))));
        Assert.Equal(1, server.Statistics.HandshakesStarted);
    }

    [Fact]
    public void A_cookie_replayed_with_other_compression_methods_gets_a_fresh_HelloVerifyRequest()
    {
        using var server = new ServerHarness();
        var from = Exchange.DefaultClient.Serialize();
        var random = new byte[32];
        random[4] = 4;
        var cookie = Wire.FetchCookie(server, from, random);
        var body = Wire.ClientHelloBody(random, cookie);
        // compression_methods sits right after cipher_suites: <len=1><0>. Offer {1, 0} instead (same length
        // budget is not needed: rebuild the body around it).
        var compressionOffset = 2 + 32 + 1 + 0 + 1 + cookie.Length + 2 + 2;
        Assert.Equal(1, body[compressionOffset]);
        var altered = Wire.Concat(body[..compressionOffset], [2, 1, 0], body[(compressionOffset + 2)..]);

        server.Deliver(from, Wire.Record(HotDtls.Records.ContentType.Handshake, 0, 1,
            Wire.Handshake(HotDtls.Handshake.HandshakeType.ClientHello, 1, altered)));

        Assert.NotNull(Wire.CookieOf(server.Sender.TakeFor(from).Single()));
        Assert.Equal(0, server.Statistics.HandshakesStarted);
    }
}

public sealed class SteadyStateAllocationTests
{
    private sealed class SilentHandler : DtlsServerHandler
    {
        public int Count { get; private set; }

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            Count++;
            session.Send(plaintext);
        }
    }

    private sealed class DiscardingSender : HotDtls.Transport.IDatagramSender
    {
        public HotDtls.Transport.IDatagramSender? Inner { get; set; }

        public void Send(ReadOnlySpan<byte> datagram, System.Net.SocketAddress peer) => Inner?.Send(datagram, peer);
    }

    [Fact]
    public void Receiving_and_answering_application_data_allocates_nothing()
    {
        using var harness = new ServerHarness();
        var handler = new SilentHandler();
        var sender = new DiscardingSender { Inner = harness.Sender };
        using var engine = new HotDtls.Server.ServerEngine(harness.Options, handler, sender,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SeededRandom(5));
        using var client = new TestClient(harness, Exchange.DefaultClient);
        client.Start();
        for (var round = 0; round < 10 && !client.Established; round++)
        {
            foreach (var (datagram, _) in client.Sender.TakeAll())
            {
                engine.ProcessDatagram(client.Address, datagram);
            }
            foreach (var datagram in harness.Sender.TakeFor(client.Address))
            {
                client.Deliver(datagram);
            }
        }
        Assert.True(client.Established);

        const int count = 200;
        for (var i = 0; i < count + 20; i++)
        {
            client.Send("steady state payload of a typical telemetry datagram");
        }
        var records = client.Sender.TakeAll();
        sender.Inner = null; // from here on, answers go nowhere (and allocate nothing)
        var from = client.Address;
        // Warm up: JIT and first-use paths.
        for (var i = 0; i < 20; i++)
        {
            engine.ProcessDatagram(from, records[i].Datagram);
        }

        // The measured records in Allocations.Attempts batches of 40, each batch a fresh run of the steady state.
        const int batch = count / Allocations.Attempts;
        var next = 20;
        var allocated = Allocations.Least(_ =>
        {
            for (var i = 0; i < batch; i++)
            {
                engine.ProcessDatagram(from, records[next++].Datagram);
            }
        });
        for (; next < records.Count; next++)
        {
            engine.ProcessDatagram(from, records[next].Datagram);
        }

        Assert.Equal(count + 20, handler.Count);
        Assert.Equal(0, allocated);
    }
}
