using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

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
