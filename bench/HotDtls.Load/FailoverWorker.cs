using System.Buffers.Binary;

namespace HotDtls.Load;

/// <summary>
/// Failover mode: sessions that ask for RFC 5077 tickets echo every interval until the run ends. A session whose echo
/// is not answered within the timeout, or that the server closes, has lost its server (an outage): like a device
/// after a reboot it opens a new socket (a new source port, which a load balancer may send to another node) and
/// handshakes again offering the latest ticket it holds — abbreviated if the server that answers can open the
/// ticket (the same ticket keys), full otherwise. The outage ends at the first echo answered again; a failed
/// reconnect handshake is tried again from yet another socket.
/// </summary>
internal sealed class FailoverWorker : Worker
{
    private static readonly long s_sweepEvery = Clock.FromMilliseconds(5);

    private readonly int _concurrency;
    private readonly long _interval;
    private readonly long _timeout;
    private readonly int _windowCapacity;
    private readonly byte[] _payload;
    private readonly DtlsSavedSession?[] _saved;
    private readonly bool[] _reconnecting;
    private readonly bool[] _inOutage;
    private readonly long[] _outageStart;
    private readonly long[] _nextEchoAt;
    private int _opened;
    private int _handshaking;

    public FailoverWorker(RunContext run, int index, int sessions, int concurrency, double intervalMs, int size)
        : base(run, index, sessions)
    {
        _concurrency = Math.Max(1, concurrency);
        _interval = Clock.FromMilliseconds(intervalMs);
        _timeout = Clock.FromMilliseconds(run.Options.TimeoutMs);
        // Echoes in flight at once: one per interval over a timeout, and room to spare.
        _windowCapacity = (int)Math.Min(1024, run.Options.TimeoutMs / Math.Max(1, intervalMs) + 2);
        _payload = new byte[size];
        BinaryPrimitives.WriteUInt32BigEndian(_payload, EchoWorker.Magic);
        _saved = new DtlsSavedSession?[sessions];
        _reconnecting = new bool[sessions];
        _inOutage = new bool[sessions];
        _outageStart = new long[sessions];
        _nextEchoAt = new long[sessions];
    }

    // Written by this worker's thread, read by the runner once the worker has exited (Join orders them).
    public long Outages { get; private set; }
    public long Reconnects { get; private set; }
    public long ReconnectsResumed { get; private set; }
    public long ReconnectsFailed { get; private set; }

    /// <summary>Sessions still without their server when the run ended (they never came back).</summary>
    public long InOutage { get; private set; }

    protected override void Body()
    {
        var nextSweep = 0L;
        try
        {
            while (!Run.Stopping && Clock.Now < Run.MeasureTo)
            {
                var now = Clock.Now;
                while (_opened < Slots.Length && _handshaking < _concurrency)
                {
                    Open(_opened++, now);
                    _handshaking++;
                }
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
            for (var i = 0; i < _inOutage.Length; i++)
            {
                InOutage += _inOutage[i] ? 1 : 0;
            }
            Run.SignalReady();
            for (var i = 0; i < Slots.Length; i++)
            {
                Release(i);
                _saved[i]?.Dispose();
            }
        }
    }

    private void Sweep(long now)
    {
        var outages = 0;
        for (var slot = 0; slot < Slots.Length; slot++)
        {
            outages += _inOutage[slot] ? 1 : 0;
            if (Slots[slot] is not { Window: { } window } session)
            {
                continue;
            }
            var oldest = window.OldestSentAt;
            if (window.Expire(now - _timeout, 0, out _) > 0)
            {
                LoseServer(session, oldest, now);
                continue;
            }
            if (now >= _nextEchoAt[slot] && window.TrySend(now, out var sequence))
            {
                BinaryPrimitives.WriteUInt32BigEndian(_payload.AsSpan(4), sequence);
                session.SendPayload(_payload);
                WorkerCounters.Bump(ref Counters.TotalSent);
                // Every interval from the last due time, not from now: a late sweep does not slow the echoes down.
                _nextEchoAt[slot] = Math.Max(_nextEchoAt[slot] + _interval, now - _interval);
            }
        }
        WorkerCounters.Bump(ref Counters.InFlight, outages - Counters.InFlight); // the progress line's "in outage"
    }

    /// <summary>
    /// The session's server is gone (an echo sent at <paramref name="missedAt"/> went unanswered, or it closed the
    /// session): the outage starts there unless one is already running, and the session reconnects.
    /// </summary>
    private void LoseServer(LoadSession session, long missedAt, long now)
    {
        var slot = session.Slot;
        if (!_inOutage[slot])
        {
            _inOutage[slot] = true;
            _outageStart[slot] = Math.Min(missedAt, now);
            Outages++;
        }
        Reconnect(slot, now, afterOutage: true);
    }

    /// <summary>
    /// A rebooted device: no close_notify, a new socket, the latest ticket offered. <paramref name="afterOutage"/>:
    /// the handshake counts as a reconnect (false: a first handshake that failed is tried again).
    /// </summary>
    private void Reconnect(int slot, long now, bool afterOutage)
    {
        Abandon(slot);
        Open(slot, now, resume: _saved[slot]);
        _reconnecting[slot] = afterOutage;
        _handshaking++;
    }

    protected override bool StopOnRefusal(LoadSession session)
    {
        // Servers going away is what this mode measures: ICMP port unreachable ends the run only when no server ever
        // answered (a wrong port). Otherwise the echo timeout, or the handshake's own retransmissions, carry on.
        return !Run.AnyEstablished && base.StopOnRefusal(session);
    }

    protected override void AfterDrain(LoadSession session)
    {
        var slot = session.Slot;
        var now = Clock.Now;
        if (session.Window is { } window)
        {
            if (session.IsClosed)
            {
                LoseServer(session, window.OldestSentAt, now);
            }
            return;
        }
        if (session.IsEstablished)
        {
            _handshaking--;
            Run.MarkEstablished();
            Suite ??= session.Suite;
            if (session.SaveSession() is { } saved)
            {
                _saved[slot]?.Dispose(); // the options copy that offered it is done with it: the engine took its own
                _saved[slot] = saved;
            }
            session.Window = new InFlightWindow(_windowCapacity);
            if (_reconnecting[slot])
            {
                _reconnecting[slot] = false;
                Reconnects++;
                ReconnectsResumed += session.IsResumed ? 1 : 0;
                _nextEchoAt[slot] = now; // at once: the outage lasts until an echo is answered
            }
            else
            {
                WorkerCounters.Bump(ref Counters.TotalEstablished);
                _nextEchoAt[slot] = now + (long)(Random.Shared.NextDouble() * _interval);
            }
            return;
        }
        if (!session.IsClosed)
        {
            return;
        }
        _handshaking--;
        WorkerCounters.Bump(ref Counters.Failed);
        if (!Run.AnyEstablished && session.CloseReason == DtlsCloseReason.HandshakeTimeout)
        {
            Run.Fail($"no DTLS server answered at {Run.Options.ServerText} within {Run.Options.HandshakeTimeoutMs} ms");
            return;
        }
        if (!Run.AnyEstablished && session.CloseReason is DtlsCloseReason.PeerAlert or DtlsCloseReason.HandshakeFailed)
        {
            Run.Fail($"the server at {Run.Options.ServerText} refused the handshake ({session.CloseReason}): check --identity, --key and --suite");
            return;
        }
        ReconnectsFailed += _reconnecting[slot] ? 1 : 0;
        Reconnect(slot, now, _reconnecting[slot]);
    }

    public override void OnReply(LoadSession session, ReadOnlySpan<byte> payload, long now)
    {
        if (session.Window is not { } window)
        {
            return;
        }
        if (!window.TryAnswerReply(payload, EchoWorker.Magic, out _))
        {
            WorkerCounters.Bump(ref Counters.Unmatched);
            return;
        }
        WorkerCounters.Bump(ref Counters.TotalReplies);
        var slot = session.Slot;
        if (_inOutage[slot])
        {
            _inOutage[slot] = false;
            Latency.RecordTicks(now - _outageStart[slot]);
        }
    }
}
