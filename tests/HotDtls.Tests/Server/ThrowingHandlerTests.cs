using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

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
