using System.Net;
using HotDtls.Connection;
using HotDtls.Diagnostics;
using HotDtls.Handshake;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;

namespace HotDtls.Server;

/// <summary>Which method of the application's <see cref="DtlsServerHandler"/> to call.</summary>
internal enum HandlerCall : byte
{
    HandshakeStarted,
    SessionEstablished,
    Datagram,
    ProtectedDatagram,
    SessionClosed,
}

/// <summary>
/// What an engine does when one of its connections reports: the peer table and the timers follow the connection's
/// state, the counters count, the log tells the seed's info, warnings and errors, and the application's handler hears
/// of it — through one <see cref="CallHandler"/>, which contains the handler's exceptions. Called under the engine's lock.
/// </summary>
internal sealed class ServerObserver : IConnectionObserver
{
    // Identities are peer-chosen text: only this much of one reaches a log line.
    private const int MaxLoggedIdentityLength = 128;
    private const int DecryptErrorLogIntervalMs = 1000;

    private readonly DtlsServerHandler _handler;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly PeerTable _peers;
    private readonly SessionTimers _timers;
    private ServerCounters _counters;
    // Half of long.MinValue: room for "now - last" without overflow, so the first decryption failure is reported.
    private long _lastDecryptErrorLogMs = long.MinValue / 2;

    public ServerObserver(DtlsServerHandler handler, ILogger logger, TimeProvider time, PeerTable peers, SessionTimers timers)
    {
        _handler = handler;
        _logger = logger;
        _time = time;
        _peers = peers;
        _timers = timers;
    }

    // The datagram being processed: where it came from and how long it is (a CID session may move there), and which
    // connection has already been credited for it (once per datagram).
    private SocketAddress? _source;
    private int _sourceLength;
    private DtlsConnection? _credited;
    // Moved sessions whose new address has been challenged (draft-ietf-tls-dtls-rrc) and not yet answered: the cookie
    // and when it was last sent. Only sessions in the middle of a move are here, so an idle session pays nothing.
    private readonly Dictionary<ServerConnection, (ulong Cookie, long SentMs)> _challenges = [];
    private Crypto.IRandomSource? _random;

    /// <summary>A challenge not answered within this long is sent again with the next datagram from the address.</summary>
    internal const int ChallengeRetryMs = 1000;

    /// <summary>The server's instruments (set by the engine before its loop starts), or null.</summary>
    internal ServerMetrics? Metrics { get; set; }

    /// <summary>Where path_challenge cookies come from (set by the engine).</summary>
    internal Crypto.IRandomSource Random
    {
        set => _random = value;
    }

    /// <summary>Moved sessions waiting for their new address to answer a path_challenge (for tests).</summary>
    internal int PendingChallenges => _challenges.Count;

    /// <summary>The engine starts on a datagram of <paramref name="length"/> bytes from <paramref name="from"/>.</summary>
    public void BeginDatagram(SocketAddress from, int length)
    {
        _source = from;
        _sourceLength = length;
        _credited = null;
    }

    /// <summary>The engine is done with the datagram: <see cref="BeginDatagram"/>'s address may be reused.</summary>
    public void EndDatagram()
    {
        _source = null;
        _credited = null;
    }

    /// <summary>A handshake stepped its path MTU down (RFC 6347 §4.1.1.1): logged once per step.</summary>
    public void OnPathMtuReduced(DtlsConnection connection, int from, int to, PathMtuReduction reason)
    {
        if (reason == PathMtuReduction.MessageTooLarge)
        {
            if (_logger.IsEnabled(LogLevel.Warning))
            {
                Log.PathMtuReducedOnMessageSize(_logger, connection.Peer.ToEndPoint(), from, to);
            }
        }
        else if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.PathMtuReducedOnLoss(_logger, connection.Peer.ToEndPoint(), from, to);
        }
    }

    /// <summary>
    /// RFC 9146 §6: "the receiver MUST NOT update the peer address unless the record is newer than any other record
    /// received" — and only an authentic record gets here. From an unproven address, each authentic datagram adds its
    /// size to what may be sent there.
    /// </summary>
    public void OnAuthenticRecord(DtlsConnection connection, bool newest, bool carriedConnectionId)
    {
        if (_source is not { } from || connection is not ServerConnection server || _credited == server)
        {
            return;
        }
        if (server.Peer.Equals(from))
        {
            if (!server.PeerAddressProven)
            {
                server.CreditReceived(_sourceLength);
                _credited = server;
                RetryChallenge(server);
            }
            return;
        }
        // Only a record that carried our CID can have been routed here from another address; the handshake must be
        // over (its flights are bound to the address that started it).
        if (!carriedConnectionId || !newest || !server.IsEstablished)
        {
            return;
        }
        _credited = server;
        var session = server.Session!;
        var before = session.RemoteEndPoint;
        if (_peers.Rebind(server, from, _sourceLength))
        {
            _counters.PeerAddressChanges++;
            session.OnPeerMoved();
            if (_logger.IsEnabled(LogLevel.Information))
            {
                Log.PeerMoved(_logger, before, session.RemoteEndPoint);
            }
            if (server.ReturnRoutabilityCheckNegotiated)
            {
                Challenge(server, NowMs());
            }
        }
        else
        {
            _counters.PeerAddressChangesRefused++;
            if (_logger.IsEnabled(LogLevel.Warning))
            {
                Log.PeerMoveRefused(_logger, before, from.ToEndPoint());
            }
        }
    }

    /// <summary>
    /// Sends a path_challenge to the moved session's new address. It counts against what that address may receive:
    /// a challenge the credit cannot cover waits for the next datagram from there.
    /// </summary>
    private void Challenge(ServerConnection server, long now)
    {
        Span<byte> cookieBytes = stackalloc byte[sizeof(ulong)];
        (_random ?? throw new InvalidOperationException("No random source for path_challenge.")).Fill(cookieBytes);
        var cookie = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(cookieBytes);
        var sent = server.SendReturnRoutabilityCheck(Records.ReturnRoutabilityCheckType.PathChallenge, cookie);
        _challenges[server] = (cookie, sent ? now : long.MinValue / 2);
    }

    private void RetryChallenge(ServerConnection server)
    {
        if (_challenges.TryGetValue(server, out var pending))
        {
            var now = NowMs();
            if (now - pending.SentMs >= ChallengeRetryMs)
            {
                var sent = server.SendReturnRoutabilityCheck(Records.ReturnRoutabilityCheckType.PathChallenge, pending.Cookie);
                _challenges[server] = (pending.Cookie, sent ? now : pending.SentMs);
            }
        }
    }

    /// <summary>
    /// A path_response: if it answers the challenge sent to the session's current address and came from there, the
    /// address is proven and the bound on what it may receive is lifted.
    /// </summary>
    public void OnPathResponse(DtlsConnection connection, ulong cookie)
    {
        if (connection is not ServerConnection server || !_challenges.TryGetValue(server, out var pending)
            || _source is not { } from || !server.Peer.Equals(from))
        {
            return;
        }
        // The cookie is a secret only until it is answered; compared in constant time all the same.
        Span<byte> expected = stackalloc byte[sizeof(ulong)];
        Span<byte> actual = stackalloc byte[sizeof(ulong)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(expected, pending.Cookie);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(actual, cookie);
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(expected, actual))
        {
            return;
        }
        _challenges.Remove(server);
        server.ProvePeerAddress();
        _counters.PeerAddressesProven++;
    }

    /// <summary>The engine's counters (the engine counts datagrams in and out here too).</summary>
    public ref ServerCounters Counters => ref _counters;

    private long NowMs() => _time.GetMonotonicMilliseconds();

    public void OnEstablished(DtlsConnection connection)
    {
        // The connection left the handshakes in progress when it gave back its handshake state, just before this.
        var server = (ServerConnection)connection;
        var now = NowMs();
        _timers.OnEstablished(server, now);
        _counters.HandshakesCompleted++;
        if (server.IsResumed)
        {
            _counters.HandshakesResumed++;
        }
        _peers.OnEstablished(server);
        var session = server.Session!;
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.Encrypted(_logger, session.RemoteEndPoint, server.NegotiatedSuite);
            if (server.IsResumed)
            {
                Log.SessionResumed(_logger, session.RemoteEndPoint);
            }
        }
        CallHandler(HandlerCall.SessionEstablished, session, default, default);
    }

    public void OnHandshakeEnded(DtlsConnection connection, long startedTimestamp, DtlsCloseReason? closeReason, DtlsError error)
        => Metrics?.OnHandshakeEnded(connection, startedTimestamp, closeReason, error);

    public void OnAlert(DtlsConnection connection, Records.AlertLevel level, AlertDescription description, bool sent)
        => Metrics?.OnAlert(level, description, sent);

    public void OnPskLookup(DtlsConnection connection)
    {
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var session = ((ServerConnection)connection).Session!;
            Log.PskIdentity(_logger, session.RemoteEndPoint, LogText.Printable(session.PskIdentity, MaxLoggedIdentityLength));
        }
    }

    public void OnPskStoreFailed(DtlsConnection connection, Exception exception)
        => Log.PskStoreFailed(_logger, ((ServerConnection)connection).Session!.RemoteEndPoint, exception);

    public void OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext)
    {
        var session = ((ServerConnection)connection).Session!;
        _counters.DatagramsDelivered++;
        if (plaintext.IsEmpty)
        {
            Log.EmptyDatagram(_logger, session.RemoteEndPoint);
        }
        CallHandler(HandlerCall.Datagram, session, plaintext, default);
    }

    public void OnClosed(DtlsConnection connection, DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        // Closing gave back the handshake state, and with it the connection's place among the handshakes in progress.
        var server = (ServerConnection)connection;
        _timers.Cancel(server);
        _peers.Remove(server);
        _challenges.Remove(server);
        var session = server.Session!;
        switch (reason)
        {
            case DtlsCloseReason.HandshakeFailed or DtlsCloseReason.HandshakeTimeout:
                _counters.HandshakesFailed++;
                break;
            case DtlsCloseReason.Evicted:
                _counters.HandshakesEvicted++;
                break;
        }
        // Guarded: each report makes the session's IPEndPoint, which a server with logging off never needs.
        switch (reason)
        {
            case DtlsCloseReason.HandshakeFailed when _logger.IsEnabled(LogLevel.Error):
                Log.HandshakeFailed(_logger, session.RemoteEndPoint, DtlsErrors.Describe(error), alert);
                break;
            case DtlsCloseReason.HandshakeTimeout when _logger.IsEnabled(LogLevel.Information):
                Log.HandshakeTimedOut(_logger, session.RemoteEndPoint);
                break;
            case DtlsCloseReason.PeerAlert when _logger.IsEnabled(LogLevel.Warning):
                Log.PeerAlert(_logger, session.RemoteEndPoint, alert);
                break;
        }
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.SessionClosed(_logger, session.RemoteEndPoint, reason);
        }
        CallHandler(HandlerCall.SessionClosed, session, default, reason);
    }

    public void OnDropped(DtlsConnection connection, DropReason reason)
    {
        _counters.CountDrop(reason);
        if (reason == DropReason.AuthenticationFailed && connection.IsEstablished)
        {
            // The seed reports a decryption failure as an error; a flood of forged records must not flood the log.
            var now = NowMs();
            if (now - _lastDecryptErrorLogMs >= DecryptErrorLogIntervalMs)
            {
                _lastDecryptErrorLogMs = now;
                Log.DecryptionFailed(_logger, ((ServerConnection)connection).Session!.RemoteEndPoint);
            }
            return;
        }
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.Dropped(_logger, ((ServerConnection)connection).Session!.RemoteEndPoint, reason.ToString());
        }
    }

    /// <summary>A record from a peer without state was dropped (RFC 6347 §4.1.2.7: silently, but counted).</summary>
    public void Drop(SocketAddress from, DropReason reason)
    {
        _counters.CountDrop(reason);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.Dropped(_logger, from.ToEndPoint(), reason.ToString());
        }
    }

    /// <summary>
    /// The one place the application's handler is called: its exceptions are logged and never reach the protocol
    /// engine (a handler that throws must not break other peers' sessions).
    /// </summary>
    public void CallHandler(HandlerCall call, DtlsSession session, ReadOnlySpan<byte> data, DtlsCloseReason reason)
    {
        try
        {
            switch (call)
            {
                case HandlerCall.HandshakeStarted:
                    _handler.OnHandshakeStarted(session);
                    break;
                case HandlerCall.SessionEstablished:
                    _handler.OnSessionEstablished(session);
                    break;
                case HandlerCall.Datagram:
                    _handler.OnDatagram(session, data);
                    break;
                case HandlerCall.ProtectedDatagram:
                    _handler.OnProtectedDatagram(session, data);
                    break;
                case HandlerCall.SessionClosed:
                    _handler.OnSessionClosed(session, reason);
                    break;
            }
        }
#pragma warning disable CA1031 // Application code: its failure is logged and must not break the protocol engine.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, session.RemoteEndPoint, exception);
        }
    }
}
