using System.Net;
using HotDtls.Connection;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Server;
using HotDtls.Tests.Hostile;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Server;

/// <summary>
/// The peer table on its own: admission, caps and eviction order, replacement of unfinished handshakes, RFC 6347
/// §4.2.8 successors and what closing does — each answered by the table, never by a second lookup in the engine.
/// </summary>
public sealed class PeerTableTests : IDisposable
{
    private readonly DtlsServerOptions _options;
    private readonly Observer _observer = new();
    private readonly ConnectionServices _services;
    private readonly List<ServerConnection> _made = [];
    private ServerHarness? _harness;

    public PeerTableTests()
    {
        _options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskStore = PskStore.Single(ServerHarness.Key),
        };
        _options.ValidateServer();
        _services = new ConnectionServices(_options, new Lock(), new CapturingSender(), new byte[20000], _observer,
            new SeededRandom(3), standInKey: new StandInKey(new SeededRandom(4)));
    }

    public void Dispose()
    {
        foreach (var connection in _made)
        {
            connection.Dispose();
        }
        _harness?.Dispose();
    }

    private static SocketAddress Peer(int port) => new IPEndPoint(IPAddress.Loopback, port).Serialize();

    private ServerConnection Handshaking(PeerTable table, int port)
    {
        var connection = new ServerConnection(_services, Peer(port), 0);
        _made.Add(connection);
        Assert.Equal(Admission.Admitted, table.MakeRoom(connection.Peer, out var predecessor));
        table.Add(connection, predecessor);
        return connection;
    }

    /// <summary>An established connection of a real in-memory handshake (its closes are reported to its own engine).</summary>
    private ServerConnection Established(int port)
    {
        _harness ??= new ServerHarness();
        using var client = Exchange.Handshake(_harness, new IPEndPoint(IPAddress.Loopback, port));
        return FlightSteps.ServerSide(_harness, new IPEndPoint(IPAddress.Loopback, port));
    }

    [Fact]
    public void A_new_handshake_becomes_its_addresss_entry_and_a_handshake_in_progress()
    {
        var table = _observer.Table = new PeerTable(10, 10);

        var connection = Handshaking(table, 40001);

        Assert.True(table.TryGet(Peer(40001), out var found));
        Assert.Same(connection, found);
        Assert.Equal((1, 1), (table.Count, table.HandshakesInProgress));
    }

    [Fact]
    public void A_new_hello_from_the_address_of_an_unfinished_handshake_replaces_it()
    {
        var table = _observer.Table = new PeerTable(10, 10);
        var first = Handshaking(table, 40001);

        Assert.Equal(Admission.Admitted, table.MakeRoom(Peer(40001), out var predecessor));

        Assert.Null(predecessor);
        Assert.True(first.IsClosed);
        Assert.Equal([(first, DtlsCloseReason.Replaced)], _observer.Closed);
        Assert.Equal((0, 0), (table.Count, table.HandshakesInProgress));
    }

    [Fact]
    public void Past_the_handshake_cap_the_oldest_handshake_is_evicted()
    {
        var table = _observer.Table = new PeerTable(10, 2);
        var oldest = Handshaking(table, 40001);
        var newer = Handshaking(table, 40002);

        Assert.Equal(Admission.Admitted, table.MakeRoom(Peer(40003), out _));

        Assert.Equal([(oldest, DtlsCloseReason.Evicted)], _observer.Closed);
        Assert.False(newer.IsClosed);
        Assert.Equal((1, 1), (table.Count, table.HandshakesInProgress));
    }

    [Fact]
    public void A_full_table_evicts_the_oldest_half_open_entry_for_a_stranger()
    {
        var table = _observer.Table = new PeerTable(2, 10);
        var oldest = Handshaking(table, 40001);
        Handshaking(table, 40002);

        Assert.Equal(Admission.Admitted, table.MakeRoom(Peer(40003), out _));

        Assert.Equal([(oldest, DtlsCloseReason.Evicted)], _observer.Closed);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void A_table_full_of_established_sessions_refuses_a_stranger_and_evicts_nobody()
    {
        var table = _observer.Table = new PeerTable(1, 10);
        var session = Established(40010);
        table.Add(session, null);

        Assert.Equal(Admission.Full, table.MakeRoom(Peer(40003), out var predecessor));

        Assert.Null(predecessor);
        Assert.Empty(_observer.Closed);
        Assert.True(session.IsEstablished);
    }

    [Fact]
    public void A_hello_from_an_established_peer_is_admitted_as_its_successor_without_a_second_entry()
    {
        var table = _observer.Table = new PeerTable(1, 10);
        var session = Established(40011);
        table.Add(session, null);

        Assert.Equal(Admission.Admitted, table.MakeRoom(session.Peer, out var predecessor));
        Assert.Same(session, predecessor);
        var successor = new ServerConnection(_services, session.Peer, 0);
        _made.Add(successor);
        table.Add(successor, predecessor);

        Assert.Same(successor, session.Successor);
        Assert.Equal((1, 1), (table.Count, table.HandshakesInProgress));
        Assert.Equal([session, successor], table.Snapshot());
        Assert.True(table.TryGet(session.Peer, out var entry));
        Assert.Same(session, entry);
    }

    [Fact]
    public void A_second_successor_replaces_the_first()
    {
        var table = _observer.Table = new PeerTable(1, 10);
        var session = Established(40012);
        table.Add(session, null);
        table.MakeRoom(session.Peer, out var predecessor);
        var first = new ServerConnection(_services, session.Peer, 0);
        _made.Add(first);
        table.Add(first, predecessor);

        Assert.Equal(Admission.Admitted, table.MakeRoom(session.Peer, out predecessor));

        Assert.Same(session, predecessor);
        Assert.Equal([(first, DtlsCloseReason.Replaced)], _observer.Closed);
        Assert.Null(session.Successor);
    }

    [Fact]
    public void When_an_entry_with_a_running_successor_goes_the_successor_takes_the_entry()
    {
        var table = _observer.Table = new PeerTable(1, 10);
        var session = Established(40013);
        table.Add(session, null);
        table.MakeRoom(session.Peer, out var predecessor);
        var successor = new ServerConnection(_services, session.Peer, 0);
        _made.Add(successor);
        table.Add(successor, predecessor);

        table.Remove(session);

        Assert.True(table.TryGet(session.Peer, out var entry));
        Assert.Same(successor, entry);
        Assert.Null(session.Successor);
    }

    [Fact]
    public void A_connection_that_closes_leaves_the_table_and_the_handshakes_in_progress()
    {
        var table = _observer.Table = new PeerTable(10, 10);
        var connection = Handshaking(table, 40001);

        connection.Close(DtlsCloseReason.HandshakeTimeout, DtlsError.None, null);

        Assert.False(table.TryGet(Peer(40001), out _));
        Assert.Equal((0, 0), (table.Count, table.HandshakesInProgress));
        table.Remove(connection);
        Assert.Equal(0, table.Count);
    }

    /// <summary>Reports closes to the table, as the engine does.</summary>
    private sealed class Observer : IConnectionObserver
    {
        public PeerTable? Table { get; set; }

        public List<(ServerConnection, DtlsCloseReason)> Closed { get; } = [];

        public void OnEstablished(DtlsConnection connection)
        {
        }

        public void OnPskLookup(DtlsConnection connection)
        {
        }

        public void OnPskStoreFailed(DtlsConnection connection, Exception exception)
        {
        }

        public void OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext)
        {
        }

        public void OnClosed(DtlsConnection connection, DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
        {
            Closed.Add(((ServerConnection)connection, reason));
            Table?.Remove((ServerConnection)connection);
        }

        public void OnDropped(DtlsConnection connection, DropReason reason)
        {
        }
    }
}
