using System.Net;

namespace HotDtls.Tests.Support;

/// <summary>Moves datagrams between test clients and a harness, optionally through a lossy filter.</summary>
internal static class Exchange
{
    public static readonly IPEndPoint DefaultClient = new(IPAddress.Loopback, 40000);

    /// <summary>
    /// Delivers queued datagrams both ways until neither side has anything to send. A filter may drop (return no
    /// datagrams), duplicate or hold back datagrams; it sees each datagram with its direction (true = to server).
    /// </summary>
    public static void Pump(ServerHarness server, TestClient client, Func<byte[], bool, IEnumerable<byte[]>>? filter = null,
        int maxRounds = 100)
    {
        for (var round = 0; round < maxRounds; round++)
        {
            var toServer = client.Sender.TakeAll();
            var toClient = server.Sender.TakeFor(client.Address);
            if (toServer.Count == 0 && toClient.Count == 0)
            {
                return;
            }
            foreach (var (datagram, _) in toServer)
            {
                foreach (var d in filter is null ? [datagram] : filter(datagram, true))
                {
                    server.Deliver(client.Address, d);
                }
            }
            foreach (var datagram in toClient)
            {
                foreach (var d in filter is null ? [datagram] : filter(datagram, false))
                {
                    client.Deliver(d);
                }
            }
        }
        throw new InvalidOperationException("The exchange did not settle within the round limit.");
    }

    /// <summary>Runs a complete handshake for a fresh client and returns it established.</summary>
    public static TestClient Handshake(ServerHarness server, IPEndPoint? address = null, int seed = 7)
    {
        var client = new TestClient(server, address ?? DefaultClient, seed: seed);
        client.Start();
        Pump(server, client);
        if (!client.Established)
        {
            throw new InvalidOperationException($"The handshake did not complete (closed: {client.ClosedReason}, error {client.ClosedError}).");
        }
        return client;
    }
}
