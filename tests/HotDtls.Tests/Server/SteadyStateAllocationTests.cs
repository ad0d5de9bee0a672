using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

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

    public static TheoryData<CipherSuite> Suites()
    {
        var data = new TheoryData<CipherSuite>();
        foreach (var info in HotDtls.Crypto.CipherSuiteInfo.All)
        {
            data.Add(info.Suite);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Receiving_and_answering_application_data_allocates_nothing(CipherSuite suite)
        => AssertSteadyStateAllocatesNothing(suite, connectionIdLength: null);

    [Theory]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256)]
    [InlineData(CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256)]
    public void With_Connection_IDs_both_ways_receiving_and_answering_allocates_nothing(CipherSuite suite)
        => AssertSteadyStateAllocatesNothing(suite, connectionIdLength: 4);

    private static void AssertSteadyStateAllocatesNothing(CipherSuite suite, int? connectionIdLength)
    {
        using var harness = new ServerHarness();
        var handler = new SilentHandler();
        var sender = new DiscardingSender { Inner = harness.Sender };
        using var engine = new HotDtls.Server.ServerEngine(harness.Options, handler, sender,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, new SeededRandom(5));
        var options = TestClient.OptionsFor(harness, suite);
        options.ConnectionIdLength = connectionIdLength;
        using var client = new TestClient(harness, Exchange.DefaultClient, options);
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
        Assert.Equal(suite, client.Engine.NegotiatedSuite);
        Assert.Equal(connectionIdLength is not null, client.Engine.ConnectionIdNegotiated);

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
