using System.Net;
using System.Text;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Hostile;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

/// <summary>
/// The PSK store seen from the engine: a lookup that completes later (the rest of flight 5 waits for it and is then
/// used without the client having to retransmit), a store that fails (internal_error), an unknown identity that
/// looks exactly like a wrong key on the wire (RFC 4279 §2), and the largest identities and keys.
/// </summary>
public sealed class AsyncPskStoreTests
{
    private static readonly IPEndPoint s_peer = new(IPAddress.Loopback, 43000);

    /// <summary>A store whose every lookup waits until the test completes it.</summary>
    private sealed class ControlledStore : IPskStore
    {
        public List<Lookup> Lookups { get; } = [];

        public ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken)
        {
            var result = new TaskCompletionSource<byte[]?>();
            Lookups.Add(new Lookup(identity.ToArray(), cancellationToken, result));
            return new ValueTask<byte[]?>(result.Task);
        }
    }

    private sealed record Lookup(byte[] Identity, CancellationToken Token, TaskCompletionSource<byte[]?> Result)
    {
        public void Complete(byte[]? key) => Inline.Run(() => Result.SetResult(key));
    }

    /// <summary>A store that fails: by throwing, with a faulted task, or with a task that faults later.</summary>
    private sealed class FailingStore(string mode) : IPskStore
    {
        public TaskCompletionSource<byte[]?> Later { get; } = new();

        public ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken) => mode switch
        {
            "throws" => throw new InvalidOperationException("the key database is down"),
            "faulted" => ValueTask.FromException<byte[]?>(new InvalidOperationException("the key database is down")),
            _ => new ValueTask<byte[]?>(Later.Task),
        };
    }

    [Fact]
    public void Handshake_completes_when_the_lookup_does_using_the_deferred_rest_of_flight_5()
    {
        var store = new ControlledStore();
        using var server = new ServerHarness(o => o.PskStore = store);
        using var client = new TestClient(server, s_peer);
        var flight5 = FlightSteps.ToFlight5(server, client);
        // ClientKeyExchange, ChangeCipherSpec and Finished travel in one datagram.
        var datagram = Assert.Single(flight5);
        Assert.Equal(3, Wire.Records(datagram).Count);
        var connection = FlightSteps.ServerSide(server, s_peer);

        server.Deliver(client.Address, datagram);

        var lookup = Assert.Single(store.Lookups);
        Assert.Equal("Qt DTLS example client"u8.ToArray(), lookup.Identity);
        Assert.Equal(HandshakeState.ServerAwaitingPsk, connection.State);
        Assert.Equal(0, server.Sender.Count);
        Assert.Empty(server.Handler.Established);
        var now = server.Time.GetUtcNow();

        lookup.Complete(ServerHarness.Key);

        // Flight 6 went out at once, made from the ChangeCipherSpec and Finished kept from the first datagram: no
        // time passed, no timer ran, and the client sent nothing more.
        Assert.Equal(now, server.Time.GetUtcNow());
        Assert.Equal(0, client.Sender.Count);
        Assert.Equal(HandshakeState.Established, connection.State);
        var flight6 = server.Sender.TakeFor(client.Address);
        var records = flight6.SelectMany(Wire.Records).ToList();
        Assert.Equal([(ContentType.ChangeCipherSpec, (ushort)0), (ContentType.Handshake, (ushort)1)],
            records.Select(r => (r.Header.Type, r.Header.Epoch)));
        Assert.Single(server.Handler.Established);

        flight6.ForEach(client.Deliver);
        Assert.True(client.Established);
        Assert.Equal(0, client.Sender.Count);
        FlightSteps.AssertEcho(server, client, "after the lookup");
        Assert.Single(store.Lookups);
    }

    [Fact]
    public void With_a_Connection_ID_the_deferred_Finished_is_a_tls12_cid_record_and_is_used_too()
    {
        // RFC 9146 §4: once CIDs are negotiated, the client's Finished (epoch 1) travels as a tls12_cid record carrying
        // the server's CID; kept while the lookup runs, it must be framed with that CID's length when taken up again.
        var store = new ControlledStore();
        using var server = new ServerHarness(o => o.PskStore = store);
        var options = TestClient.PlainPskOptions(server);
        options.ConnectionIdLength = 0;
        using var client = new TestClient(server, s_peer, options);
        var datagram = Assert.Single(FlightSteps.ToFlight5(server, client));
        // ClientKeyExchange and ChangeCipherSpec, then the Finished: a tls12_cid record.
        var plain = Wire.Records(datagram);
        Assert.Equal(2, plain.Count);
        Assert.Equal((byte)ContentType.Tls12Cid, datagram[plain.Sum(r => RecordHeader.Size + r.Header.Length)]);
        var connection = FlightSteps.ServerSide(server, s_peer);

        server.Deliver(client.Address, datagram);
        Assert.Equal(HandshakeState.ServerAwaitingPsk, connection.State);
        Assert.Single(store.Lookups).Complete(ServerHarness.Key);

        Assert.Equal(HandshakeState.Established, connection.State);
        Assert.Equal(0, client.Sender.Count);
        server.Sender.TakeFor(client.Address).ForEach(client.Deliver);
        Assert.True(client.Established);
        FlightSteps.AssertEcho(server, client, "after the lookup, with a CID");
    }

    [Fact]
    public void The_lookup_and_the_handshake_list_entry_are_handshake_state_and_go_with_it()
    {
        var store = new ControlledStore();
        using var server = new ServerHarness(o => o.PskStore = store);
        using var client = new TestClient(server, s_peer);
        var datagram = Assert.Single(FlightSteps.ToFlight5(server, client));
        var connection = FlightSteps.ServerSide(server, s_peer);
        server.Deliver(client.Address, datagram);

        Assert.False(connection.PendingPskLookup.IsCompleted);
        Assert.NotNull(connection.HandshakeOrNull?.List);
        Assert.NotEqual(long.MaxValue, connection.HandshakeDeadlineMs);
        Assert.Equal(1, server.Statistics.HandshakesInProgress);

        Assert.Single(store.Lookups).Complete(ServerHarness.Key);

        Assert.True(connection.IsEstablished);
        Assert.True(connection.HandshakeStateReleased);
        Assert.True(connection.PendingPskLookup.IsCompleted);
        Assert.Null(connection.HandshakeOrNull);
        Assert.Equal(long.MaxValue, connection.HandshakeDeadlineMs);
        Assert.Equal(0, server.Statistics.HandshakesInProgress);
        Assert.Equal(1, server.Statistics.Sessions);
        Assert.Equal(0, connection.TakeDeferred(new byte[HandshakeContext.MaxDeferredBytes]));
    }

    [Fact]
    public void A_connection_closed_during_the_lookup_cancels_it_and_leaves_the_handshake_list()
    {
        var store = new ControlledStore();
        using var server = new ServerHarness(o => o.PskStore = store);
        using var client = new TestClient(server, s_peer);
        var datagram = Assert.Single(FlightSteps.ToFlight5(server, client));
        var connection = FlightSteps.ServerSide(server, s_peer);
        server.Deliver(client.Address, datagram);
        var lookup = Assert.Single(store.Lookups);

        server.Advance(server.Options.HandshakeTimeout + TimeSpan.FromSeconds(1));

        Assert.True(connection.IsClosed);
        Assert.True(lookup.Token.IsCancellationRequested);
        Assert.Null(connection.HandshakeOrNull);
        Assert.Equal(0, server.Statistics.HandshakesInProgress);
        lookup.Complete(ServerHarness.Key);
        Assert.True(connection.IsClosed);
        Assert.Equal(0, server.Statistics.Sessions);
    }

    [Fact]
    public void Flight_5_repeated_while_the_lookup_runs_asks_the_store_once_and_changes_nothing()
    {
        var store = new ControlledStore();
        using var server = new ServerHarness(o => o.PskStore = store);
        using var client = new TestClient(server, s_peer);
        var datagram = Assert.Single(FlightSteps.ToFlight5(server, client));
        var connection = FlightSteps.ServerSide(server, s_peer);
        server.Deliver(client.Address, datagram);

        // The client's timer fires before the store answers: the whole flight arrives again in new records.
        server.Time.Advance(TimeSpan.FromSeconds(1));
        client.Tick();
        var repeat = Assert.Single(FlightSteps.Take(client));
        server.Deliver(client.Address, repeat);

        Assert.Single(store.Lookups);
        Assert.Equal(HandshakeState.ServerAwaitingPsk, connection.State);
        Assert.Equal(0, server.Sender.Count);

        store.Lookups[0].Complete(ServerHarness.Key);
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Assert.Equal(1, server.Statistics.HandshakesCompleted);
        FlightSteps.AssertEcho(server, client);
    }

    [Theory]
    [InlineData("throws")]
    [InlineData("faulted")]
    [InlineData("faults later")]
    public void Failing_lookup_ends_the_handshake_with_internal_error(string mode)
    {
        var store = new FailingStore(mode);
        using var server = new ServerHarness(o => o.PskStore = store);
        using var client = new TestClient(server, s_peer);
        var flight5 = FlightSteps.ToFlight5(server, client);

        FlightSteps.Deliver(server, client, flight5);
        if (mode == "faults later")
        {
            Assert.Equal(0, server.Sender.Count);
            Assert.Empty(server.Handler.Closed);
            Inline.Run(() => store.Later.SetException(new InvalidOperationException("the key database is down")));
        }

        var alert = Assert.Single(server.Sender.TakeFor(client.Address));
        var (header, body) = Assert.Single(Wire.Records(alert));
        Assert.Equal((ContentType.Alert, (ushort)0), (header.Type, header.Epoch));
        Assert.Equal([(byte)AlertLevel.Fatal, (byte)AlertDescription.InternalError], body);
        Assert.Equal(DtlsCloseReason.HandshakeFailed, Assert.Single(server.Handler.Closed).Reason);
        var stats = server.Statistics;
        Assert.Equal(1, stats.HandshakesFailed);
        Assert.Equal(0, stats.HandshakesCompleted);
        Assert.Equal(0, stats.Sessions);
        Assert.Equal(0, stats.HandshakesInProgress);

        client.Deliver(alert);
        Assert.Equal(DtlsCloseReason.PeerAlert, client.ClosedReason);
        Assert.Equal(AlertDescription.InternalError, client.ClosedAlert);
        Assert.Equal(0, server.Sender.Count);
    }

    /// <summary>One handshake's view from the client: every datagram the server sent it, and how the client ended.</summary>
    private static (List<byte[]> ToClient, DtlsCloseReason? Reason, AlertDescription? Alert, DtlsServerStatistics Stats) Attempt(
        string identity, byte[] key, bool asynchronous, bool reveal = false)
    {
        var known = new Dictionary<string, byte[]> { ["device-1"] = ServerHarness.Key };
        var controlled = new ControlledStore();
        using var server = new ServerHarness(o =>
        {
            o.PskStore = asynchronous ? controlled : PskStore.FromDictionary(known);
            o.RevealUnknownPskIdentity = reveal;
        });
        // Plain PSK: its flights are a function of the seeded randoms, so the two attempts can be compared byte for byte
        // (an ECDHE_PSK flight carries a fresh ephemeral key each time).
        var options = TestClient.PlainPskOptions(server);
        options.PskIdentity = identity;
        options.PskKey = key;
        using var client = new TestClient(server, s_peer, options);
        var toClient = new List<byte[]>();
        IEnumerable<byte[]> Watch(byte[] datagram, bool toServer)
        {
            if (!toServer)
            {
                toClient.Add(datagram);
            }
            return [datagram];
        }

        client.Start();
        Exchange.Pump(server, client, Watch);
        if (asynchronous)
        {
            var lookup = Assert.Single(controlled.Lookups);
            known.TryGetValue(Encoding.UTF8.GetString(lookup.Identity), out var found);
            lookup.Complete(found);
            Exchange.Pump(server, client, Watch);
        }
        Assert.False(client.Established);
        return (toClient, client.ClosedReason, client.ClosedAlert, server.Statistics);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unknown_identity_looks_exactly_like_a_wrong_key_to_the_client(bool asynchronous)
    {
        var wrongKey = Attempt("device-1", Convert.FromHexString("1a2b3c4d5e6e"), asynchronous);
        var unknown = Attempt("device-2", ServerHarness.Key, asynchronous);

        // HelloVerifyRequest, flight 4, and the alert: the same number, the same sizes, byte for byte the same.
        Assert.Equal(3, wrongKey.ToClient.Count);
        Assert.Equal(wrongKey.ToClient.Select(d => d.Length), unknown.ToClient.Select(d => d.Length));
        Assert.Equal(wrongKey.ToClient, unknown.ToClient);
        var (header, body) = Assert.Single(Wire.Records(unknown.ToClient[^1]));
        Assert.Equal(ContentType.Alert, header.Type);
        Assert.Equal([(byte)AlertLevel.Fatal, (byte)AlertDescription.DecryptError], body);
        Assert.Equal((DtlsCloseReason.PeerAlert, AlertDescription.DecryptError), (unknown.Reason, unknown.Alert));
        Assert.Equal((wrongKey.Reason, wrongKey.Alert), (unknown.Reason, unknown.Alert));
        // The server's own accounting does not tell them apart either.
        Assert.Equal(wrongKey.Stats, unknown.Stats);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void With_RevealUnknownPskIdentity_an_unknown_identity_gets_unknown_psk_identity_at_once(bool asynchronous)
    {
        var unknown = Attempt("device-2", ServerHarness.Key, asynchronous, reveal: true);

        // HelloVerifyRequest, flight 4, then the alert in answer to flight 5 (RFC 4279 §2), not a Finished.
        Assert.Equal(3, unknown.ToClient.Count);
        var (header, body) = Assert.Single(Wire.Records(unknown.ToClient[^1]));
        Assert.Equal(ContentType.Alert, header.Type);
        Assert.Equal(0, header.Epoch);
        Assert.Equal([(byte)AlertLevel.Fatal, (byte)AlertDescription.UnknownPskIdentity], body);
        Assert.Equal((DtlsCloseReason.PeerAlert, AlertDescription.UnknownPskIdentity), (unknown.Reason, unknown.Alert));
        Assert.Equal(1, unknown.Stats.HandshakesFailed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void With_RevealUnknownPskIdentity_a_known_identity_with_the_wrong_key_still_gets_decrypt_error(bool asynchronous)
    {
        var wrongKey = Attempt("device-1", Convert.FromHexString("1a2b3c4d5e6e"), asynchronous, reveal: true);

        Assert.Equal(AlertDescription.DecryptError, wrongKey.Alert);
    }

    private static readonly string s_longIdentity = string.Concat(Enumerable.Range(0, 128).Select(i => (char)('!' + (i % 90))));
    private static readonly byte[] s_longKey = [.. Enumerable.Range(0, 64).Select(i => (byte)(0xC0 ^ i))];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Identity_of_128_bytes_and_key_of_64_bytes_complete_the_handshake(bool asynchronous)
    {
        var controlled = new ControlledStore();
        var table = PskStore.FromDictionary(new Dictionary<string, byte[]> { [s_longIdentity] = s_longKey });
        using var server = new ServerHarness(o => o.PskStore = asynchronous ? controlled : table);
        var options = new DtlsClientOptions { PskIdentity = s_longIdentity, PskKey = s_longKey, TimeProvider = server.Time };
        using var client = new TestClient(server, s_peer, options);
        Assert.Equal(128, Encoding.UTF8.GetByteCount(s_longIdentity));
        Assert.Equal(64, s_longKey.Length);

        client.Start();
        Exchange.Pump(server, client);
        if (asynchronous)
        {
            var lookup = Assert.Single(controlled.Lookups);
            Assert.Equal(Encoding.UTF8.GetBytes(s_longIdentity), lookup.Identity);
            lookup.Complete(s_longKey);
            Exchange.Pump(server, client);
        }

        Assert.True(client.Established, $"closed {client.ClosedReason}, {client.ClosedError}");
        var session = Assert.Single(server.Handler.Established);
        Assert.Equal(s_longIdentity, session.PskIdentity);
        FlightSteps.AssertEcho(server, client, "long identity, long key");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(63)]
    public void Every_byte_of_a_64_byte_key_counts(int index)
    {
        using var server = new ServerHarness(o =>
            o.PskStore = PskStore.FromDictionary(new Dictionary<string, byte[]> { [s_longIdentity] = s_longKey }));
        var key = (byte[])s_longKey.Clone();
        key[index] ^= 0x01;
        var options = new DtlsClientOptions { PskIdentity = s_longIdentity, PskKey = key, TimeProvider = server.Time };
        using var client = new TestClient(server, s_peer, options);

        client.Start();
        Exchange.Pump(server, client);

        Assert.False(client.Established);
        Assert.Equal(AlertDescription.DecryptError, client.ClosedAlert);
        Assert.Empty(server.Handler.Established);
    }
}
