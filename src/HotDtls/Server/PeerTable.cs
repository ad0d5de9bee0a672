using System.Net;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Transport;

namespace HotDtls.Server;

/// <summary>What <see cref="PeerTable.MakeRoom"/> found.</summary>
internal enum Admission : byte
{
    /// <summary>There is room: add the new handshake (as its predecessor's successor when there is one).</summary>
    Admitted,

    /// <summary>Every slot holds an established session: the hello is dropped.</summary>
    Full,
}

/// <summary>
/// One receive loop's peers: the table from address to association, the handshakes in progress (oldest first), the
/// caps on both, eviction, and RFC 6347 §4.2.8 successors (a new handshake from the address of an established
/// session, which replaces it only once it completes). Every change to who is where happens here, so the engine never
/// looks a key up again after a callback.
/// </summary>
/// <remarks>
/// Closing a connection calls back into the engine, which calls <see cref="Remove"/>: the loops below re-read the
/// table after each close. Not thread-safe: the engine calls it under its lock.
/// </remarks>
internal sealed class PeerTable
{
    private readonly Dictionary<SocketAddress, ServerConnection> _peers = [];
    private readonly HandshakeList _handshakes = new();
    private readonly List<ServerConnection> _closing = [];
    private readonly int _maxSessions;
    private readonly int _maxHandshakes;

    /// <param name="maxSessions">Most entries (established and handshaking); successors are not entries.</param>
    /// <param name="maxHandshakes">Most handshakes in progress, successors included.</param>
    public PeerTable(int maxSessions, int maxHandshakes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSessions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxHandshakes, 1);
        _maxSessions = maxSessions;
        _maxHandshakes = maxHandshakes;
    }

    /// <summary>Peers with state (their address's entry; successors not counted).</summary>
    public int Count => _peers.Count;

    /// <summary>Handshakes in progress, successors included.</summary>
    public int HandshakesInProgress => _handshakes.Count;

    /// <summary>The association of <paramref name="peer"/>, if it has one.</summary>
    public bool TryGet(SocketAddress peer, out ServerConnection connection)
        => _peers.TryGetValue(peer, out connection!);

    /// <summary>Whether <paramref name="peer"/> has any state here.</summary>
    public bool Contains(SocketAddress peer) => _peers.ContainsKey(peer);

    /// <summary>
    /// Makes room for a new handshake from <paramref name="peer"/>, whose cookie was valid: an unfinished handshake
    /// at that address is replaced (a client that restarted mid-handshake), as is an established session's running
    /// successor; the oldest handshakes beyond the handshake cap are evicted, and, when the table is full, the
    /// oldest half-open handshake that holds an entry. Established sessions are never pushed out by newcomers
    /// (HOSTILE 26).
    /// </summary>
    /// <param name="peer">The new handshake's address.</param>
    /// <param name="predecessor">The established session the new handshake will succeed, or null.</param>
    public Admission MakeRoom(SocketAddress peer, out ServerConnection? predecessor)
    {
        _peers.TryGetValue(peer, out var existing);
        if (existing is not null && !existing.IsEstablished)
        {
            existing.Close(DtlsCloseReason.Replaced, DtlsError.None, null);
        }
        else if (existing?.Successor is { } running)
        {
            running.Close(DtlsCloseReason.Replaced, DtlsError.None, null);
        }
        // Half-open handshakes are the state a flood can create, so they are what gets evicted, oldest first.
        while (_handshakes.First?.Owner is { } oldest && _handshakes.Count >= _maxHandshakes)
        {
            oldest.Close(DtlsCloseReason.Evicted, DtlsError.None, null);
        }
        _peers.TryGetValue(peer, out existing);
        // For the session cap only a handshake that holds an entry makes room: a successor has none.
        while (existing is null && _peers.Count >= _maxSessions && OldestHalfOpenEntry() is { } victim)
        {
            victim.Close(DtlsCloseReason.Evicted, DtlsError.None, null);
        }
        predecessor = existing;
        return existing is null && _peers.Count >= _maxSessions ? Admission.Full : Admission.Admitted;
    }

    /// <summary>
    /// Adds a new handshake after <see cref="MakeRoom"/> admitted it: the address's entry, or the successor of
    /// <paramref name="predecessor"/>. It joins the handshakes in progress and leaves them when it releases its
    /// handshake state.
    /// </summary>
    public void Add(ServerConnection connection, ServerConnection? predecessor)
    {
        if (predecessor is not null)
        {
            predecessor.Successor = connection;
        }
        else
        {
            _peers.Add(connection.Peer, connection);
        }
        if (connection.HandshakeOrNull is { } handshake)
        {
            _handshakes.AddLast(handshake, connection);
        }
    }

    /// <summary>
    /// <paramref name="connection"/> completed its handshake. A successor takes its predecessor's place, and the
    /// predecessor is closed (RFC 6347 §4.2.8).
    /// </summary>
    public void OnEstablished(ServerConnection connection)
    {
        if (_peers.TryGetValue(connection.Peer, out var current) && current != connection && current.Successor == connection)
        {
            current.Successor = null;
            _peers[connection.Peer] = connection;
            current.Close(DtlsCloseReason.Replaced, DtlsError.None, null);
        }
    }

    /// <summary>
    /// <paramref name="connection"/> closed: it leaves the table; a running successor of an entry outlives it and
    /// takes the entry.
    /// </summary>
    public void Remove(ServerConnection connection)
    {
        if (!_peers.TryGetValue(connection.Peer, out var current))
        {
            return;
        }
        if (current == connection)
        {
            if (connection.Successor is { IsClosed: false } successor)
            {
                _peers[connection.Peer] = successor;
            }
            else
            {
                _peers.Remove(connection.Peer);
            }
            connection.Successor = null;
        }
        else if (current.Successor == connection)
        {
            current.Successor = null;
        }
    }

    /// <summary>
    /// Moves <paramref name="connection"/>, a CID session, to <paramref name="address"/> (RFC 9146 §6), whose datagram of
    /// <paramref name="received"/> bytes carried a newer authentic record. Refused while the session has a running
    /// successor (a new handshake at its old address) or when another peer holds the new address: a moving session
    /// never pushes another out.
    /// </summary>
    public bool Rebind(ServerConnection connection, SocketAddress address, int received)
    {
        if (!_peers.TryGetValue(connection.Peer, out var current) || current != connection || connection.Successor is not null
            || _peers.ContainsKey(address))
        {
            return false;
        }
        _peers.Remove(connection.Peer);
        var copy = address.Copy();
        connection.MoveTo(copy, received);
        _peers.Add(copy, connection);
        return true;
    }

    /// <summary>Every association and successor, for a server that stops. The list is reused: use it before the next call.</summary>
    public List<ServerConnection> Snapshot()
    {
        _closing.Clear();
        foreach (var connection in _peers.Values)
        {
            _closing.Add(connection);
            if (connection.Successor is { } successor)
            {
                _closing.Add(successor);
            }
        }
        return _closing;
    }

    /// <summary>The most handshake bytes any one connection (or successor) holds for reassembly.</summary>
    public int MaxBufferedHandshakeBytes()
    {
        var max = 0;
        foreach (var connection in _peers.Values)
        {
            max = Math.Max(max, connection.BufferedHandshakeBytes);
            if (connection.Successor is { } successor)
            {
                max = Math.Max(max, successor.BufferedHandshakeBytes);
            }
        }
        return max;
    }

    /// <summary>Forgets everything without closing (the engine disposes the connections).</summary>
    public void Clear() => _peers.Clear();

    /// <summary>The oldest handshake in progress that is its address's entry (not a successor), or null.</summary>
    private ServerConnection? OldestHalfOpenEntry()
    {
        for (var context = _handshakes.First; context is not null; context = context.Next)
        {
            if (context.Owner is { } owner && _peers.TryGetValue(owner.Peer, out var entry) && entry == owner)
            {
                return owner;
            }
        }
        return null;
    }
}
