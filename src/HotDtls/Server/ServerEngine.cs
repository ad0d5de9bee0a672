using System.Net;
using HotDtls.Connection;
using HotDtls.Cookies;
using HotDtls.Crypto;
using HotDtls.Diagnostics;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;

namespace HotDtls.Server;

/// <summary>
/// The server with no socket: datagrams in, datagrams out through an <see cref="IDatagramSender"/>, time from a
/// <see cref="TimeProvider"/>. The socket loop, the tests and the fuzzers all drive this one entry point.
/// </summary>
/// <remarks>
/// Before a peer returns a valid cookie nothing about it is stored: the HelloVerifyRequest is a pure function of
/// (cookie secret, peer address, ClientHello) (RFC 6347 §4.2.1). One lock serialises the engine: the receive loop
/// holds it per datagram, uncontended; sends from other threads and timers take it too.
/// </remarks>
internal sealed class ServerEngine : IConnectionObserver, IDatagramSender, IDisposable
{
    /// <summary>How often timers are checked; retransmissions fire within this of their due time.</summary>
    public static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(50);

    private const int HelloFragmentScanIntervalMs = 1000;
    // Identities are peer-chosen text: only this much of one reaches a log line.
    private const int MaxLoggedIdentityLength = 128;
    private const int HelloFragmentMaxAgeMs = 10_000;
    private const int DecryptErrorLogIntervalMs = 1000;

    private readonly Lock _gate = new();
    private readonly DtlsServerOptions _options;
    private readonly DtlsServerHandler _handler;
    private readonly IDatagramSender _sender;
    private readonly ILogger _logger;
    private readonly IRandomSource _random;
    private readonly TimeProvider _time;
    private readonly CookieVerifier _cookies;
    private readonly HelloFragmentCache _helloFragments = new();
    private readonly StandInKey _standInKey;
    private readonly int _maxSessions;
    private readonly int _maxHandshakes;
    // One HelloVerifyRequest per received datagram at most, however many ClientHellos it packs (HOSTILE 19, 42).
    private bool _helloVerifyRequestSent;
    private readonly byte[]? _identityHint;
    private readonly Dictionary<SocketAddress, ServerConnection> _peers = [];
    private readonly LinkedList<ServerConnection> _handshakes = new();
    private readonly List<ServerConnection> _expired = [];
    private readonly TimerWheel<ServerConnection> _timers;
    private readonly List<ServerConnection> _due = [];
    private readonly long _idleMs;
    private readonly long _parkMs;
    private readonly byte[] _scratch = new byte[DatagramReader.MaxCiphertextLength + 1024];
    private readonly byte[]? _capture;
    // Options, sender, scratch, observer, random, hint and stand-in key: one object all connections point to.
    private readonly ConnectionServices _services;
    private int _captureLength;
    private long _lastHelloFragmentScanMs;
    private long _ciphersReleasedAtLastTrim;
    private const int TrimAfterReleasedCiphers = 1024;
    // Fix: was long.MinValue, and now - long.MinValue overflows to a negative number, so the first decryption
    // failure (and so every later one) was never reported. Half of it leaves room for the subtraction.
    private long _lastDecryptErrorLogMs = long.MinValue / 2;
    private ServerCounters _counters;
    private bool _disposed;

    /// <summary>
    /// An engine for the peers of one receive loop. <paramref name="shareOf"/> engines (loops) share the options'
    /// session and handshake caps, each taking its share rounded up.
    /// </summary>
    public ServerEngine(DtlsServerOptions options, DtlsServerHandler handler, IDatagramSender sender, ILogger logger,
        IRandomSource random, int shareOf = 1)
    {
        _maxSessions = (options.MaxSessions + shareOf - 1) / shareOf;
        _maxHandshakes = (options.MaxHandshakesInProgress + shareOf - 1) / shareOf;
        _options = options;
        _handler = handler;
        _sender = sender;
        _logger = logger;
        _random = random;
        _time = options.TimeProvider;
        _cookies = new CookieVerifier(_time, options.CookieSecretRotation, random);
        _standInKey = new StandInKey(random);
        _identityHint = options.PskIdentityHint is null ? null : System.Text.Encoding.UTF8.GetBytes(options.PskIdentityHint);
        _capture = options.CaptureCiphertext ? new byte[ushort.MaxValue] : null;
        _services = new ConnectionServices(options, this, _scratch, this, random, _identityHint, _standInKey);
        _lastHelloFragmentScanMs = NowMs();
        _timers = new TimerWheel<ServerConnection>(_lastHelloFragmentScanMs);
        _idleMs = (long)options.IdleTimeout.TotalMilliseconds;
        _parkMs = options.ReleaseIdleCiphersAfter == Timeout.InfiniteTimeSpan
            ? long.MaxValue : (long)options.ReleaseIdleCiphersAfter.TotalMilliseconds;
    }

    /// <summary>Partial ClientHellos waiting for their other fragments (bounded for all peers together).</summary>
    internal int PendingHelloFragments
    {
        get
        {
            lock (_gate)
            {
                return _helloFragments.Count;
            }
        }
    }

    /// <summary>Whether <paramref name="peer"/> has any state here (a handshake or a session).</summary>
    internal bool HasState(SocketAddress peer)
    {
        lock (_gate)
        {
            return _peers.ContainsKey(peer);
        }
    }

    /// <summary>
    /// The most handshake bytes any one connection (or successor) holds for reassembly: the per-peer memory a
    /// stranger can make the server keep, which the fuzzing harness holds to <see cref="DtlsOptions.MaxReassemblyBytes"/>.
    /// </summary>
    internal int MaxBufferedHandshakeBytes()
    {
        lock (_gate)
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
    }

    /// <summary>Counters and gauges, read under the lock.</summary>
    public DtlsServerStatistics GetStatistics()
    {
        lock (_gate)
        {
            return _counters.ToStatistics(_peers.Count, _handshakes.Count);
        }
    }

    private long NowMs() => _time.GetMonotonicMilliseconds();

    /// <summary>
    /// Processes one received datagram from <paramref name="from"/>. <paramref name="datagram"/> is decrypted in
    /// place. <paramref name="from"/> may be a reused buffer: it is copied before anything keeps it.
    /// </summary>
    public void ProcessDatagram(SocketAddress from, Span<byte> datagram)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _counters.DatagramsReceived++;
            _counters.BytesReceived += datagram.Length;
            _helloVerifyRequestSent = false;
            var now = NowMs();
            if (_capture is not null)
            {
                datagram.CopyTo(_capture);
                _captureLength = datagram.Length;
            }
            _peers.TryGetValue(from, out var connection);
            var found = connection;
            var reader = new DatagramReader(datagram);
            while (reader.TryReadRecord(out var header, out var offset))
            {
                var body = datagram.Slice(offset, header.Length);
                var target = Route(from, ref connection, header, body, datagram.Length, now);
                if (target is null)
                {
                    continue;
                }
                var result = target.ProcessRecord(header, body, now);
                if (result == RecordResult.Defer)
                {
                    target.Defer(datagram[(offset + header.Length)..]);
                    _ = AwaitPskAsync(target);
                    break;
                }
                if (result == RecordResult.Stop)
                {
                    break;
                }
            }
            if (reader.Malformed)
            {
                _counters.RecordsDropped++;
            }
            _captureLength = 0;
            // Whatever this datagram did to the peer's handshake (or its successor's) moved its next timer. An
            // established session without a successor needs nothing: its timer re-reads LastReceiveMs when it fires,
            // so the steady-state path pays no second lookup.
            if ((found is null || !found.IsEstablished || found.Successor is not null)
                && _peers.TryGetValue(from, out var touched))
            {
                ScheduleTimer(touched, now);
                if (touched.Successor is { } successor)
                {
                    ScheduleTimer(successor, now);
                }
            }
        }
    }

    /// <summary>
    /// Puts a connection's timer where it belongs: a handshake at its next retransmission or deadline; an established
    /// session at its idle deadline or next cipher check, whichever is first (only when not already scheduled: a
    /// session's traffic does not touch the wheel, the timer re-reads LastReceiveMs when it fires).
    /// </summary>
    private void ScheduleTimer(ServerConnection connection, long now)
    {
        if (connection.IsClosed)
        {
            _timers.Cancel(connection);
        }
        else if (!connection.IsEstablished)
        {
            _timers.Schedule(connection, connection.NextTimerMs);
        }
        else if (!connection.TimerLinks.IsScheduled)
        {
            _timers.Schedule(connection, HousekeepingDue(connection, now));
        }
    }

    private long HousekeepingDue(ServerConnection connection, long now)
        => Math.Min(connection.LastReceiveMs + _idleMs, _parkMs == long.MaxValue ? long.MaxValue : now + _parkMs);

    /// <summary>Picks the connection a record belongs to, or handles it statelessly (a ClientHello) and returns null.</summary>
    private ServerConnection? Route(SocketAddress from, ref ServerConnection? connection, in RecordHeader header,
        Span<byte> body, int datagramLength, long now)
    {
        var isClientHello = header.Type == ContentType.Handshake && header.Epoch == 0
            && !body.IsEmpty && body[0] == (byte)HandshakeType.ClientHello;
        if (isClientHello)
        {
            // A retransmission of the ClientHello that started a handshake goes to that handshake (it repeats
            // flight 4: HOSTILE 28); any other ClientHello goes through the cookie check.
            if (connection is not null && HasSameRandom(connection, body))
            {
                return connection;
            }
            if (connection?.Successor is { } successor && HasSameRandom(successor, body))
            {
                return successor;
            }
            HandleClientHello(from, ref connection, header, body, datagramLength, now);
            return null;
        }
        if (connection is null)
        {
            // ClientKeyExchange, Finished, ChangeCipherSpec… from a stranger: no state, no answer (HOSTILE 29).
            Drop(from, DropReason.NoSession);
            return null;
        }
        if (connection.Successor is { } next && !next.IsClosed)
        {
            // RFC 6347 §4.2.8: while a new handshake from the same address runs, the old association keeps its
            // application data; the new handshake gets the epoch-0 records and the protected Finished.
            if (header.Epoch == 0 || header.Type == ContentType.Handshake)
            {
                return next;
            }
        }
        return connection;
    }

    private static bool HasSameRandom(DtlsConnection connection, ReadOnlySpan<byte> body)
    {
        // ClientHello body offset 2 (after client_version) holds the 32-byte random.
        const int randomOffset = HandshakeHeader.Size + 2;
        return body.Length >= randomOffset + KeySchedule.RandomLength
            && body.Slice(randomOffset, KeySchedule.RandomLength).SequenceEqual(connection.ClientRandomBytes);
    }

    /// <summary>
    /// The stateless cookie exchange (RFC 6347 §4.2.1): the record is fully handled here.
    /// </summary>
    /// <remarks>
    /// The cookie binds the peer's address and port to every field the client must repeat in its second
    /// ClientHello (RFC 6347 §4.2.1: client_version, random, session_id, cipher_suites, compression_methods).
    /// A fragmented hello is therefore judged once it is whole: its fragments wait in a small cache bounded for all
    /// peers together, unless the first fragment already shows that it carries no usable cookie.
    /// </remarks>
    private void HandleClientHello(SocketAddress from, ref ServerConnection? existing, in RecordHeader header,
        ReadOnlySpan<byte> body, int datagramLength, long now)
    {
        // An epoch-0 record is plaintext: more than 2^14 bytes is no legal record (RFC 5246 §6.2.1, HOSTILE 4).
        if (header.Version is not (ProtocolVersion.Dtls12 or ProtocolVersion.Dtls10)
            || body.Length > DatagramReader.MaxPlaintextLength
            || !HandshakeHeader.TryRead(body, out var handshake)
            || body.Length < HandshakeHeader.Size + handshake.FragmentLength)
        {
            Drop(from, DropReason.MalformedHandshake);
            return;
        }
        var address = from.Buffer.Span[..from.Size];
        var fragment = body.Slice(HandshakeHeader.Size, handshake.FragmentLength);
        var complete = handshake.IsComplete;
        ReadOnlySpan<byte> helloBody;
        if (complete)
        {
            helloBody = fragment;
        }
        else
        {
            // A first fragment that shows no cookie, or one that cannot be ours, ends here with nothing kept
            // (HOSTILE 18): a cookieless hello must fit one datagram. A cookie of the right length can only be checked
            // once the whole hello is here, since it also binds cipher_suites and compression_methods.
            if (handshake.FragmentOffset == 0
                && ClientHello.TryParseCookiePrefix(fragment, out _, out _, out var fragmentCookie)
                && fragmentCookie.Length != CookieVerifier.CookieLength)
            {
                _helloFragments.Release(from);
                Drop(from, DropReason.BadCookie);
                return;
            }
            // Fragments that cannot be judged yet wait in a small cache bounded for all peers together.
            var status = _helloFragments.Add(from, handshake, fragment, now, out helloBody);
            if (status != FragmentStatus.Complete)
            {
                if (status == FragmentStatus.Rejected)
                {
                    Drop(from, DropReason.FragmentRejected);
                }
                return;
            }
        }
        try
        {
            StartHandshake(from, ref existing, header, handshake.MessageSeq, helloBody, complete, datagramLength, now);
        }
        finally
        {
            if (!complete)
            {
                _helloFragments.Release(from);
            }
        }
    }

    private void StartHandshake(SocketAddress from, ref ServerConnection? existing, in RecordHeader header, ushort messageSeq,
        ReadOnlySpan<byte> helloBody, bool unfragmented, int datagramLength, long now)
    {
        // Every DTLS version is {254, x} (RFC 6347 §4.1); a client_version outside it is no DTLS ClientHello and
        // gets no HelloVerifyRequest (HOSTILE 20). DTLS versions after the cookie are judged by ServerConnection.
        // The message cap holds for a ClientHello in one piece too: it is copied into the transcript.
        if (helloBody.Length > _options.MaxHandshakeMessageLength
            || !ClientHello.TryParse(helloBody, out var hello) || hello.ClientVersion >> 8 != 0xFE)
        {
            Drop(from, DropReason.MalformedHandshake);
            return;
        }
        if (!_cookies.Verify(from.Buffer.Span[..from.Size], hello.CookieBindingPrefix, hello.CookieBindingSuffix, hello.Cookie))
        {
            if (unfragmented)
            {
                SendHelloVerifyRequest(from, header, hello, datagramLength);
            }
            else
            {
                // A cookieless hello must fit one datagram; answering reassembled fragments could amplify.
                Drop(from, DropReason.BadCookie);
            }
            return;
        }

        // A valid cookie: the peer is reachable at this address. Only now is state kept.
        if (existing is not null && !existing.IsEstablished)
        {
            // A new handshake replaces one that had not finished (a client that restarted mid-handshake).
            existing.Close(DtlsCloseReason.Replaced, DtlsError.None, null);
            _peers.TryGetValue(from, out existing);
        }
        // Half-open handshakes are the state a flood can create, so they are what gets evicted, oldest first;
        // established sessions are never pushed out by newcomers (HOSTILE 26).
        while (_handshakes.First is { } oldest && _handshakes.Count >= _maxHandshakes)
        {
            oldest.Value.Close(DtlsCloseReason.Evicted, DtlsError.None, null);
            _counters.HandshakesEvicted++;
            _peers.TryGetValue(from, out existing);
        }
        // Fix: for MaxSessions, evict only a half-open handshake that holds a table slot. A successor (a new
        // handshake from an established peer's address, RFC 6347 §4.2.8) has no slot of its own: evicting it made
        // no room, so a stranger's hello used to kill rebooted clients' handshakes and then be dropped anyway.
        while (existing is null && _peers.Count >= _maxSessions && OldestHalfOpenSlot() is { } victim)
        {
            victim.Close(DtlsCloseReason.Evicted, DtlsError.None, null);
            _counters.HandshakesEvicted++;
            _peers.TryGetValue(from, out existing);
        }
        if (existing is null && _peers.Count >= _maxSessions)
        {
            _counters.RecordsDropped++;
            Log.TooManySessions(_logger, from.ToEndPoint(), _peers.Count);
            return;
        }

        var peer = new SocketAddress(from.Family, from.Size);
        from.Buffer.Span[..from.Size].CopyTo(peer.Buffer.Span);
        var connection = new ServerConnection(_services, peer, now);
        connection.Session = new DtlsSession(this, connection);
        if (existing is not null)
        {
            existing.Successor?.Close(DtlsCloseReason.Replaced, DtlsError.None, null);
            existing.Successor = connection;
        }
        else
        {
            _peers[peer] = connection;
            existing = connection;
        }
        connection.HandshakeNode = _handshakes.AddLast(connection);
        _counters.HandshakesStarted++;
        if (_logger.IsEnabled(LogLevel.Information))
        {
            // Guarded: the argument would make the session's IPEndPoint, which it otherwise makes only when asked.
            Log.HandshakeInProgress(_logger, connection.Session.RemoteEndPoint);
        }
        try
        {
            _handler.OnHandshakeStarted(connection.Session);
        }
#pragma warning disable CA1031 // Application code: its failure is logged and must not break the protocol engine.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, connection.Session.RemoteEndPoint, exception);
        }

        var error = connection.Start(hello, messageSeq, helloBody, header.SequenceNumber, now);
        if (error != DtlsError.None)
        {
            connection.Refuse(error);
        }
        _peers.TryGetValue(from, out existing);
    }

    /// <summary>The oldest handshake in progress that is its address's entry in the table (not a successor), or null.</summary>
    private ServerConnection? OldestHalfOpenSlot()
    {
        for (var node = _handshakes.First; node is not null; node = node.Next)
        {
            if (_peers.TryGetValue(node.Value.Peer, out var entry) && entry == node.Value)
            {
                return entry;
            }
        }
        return null;
    }

    private void SendHelloVerifyRequest(SocketAddress from, in RecordHeader header, in ClientHello hello, int datagramLength)
    {
        Span<byte> cookie = stackalloc byte[CookieVerifier.CookieLength];
        _cookies.ComputeCookie(from.Buffer.Span[..from.Size], hello.CookieBindingPrefix, hello.CookieBindingSuffix, cookie);

        // Record and handshake headers around server_version(2) + cookie<0..255>.
        const int bodyLength = 2 + 1 + CookieVerifier.CookieLength;
        const int total = RecordHeader.Size + HandshakeHeader.Size + bodyLength;
        // Never answer with more bytes than the request carried, and never more than once per datagram: the cookie
        // exchange must not amplify a spoofed flood (RFC 6347 §4.2.1, HOSTILE 19).
        if (total > datagramLength || _helloVerifyRequestSent)
        {
            Drop(from, DropReason.MalformedHandshake);
            return;
        }
        Span<byte> datagram = stackalloc byte[total];
        // RFC 6347 §4.2.1: the HelloVerifyRequest reuses the ClientHello's record sequence number, and its
        // server_version is DTLS 1.0 whatever version is negotiated later.
        new RecordHeader(ContentType.Handshake, header.Version, 0, header.SequenceNumber, HandshakeHeader.Size + bodyLength)
            .Write(datagram);
        new HandshakeHeader(HandshakeType.HelloVerifyRequest, bodyLength, 0, 0, bodyLength)
            .Write(datagram[RecordHeader.Size..]);
        HelloVerifyRequest.Write(datagram[(RecordHeader.Size + HandshakeHeader.Size)..], ProtocolVersion.Dtls10, cookie);
        ((IDatagramSender)this).Send(datagram, from);
        _helloVerifyRequestSent = true;
        _counters.HelloVerifyRequestsSent++;
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.HelloVerifyRequestSent(_logger, from.ToEndPoint());
        }
    }

    private async Task AwaitPskAsync(ServerConnection connection)
    {
        byte[]? key = null;
        var failed = false;
        try
        {
            key = await connection.PendingPskLookup.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The store is application code: its failure ends one handshake, never the server.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            failed = true;
            Log.PskStoreFailed(_logger, connection.Session!.RemoteEndPoint, exception);
        }
        lock (_gate)
        {
            if (connection.IsClosed || _disposed)
            {
                return;
            }
            connection.ResumeAfterPsk(key, failed);
            var deferred = connection.TakeDeferred();
            var now = NowMs();
            var reader = new DatagramReader(deferred);
            while (!connection.IsClosed && reader.TryReadRecord(out var header, out var offset))
            {
                if (connection.ProcessRecord(header, deferred.Slice(offset, header.Length), now) != RecordResult.Continue)
                {
                    break;
                }
            }
            ScheduleTimer(connection, now);
        }
    }

    /// <summary>Retransmissions, handshake deadlines, idle expiry and cipher release. Called every <see cref="TickInterval"/>.</summary>
    public void OnTick()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            var now = NowMs();
            // Only connections whose timer is due are visited (TimerWheel), however many sessions there are.
            _timers.CollectDue(now, _due);
            var parked = false;
            foreach (var connection in _due)
            {
                if (connection.IsClosed)
                {
                    continue;
                }
                if (!connection.IsEstablished)
                {
                    connection.OnTimer(now);
                    ScheduleTimer(connection, now);
                    continue;
                }
                if (now - connection.LastReceiveMs >= _idleMs)
                {
                    connection.Close(DtlsCloseReason.IdleTimeout, DtlsError.None, null);
                    continue;
                }
                if (_parkMs != long.MaxValue)
                {
                    // Ciphers that sealed and opened nothing since this timer last fired are released (≈ 2 KB each).
                    _counters.CiphersReleased += connection.Records.ParkIdleCiphers();
                    parked = true;
                }
                _timers.Schedule(connection, HousekeepingDue(connection, now));
            }
            _due.Clear();
            if (parked && _counters.CiphersReleased - _ciphersReleasedAtLastTrim >= TrimAfterReleasedCiphers)
            {
                // Enough native key schedules were freed to matter: hand them back to the OS.
                _ciphersReleasedAtLastTrim = _counters.CiphersReleased;
                NativeHeap.Trim();
            }
            if (now - _lastHelloFragmentScanMs >= HelloFragmentScanIntervalMs)
            {
                _lastHelloFragmentScanMs = now;
                _helloFragments.Expire(now, HelloFragmentMaxAgeMs);
            }
        }
    }

    public bool Send(ServerConnection connection, ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            return !_disposed && connection.SendApplicationData(data);
        }
    }

    /// <summary>Closes one session, sending close_notify if it is established.</summary>
    public void CloseSession(ServerConnection connection)
    {
        lock (_gate)
        {
            connection.CloseGracefully(DtlsCloseReason.LocalClose);
        }
    }

    /// <summary>Sends close_notify to every established peer and forgets all state. Returns how many were told.</summary>
    public int CloseAll()
    {
        lock (_gate)
        {
            var count = 0;
            foreach (var connection in _peers.Values)
            {
                _expired.Add(connection);
                if (connection.Successor is { } successor)
                {
                    _expired.Add(successor);
                }
            }
            foreach (var connection in _expired)
            {
                if (connection.IsEstablished)
                {
                    count++;
                }
                connection.CloseGracefully(DtlsCloseReason.LocalClose);
            }
            _expired.Clear();
            return count;
        }
    }

    void IConnectionObserver.OnEstablished(DtlsConnection connection)
    {
        // The connection left _handshakes when it released its handshake state, just before this call.
        var server = (ServerConnection)connection;
        // From retransmission timer to idle and cipher checks.
        _timers.Cancel(server);
        ScheduleTimer(server, NowMs());
        _counters.HandshakesCompleted++;
        if (_peers.TryGetValue(server.Peer, out var current) && current != server && current.Successor == server)
        {
            // The new handshake finished: it takes the old association's place (RFC 6347 §4.2.8).
            current.Successor = null;
            _peers[server.Peer] = server;
            current.Close(DtlsCloseReason.Replaced, DtlsError.None, null);
        }
        var session = server.Session!;
        if (_logger.IsEnabled(LogLevel.Information))
        {
            Log.Encrypted(_logger, session.RemoteEndPoint, server.NegotiatedSuite);
        }
        try
        {
            _handler.OnSessionEstablished(session);
        }
#pragma warning disable CA1031
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, session.RemoteEndPoint, exception);
        }
    }

    void IConnectionObserver.OnPskLookup(DtlsConnection connection)
    {
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var session = ((ServerConnection)connection).Session!;
            Log.PskIdentity(_logger, session.RemoteEndPoint, LogText.Printable(session.PskIdentity, MaxLoggedIdentityLength));
        }
    }

    void IConnectionObserver.OnPskStoreFailed(DtlsConnection connection, Exception exception)
        => Log.PskStoreFailed(_logger, ((ServerConnection)connection).Session!.RemoteEndPoint, exception);

    void IConnectionObserver.OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext)
    {
        var session = ((ServerConnection)connection).Session!;
        _counters.DatagramsDelivered++;
        if (plaintext.IsEmpty)
        {
            Log.EmptyDatagram(_logger, session.RemoteEndPoint);
        }
        var ciphertext = _capture is null ? default : new ReadOnlySpan<byte>(_capture, 0, _captureLength);
        try
        {
            _handler.OnDatagram(session, plaintext, ciphertext);
        }
#pragma warning disable CA1031
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, session.RemoteEndPoint, exception);
        }
    }

    void IConnectionObserver.OnClosed(DtlsConnection connection, DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        // Closing released the handshake state, and with it the connection's place in _handshakes.
        var server = (ServerConnection)connection;
        _timers.Cancel(server);
        if (_peers.TryGetValue(server.Peer, out var current))
        {
            if (current == server)
            {
                // A running successor outlives the association it was going to replace.
                if (server.Successor is { IsClosed: false } successor)
                {
                    _peers[server.Peer] = successor;
                }
                else
                {
                    _peers.Remove(server.Peer);
                }
                server.Successor = null;
            }
            else if (current.Successor == server)
            {
                current.Successor = null;
            }
        }
        var session = server.Session!;
        switch (reason)
        {
            case DtlsCloseReason.HandshakeFailed:
                _counters.HandshakesFailed++;
                Log.HandshakeFailed(_logger, session.RemoteEndPoint, DtlsErrors.Describe(error), alert);
                break;
            case DtlsCloseReason.HandshakeTimeout:
                _counters.HandshakesFailed++;
                Log.HandshakeTimedOut(_logger, session.RemoteEndPoint);
                break;
            case DtlsCloseReason.PeerAlert:
                Log.PeerAlert(_logger, session.RemoteEndPoint, alert);
                break;
        }
        Log.SessionClosed(_logger, session.RemoteEndPoint, reason);
        try
        {
            _handler.OnSessionClosed(session, reason);
        }
#pragma warning disable CA1031
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, session.RemoteEndPoint, exception);
        }
    }

    void IConnectionObserver.OnDropped(DtlsConnection connection, DropReason reason)
    {
        _counters.RecordsDropped++;
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

    private void Drop(SocketAddress from, DropReason reason)
    {
        _counters.RecordsDropped++;
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.Dropped(_logger, from.ToEndPoint(), reason.ToString());
        }
    }


    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            foreach (var connection in _peers.Values)
            {
                connection.Successor?.Dispose();
                connection.Dispose();
            }
            _peers.Clear();
            _handshakes.Clear();
            _cookies.Dispose();
            _helloFragments.Dispose();
        }
    }

    // Connections send through the engine so that bytes out are counted in one place (flood figures compare
    // them with bytes in). Always called under _gate: by the engine itself or by a connection it is driving.
    void IDatagramSender.Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        _counters.DatagramsSent++;
        _counters.BytesSent += datagram.Length;
        _sender.Send(datagram, peer);
    }

    private struct ServerCounters
    {
        public long DatagramsReceived;
        public long DatagramsDelivered;
        public long RecordsDropped;
        public long HelloVerifyRequestsSent;
        public long HandshakesStarted;
        public long HandshakesCompleted;
        public long HandshakesFailed;
        public long HandshakesEvicted;
        public long BytesReceived;
        public long DatagramsSent;
        public long BytesSent;
        public long CiphersReleased;

        public readonly DtlsServerStatistics ToStatistics(int sessions, int handshakes) => new(
            DatagramsReceived, DatagramsDelivered, RecordsDropped, HelloVerifyRequestsSent, HandshakesStarted,
            HandshakesCompleted, HandshakesFailed, sessions, handshakes, HandshakesEvicted, BytesReceived,
            DatagramsSent, BytesSent, CiphersReleased);
    }
}
