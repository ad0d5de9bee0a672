using System.Net;
using HotDtls.Connection;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Hostile;

/// <summary>
/// Runs an honest <see cref="TestClient"/> to a chosen point of the handshake, so a test can replace, cut up or
/// reorder one of its flights before the server sees it.
/// </summary>
internal static class FlightSteps
{
    /// <summary>
    /// Runs the cookie exchange and flight 3 → 4, and lets the client answer flight 4. Flight 5 (ClientKeyExchange,
    /// ChangeCipherSpec, Finished) is returned, not delivered: the server waits for ClientKeyExchange.
    /// </summary>
    public static List<byte[]> ToFlight5(ServerHarness server, TestClient client) => Run(server, client).Flight5;

    /// <summary>As <see cref="ToFlight5"/>, keeping the client's flights 1 and 3 too.</summary>
    public static Flights Run(ServerHarness server, TestClient client)
    {
        client.Start();
        var flight1 = Take(client);
        Deliver(server, client, flight1);
        DeliverToClient(server, client);                           // flight 2: HelloVerifyRequest
        var flight3 = Take(client);
        Deliver(server, client, flight3);
        DeliverToClient(server, client);                           // flight 4
        var flight5 = Take(client);
        Assert.NotEmpty(flight5);
        return new Flights(flight1, flight3, flight5);
    }

    /// <summary>Everything the client has sent and nobody has delivered yet.</summary>
    public static List<byte[]> Take(TestClient client)
    {
        var taken = new List<byte[]>();
        foreach (var (datagram, _) in client.Sender.TakeAll())
        {
            taken.Add(datagram);
        }
        return taken;
    }

    public static void Deliver(ServerHarness server, TestClient client, List<byte[]> datagrams)
    {
        foreach (var datagram in datagrams)
        {
            server.Deliver(client.Address, datagram);
        }
    }

    /// <summary>The records of flight 5 by role: ClientKeyExchange, ChangeCipherSpec and the protected Finished.</summary>
    public static (Rec KeyExchange, Rec ChangeCipherSpec, Rec Finished) Split(List<byte[]> flight5)
    {
        var records = new List<Rec>();
        foreach (var datagram in flight5)
        {
            foreach (var (header, body) in Wire.Records(datagram))
            {
                records.Add(new Rec(header, body));
            }
        }
        Assert.Equal(3, records.Count);
        Assert.Equal(ContentType.Handshake, records[0].Header.Type);
        Assert.Equal((byte)HandshakeType.ClientKeyExchange, records[0].Body[0]);
        Assert.Equal(ContentType.ChangeCipherSpec, records[1].Header.Type);
        Assert.Equal(1, records[2].Header.Epoch);
        return (records[0], records[1], records[2]);
    }

    /// <summary>The server's connection for <paramref name="peer"/>: the latest handshake started from that address.</summary>
    public static ServerConnection ServerSide(ServerHarness server, IPEndPoint peer)
        => server.Handler.Started.Last(s => s.RemoteEndPoint.Equals(peer)).Connection;

    public static void DeliverToClient(ServerHarness server, TestClient client)
    {
        foreach (var datagram in server.Sender.TakeFor(client.Address))
        {
            client.Deliver(datagram);
        }
    }

    /// <summary>Seals <paramref name="payload"/> as one epoch-1 record with the client's keys (its next write sequence number).</summary>
    public static byte[] Seal(TestClient client, ContentType type, ReadOnlySpan<byte> payload)
    {
        var buffer = new byte[RecordLayer.RecordSize(CipherSuiteInfo.Aes128GcmSha256, 1, payload.Length)];
        var written = client.Connection.Records.Write(type, 1, payload, buffer);
        Assert.Equal(buffer.Length, written);
        return buffer;
    }

    /// <summary>Opens every record of a datagram from the server with the client's keys: (type, epoch, plaintext).</summary>
    public static List<(ContentType Type, ushort Epoch, byte[] Plaintext)> Open(TestClient client, byte[] datagram)
    {
        var result = new List<(ContentType, ushort, byte[])>();
        var copy = (byte[])datagram.Clone();
        var reader = new DatagramReader(copy);
        while (reader.TryReadRecord(out var header, out var offset))
        {
            var body = copy.AsSpan(offset, header.Length);
            Assert.Equal(OpenResult.Opened, client.Connection.Records.TryOpen(header, body, out var plaintext));
            result.Add((header.Type, header.Epoch, plaintext.ToArray()));
        }
        return result;
    }

    /// <summary>The client sends one datagram and gets the handler's ACK back: the association works.</summary>
    public static void AssertEcho(ServerHarness server, TestClient client, string text = "ping")
    {
        var before = client.Received.Count;
        Assert.True(client.Send(text));
        Exchange.Pump(server, client);
        Assert.Contains(text, server.Handler.TextsFrom(client.EndPoint));
        Assert.Equal(before + 1, client.Received.Count);
        Assert.Equal($"to {client.EndPoint}: ACK", client.Received[^1]);
    }

    /// <summary>A fresh honest client at another address completes its handshake and an echo.</summary>
    public static TestClient AssertOtherPeerFine(ServerHarness server, int port = 45000, int seed = 99)
    {
        var other = Exchange.Handshake(server, new IPEndPoint(IPAddress.Loopback, port), seed);
        AssertEcho(server, other, "other");
        return other;
    }

    /// <summary>
    /// HOSTILE's "drop": nothing sent, no per-peer state created or removed, no handler event, and
    /// <paramref name="drops"/> more records counted as dropped.
    /// </summary>
    public static void AssertDropped(ServerHarness server, DtlsServerStatistics before, int handlerEventsBefore, long drops)
    {
        var after = server.Statistics;
        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(before.RecordsDropped + drops, after.RecordsDropped);
        Assert.Equal(before.Sessions, after.Sessions);
        Assert.Equal(before.HandshakesInProgress, after.HandshakesInProgress);
        Assert.Equal(before.HandshakesStarted, after.HandshakesStarted);
        Assert.Equal(before.HandshakesCompleted, after.HandshakesCompleted);
        Assert.Equal(before.HandshakesFailed, after.HandshakesFailed);
        Assert.Equal(before.HelloVerifyRequestsSent, after.HelloVerifyRequestsSent);
        Assert.Equal(before.DatagramsDelivered, after.DatagramsDelivered);
        Assert.Equal(handlerEventsBefore, HandlerEvents(server));
    }

    /// <summary>How many events the handler has seen so far.</summary>
    public static int HandlerEvents(ServerHarness server)
        => server.Handler.Started.Count + server.Handler.Established.Count + server.Handler.Datagrams.Count
            + server.Handler.Closed.Count;

    /// <summary>Delivers the rest of the honest flight 5 (and what follows) and checks the handshake and an echo complete.</summary>
    public static void AssertCompletes(ServerHarness server, TestClient client, params byte[][] datagrams)
    {
        foreach (var datagram in datagrams)
        {
            server.Deliver(client.Address, datagram);
        }
        Exchange.Pump(server, client);
        Assert.True(client.Established, $"client not established (closed: {client.ClosedReason}, {client.ClosedError})");
        Assert.True(ServerSide(server, client.EndPoint).IsEstablished);
        AssertEcho(server, client);
    }

    /// <summary>The body (after the handshake header) of a record holding one whole handshake message.</summary>
    public static byte[] MessageBody(byte[] recordBody) => recordBody[HandshakeHeader.Size..];

    /// <summary>Fragment [offset, offset+length) of a message whose body is <paramref name="body"/>.</summary>
    public static byte[] Fragment(HandshakeType type, ushort messageSeq, byte[] body, int offset, int length)
        => Wire.HandshakeFragment(type, messageSeq, body.Length, offset, body.AsSpan(offset, length));

    /// <summary>Epoch-0 handshake records holding <paramref name="perRecord"/> fragments each, numbered from <paramref name="firstSequence"/>.</summary>
    public static List<byte[]> PackRecords(IReadOnlyList<byte[]> fragments, int perRecord, ulong firstSequence)
    {
        var records = new List<byte[]>();
        for (var i = 0; i < fragments.Count; i += perRecord)
        {
            var parts = new List<byte[]>();
            for (var j = i; j < Math.Min(i + perRecord, fragments.Count); j++)
            {
                parts.Add(fragments[j]);
            }
            records.Add(Wire.Record(ContentType.Handshake, 0, firstSequence++, Wire.Concat([.. parts])));
        }
        return records;
    }

    internal sealed record Flights(List<byte[]> Flight1, List<byte[]> Flight3, List<byte[]> Flight5);

    /// <summary>One record of a captured datagram, to be written back as is or changed.</summary>
    internal readonly record struct Rec(RecordHeader Header, byte[] Body)
    {
        /// <summary>The record's bytes, with another sequence number or body if given.</summary>
        public byte[] Bytes(ulong? sequence = null, byte[]? body = null)
            => Wire.Record(Header.Type, Header.Epoch, sequence ?? Header.SequenceNumber, body ?? Body, Header.Version);
    }
}
