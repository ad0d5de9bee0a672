using System.Buffers.Binary;

namespace HotDtls.Load;

/// <summary>
/// Rebind mode: each session (offering Connection ID) is established and echoes once, then moves to a new socket —
/// a new source port, the same DTLS session — <c>rebinds</c> times, echoing after each move. RFC 9146 §6 lets the
/// server take a CID record from a new address as the same session; it may first check the address
/// (draft-ietf-tls-dtls-rrc: the client engine answers its path_challenge) and send there no more than it received,
/// so the first answer after a move may be withheld: the echo is resent as soon as the engine has answered a
/// path_challenge, and every timeout/5 until the timeout. A session
/// whose echo after a move is never answered has been lost: it runs a new handshake (counted) and goes on.
/// </summary>
internal sealed class RebindWorker : Worker
{
    private static readonly long s_sweepEvery = Clock.FromMilliseconds(5);

    private enum Phase : byte
    {
        NotStarted,
        Handshaking,
        Echoing,
        Pausing,
        // The last echo was answered; the session is let go once its datagram has been processed.
        Finishing,
        Done,
    }

    private readonly int _rebinds;
    private readonly int _concurrency;
    private readonly long _interval;
    private readonly long _timeout;
    private readonly long _retry;
    private readonly byte[] _payload;
    private readonly Phase[] _phase;
    private readonly int[] _moves;
    private readonly bool[] _afterMove;
    private readonly bool[] _lost;
    private readonly bool[] _renewed;
    private readonly uint[] _expected;
    private readonly long[] _echoSentAt;
    private readonly long[] _echoResentAt;
    private readonly long[] _movedAt;
    private readonly long[] _nextMoveAt;
    private readonly long[] _sentByUs;
    private uint _nextSequence;
    private int _opened;
    private int _handshaking;
    private int _done;

    public RebindWorker(RunContext run, int index, int sessions, int concurrency, int rebinds, double intervalMs, int size)
        : base(run, index, sessions)
    {
        _rebinds = rebinds;
        _concurrency = Math.Max(1, concurrency);
        _interval = Clock.FromMilliseconds(intervalMs);
        _timeout = Clock.FromMilliseconds(run.Options.TimeoutMs);
        _retry = Math.Max(1, _timeout / 5);
        _payload = new byte[size];
        BinaryPrimitives.WriteUInt32BigEndian(_payload, EchoWorker.Magic);
        _phase = new Phase[sessions];
        _moves = new int[sessions];
        _afterMove = new bool[sessions];
        _lost = new bool[sessions];
        _renewed = new bool[sessions];
        _expected = new uint[sessions];
        _echoSentAt = new long[sessions];
        _echoResentAt = new long[sessions];
        _movedAt = new long[sessions];
        _nextMoveAt = new long[sessions];
        _sentByUs = new long[sessions];
    }

    // Written by this worker's thread, read by the runner once the worker has exited (Join orders them).
    public long Moves { get; private set; }
    public long AnsweredAfterMove { get; private set; }
    public long EchoRetries { get; private set; }
    public long SessionsKept { get; private set; }
    public long SessionsLost { get; private set; }
    public long NewHandshakes { get; private set; }
    public long SessionsWithConnectionId { get; private set; }
    public long FirstEchoUnanswered { get; private set; }

    protected override void Body()
    {
        var nextSweep = 0L;
        try
        {
            while (!Run.Stopping && _done < Slots.Length)
            {
                var now = Clock.Now;
                while (_opened < Slots.Length && _handshaking < _concurrency)
                {
                    var slot = _opened++;
                    Open(slot, now);
                    _phase[slot] = Phase.Handshaking;
                    _handshaking++;
                }
                WorkerCounters.Bump(ref Counters.InFlight, _handshaking - Counters.InFlight);
                if (now >= nextSweep)
                {
                    SweepHandshakeTimers(now);
                    Sweep(now);
                    nextSweep = now + s_sweepEvery;
                }
                Poll(nextSweep);
            }
        }
        finally
        {
            Run.SignalReady();
            for (var i = 0; i < Slots.Length; i++)
            {
                Release(i);
            }
        }
    }

    private void Sweep(long now)
    {
        for (var slot = 0; slot < Slots.Length; slot++)
        {
            if (Slots[slot] is not { } session)
            {
                continue;
            }
            switch (_phase[slot])
            {
                case Phase.Pausing when now >= _nextMoveAt[slot]:
                    MoveToNewSocket(session);
                    _moves[slot]++;
                    Moves++;
                    _afterMove[slot] = true;
                    _movedAt[slot] = now;
                    SendEcho(session, now);
                    break;
                case Phase.Echoing when now - _echoSentAt[slot] >= _timeout:
                    Lose(session, now);
                    break;
                case Phase.Echoing when now - _echoResentAt[slot] >= _retry:
                    // The same datagram again: the server may have withheld its answer to an address it had not yet
                    // proven (RFC 9146 §6), and each datagram from the address adds to what it may send there.
                    Resend(session, now);
                    EchoRetries++;
                    break;
            }
        }
    }

    private void SendEcho(LoadSession session, long now)
    {
        var slot = session.Slot;
        _expected[slot] = _nextSequence++;
        _echoSentAt[slot] = now;
        _phase[slot] = Phase.Echoing;
        Resend(session, now);
    }

    private void Resend(LoadSession session, long now)
    {
        BinaryPrimitives.WriteUInt32BigEndian(_payload.AsSpan(4), _expected[session.Slot]);
        _echoResentAt[session.Slot] = now;
        session.SendPayload(_payload);
        _sentByUs[session.Slot] = session.DatagramsSent;
        WorkerCounters.Bump(ref Counters.TotalSent);
    }

    /// <summary>
    /// The session's echo went unanswered (or the server closed it): after a move, the DTLS session is lost and a new
    /// handshake, from a new socket, takes its place. Before any move, or right after such a new handshake, the
    /// server does not answer at all: the slot gives up.
    /// </summary>
    private void Lose(LoadSession session, long now)
    {
        var slot = session.Slot;
        var moved = _afterMove[slot];
        _afterMove[slot] = false;
        if (!_lost[slot] && moved)
        {
            _lost[slot] = true;
            SessionsLost++;
        }
        Abandon(slot);
        if (!moved)
        {
            if (_moves[slot] == 0)
            {
                FirstEchoUnanswered++;
                if (!_lost[slot])
                {
                    _lost[slot] = true;
                    SessionsLost++;
                }
            }
            Finish(slot);
            return;
        }
        Open(slot, now);
        _renewed[slot] = true;
        _phase[slot] = Phase.Handshaking;
        _handshaking++;
    }

    private void Finish(int slot)
    {
        _phase[slot] = Phase.Done;
        _done++;
        Release(slot);
    }

    protected override void AfterDrain(LoadSession session)
    {
        var slot = session.Slot;
        switch (_phase[slot])
        {
            case Phase.Handshaking when session.IsEstablished:
                _handshaking--;
                Run.MarkEstablished();
                Suite ??= session.Suite;
                if (_renewed[slot])
                {
                    NewHandshakes++;
                    _renewed[slot] = false;
                }
                else
                {
                    WorkerCounters.Bump(ref Counters.TotalEstablished);
                    SessionsWithConnectionId += session.UsesConnectionId ? 1 : 0;
                }
                SendEcho(session, Clock.Now);
                break;
            case Phase.Handshaking when session.IsClosed:
                _handshaking--;
                WorkerCounters.Bump(ref Counters.Failed);
                if (!Run.AnyEstablished && session.CloseReason == DtlsCloseReason.HandshakeTimeout)
                {
                    Run.Fail($"no DTLS server answered at {Run.Options.ServerText} within {Run.Options.HandshakeTimeoutMs} ms");
                }
                else if (!Run.AnyEstablished && session.CloseReason is DtlsCloseReason.PeerAlert or DtlsCloseReason.HandshakeFailed)
                {
                    Run.Fail($"the server at {Run.Options.ServerText} refused the handshake ({session.CloseReason}): check --identity, --key and --suite");
                }
                if (!_lost[slot])
                {
                    _lost[slot] = true;
                    SessionsLost++;
                }
                Finish(slot);
                break;
            case Phase.Finishing:
                Finish(slot);
                break;
            case Phase.Echoing or Phase.Pausing when session.IsClosed:
                Lose(session, Clock.Now);
                break;
            case Phase.Echoing when _afterMove[slot] && session.DatagramsSent > _sentByUs[slot]:
                // The engine sent something of its own since our echo: its path_response to the server's path_challenge
                // (draft-ietf-tls-dtls-rrc). The server withheld the echo's answer until the new address proved
                // itself, which it now has: the echo again at once, not at the next retry.
                Resend(session, Clock.Now);
                EchoRetries++;
                break;
        }
    }

    public override void OnReply(LoadSession session, ReadOnlySpan<byte> payload, long now)
    {
        var slot = session.Slot;
        if (_phase[slot] != Phase.Echoing)
        {
            return;
        }
        // An echo names its datagram; a server that answers something else ("ACK") answers the one in flight.
        if (payload.Length >= 8 && BinaryPrimitives.ReadUInt32BigEndian(payload) == EchoWorker.Magic
            && BinaryPrimitives.ReadUInt32BigEndian(payload[4..]) != _expected[slot])
        {
            WorkerCounters.Bump(ref Counters.Unmatched);
            return;
        }
        WorkerCounters.Bump(ref Counters.TotalReplies);
        if (_afterMove[slot])
        {
            _afterMove[slot] = false;
            AnsweredAfterMove++;
            Latency.RecordTicks(now - _movedAt[slot]);
        }
        if (_moves[slot] >= _rebinds)
        {
            if (!_lost[slot])
            {
                SessionsKept++;
            }
            _phase[slot] = Phase.Finishing; // released in AfterDrain: this runs inside the engine's receive
            return;
        }
        _phase[slot] = Phase.Pausing;
        _nextMoveAt[slot] = now + _interval;
    }
}
