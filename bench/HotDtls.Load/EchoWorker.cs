using System.Buffers.Binary;

namespace HotDtls.Load;

/// <summary>
/// Echo mode: establishes its sessions, waits for the run's go, then keeps <c>window</c> datagrams in flight per
/// session (closed loop: a reply or a timeout sends the next), or sends at a fixed rate round-robin over its sessions
/// (open loop, --rate). Each payload starts with <see cref="Magic"/> and the session's sequence number, so an echo is
/// matched exactly; a reply that is not an echo answers the oldest datagram in flight. Unless --no-batch, a ready
/// session's replies are read with one recvmmsg and the refills they cause go out with one sendmmsg: the records are
/// still sealed and opened one by one by the client state machine; only the system calls are shared.
/// </summary>
internal sealed class EchoWorker : Worker
{
    /// <summary>"HDL1": marks a payload whose next four bytes are its sequence number.</summary>
    public const uint Magic = 0x48444C31;

    /// <summary>Most datagrams one session keeps in flight in open-loop mode, unless the window is larger.</summary>
    public const int OpenLoopMaxInFlight = 64;

    private static readonly long s_sweepEvery = Clock.FromMilliseconds(10);
    private static readonly long s_readyPoll = Clock.FromMilliseconds(10);

    private readonly int _concurrency;
    private readonly int _window;
    private readonly int _limit;
    private readonly double _rate;
    private readonly long _timeout;
    private readonly byte[] _payload;
    private int _established;
    private int _roundRobin;
    private bool _sending;

    /// <param name="rate">Datagrams per second this worker sends in all; 0 for closed loop.</param>
    /// <param name="batched">recvmmsg/sendmmsg of up to a window's worth of datagrams per session per wake-up.</param>
    public EchoWorker(RunContext run, int index, int sessions, int concurrency, int window, int size, double rate, bool batched)
        : base(run, index, sessions, batched ? (rate > 0 ? Math.Max(window, OpenLoopMaxInFlight) : window) : 0)
    {
        _concurrency = Math.Max(1, concurrency);
        _window = window;
        _rate = rate;
        _limit = rate > 0 ? Math.Max(window, OpenLoopMaxInFlight) : window;
        _timeout = Clock.FromMilliseconds(run.Options.TimeoutMs);
        _payload = new byte[size];
        for (var i = 8; i < size; i++)
        {
            _payload[i] = (byte)i;
        }
    }

    protected override void Body()
    {
        if (!Establish())
        {
            return;
        }
        Run.SignalReady();
        while (!Run.Go && !Run.Stopping)
        {
            Poll(Clock.Now + s_readyPoll);
        }
        SendPhase();
        DrainPhase();
        for (var i = 0; i < Slots.Length; i++)
        {
            Release(i);
        }
    }

    /// <summary>Opens every session, at most <c>concurrency</c> handshakes at a time. False when the run ended first.</summary>
    private bool Establish()
    {
        var opened = 0;
        var nextSweep = 0L;
        while (!Run.Stopping && _established < Slots.Length)
        {
            var now = Clock.Now;
            while (opened < Slots.Length && opened - _established < _concurrency)
            {
                var session = Open(opened++, now);
                if (session.IsEstablished)
                {
                    AfterDrain(session); // plain UDP: nothing to wait for
                }
            }
            if (now >= nextSweep)
            {
                SweepHandshakeTimers(now);
                nextSweep = now + s_sweepEvery;
            }
            Poll(nextSweep);
        }
        return !Run.Stopping;
    }

    private void SendPhase()
    {
        var measureFrom = Run.MeasureFrom;
        var measureTo = Run.MeasureTo;
        var now = Clock.Now;
        _sending = true;
        if (_rate <= 0)
        {
            for (var i = 0; i < Slots.Length; i++)
            {
                Fill(Slots[i]!, now);
            }
        }
        var interval = Clock.TicksPerSecond / Math.Max(_rate, 1e-9);
        double nextSend = now;
        var sendErrorsBefore = 0L;
        while (!Run.Stopping)
        {
            now = Clock.Now;
            if (now >= measureFrom && !Measuring)
            {
                BeginMeasure();
                sendErrorsBefore = SendErrors();
            }
            if (now >= measureTo)
            {
                break;
            }
            if (_rate > 0)
            {
                while (nextSend <= now)
                {
                    SendRoundRobin(now);
                    nextSend += interval;
                }
            }
            var wake = Math.Min(ExpireAll(now), measureTo);
            if (!Measuring)
            {
                wake = Math.Min(wake, measureFrom);
            }
            if (_rate > 0)
            {
                wake = Math.Min(wake, (long)nextSend);
            }
            Poll(wake);
        }
        _sending = false;
        if (Measuring)
        {
            // A batched send fails when its batch goes out, not when the datagram is queued: errors are counted
            // per session across the window.
            WorkerCounters.Bump(ref Counters.SendErrors, SendErrors() - sendErrorsBefore);
        }
        EndMeasure();
    }

    private long SendErrors()
    {
        long errors = 0;
        for (var i = 0; i < Slots.Length; i++)
        {
            errors += Slots[i]?.SendErrors ?? 0;
        }
        return errors;
    }

    /// <summary>After the window: waits for the datagrams still in flight, up to one timeout, then counts the rest lost.</summary>
    private void DrainPhase()
    {
        var until = Clock.Now + _timeout;
        while (!Run.Stopping)
        {
            var now = Clock.Now;
            var next = ExpireAll(now);
            if (next == long.MaxValue || now >= until)
            {
                break;
            }
            Poll(Math.Min(next, until));
        }
        for (var i = 0; i < Slots.Length; i++)
        {
            if (Slots[i]?.Window is { } window)
            {
                var lost = window.Expire(long.MaxValue, Run.MeasureFrom, out _);
                WorkerCounters.Bump(ref Counters.Lost, lost);
            }
        }
    }

    /// <summary>Times out what waited too long, refills closed-loop windows, and returns when the next timeout falls due.</summary>
    private long ExpireAll(long now)
    {
        var next = long.MaxValue;
        for (var i = 0; i < Slots.Length; i++)
        {
            if (Slots[i] is not { Window: { } window } session)
            {
                continue;
            }
            var lost = window.Expire(now - _timeout, Run.MeasureFrom, out var expired);
            if (lost > 0)
            {
                WorkerCounters.Bump(ref Counters.Lost, lost);
            }
            if (expired > 0 && _sending && _rate <= 0)
            {
                Fill(session, now);
            }
            var oldest = window.OldestSentAt;
            if (oldest != long.MaxValue)
            {
                next = Math.Min(next, oldest + _timeout);
            }
        }
        return next;
    }

    /// <summary>Tops the session's window up; the burst goes out in one sendmmsg with batches.</summary>
    private void Fill(LoadSession session, long now)
    {
        var window = session.Window!;
        var began = BeginSends(session);
        while (window.Outstanding < _window && window.HasRoom && SendOne(session, now))
        {
        }
        if (began)
        {
            EndSends(session);
        }
    }

    private void SendRoundRobin(long now)
    {
        for (var tried = 0; tried < Slots.Length; tried++)
        {
            var session = Slots[_roundRobin]!;
            _roundRobin = _roundRobin + 1 == Slots.Length ? 0 : _roundRobin + 1;
            if (session.Window!.Outstanding < _limit && session.Window.HasRoom)
            {
                SendOne(session, now);
                return;
            }
        }
        // Every session has its most in flight: the server is behind; this send is skipped, and counted.
        if (InWindow(now))
        {
            WorkerCounters.Bump(ref Counters.Skipped);
        }
    }

    private bool SendOne(LoadSession session, long now)
    {
        if (!session.Window!.TrySend(now, out var sequence))
        {
            return false;
        }
        BinaryPrimitives.WriteUInt32BigEndian(_payload, Magic);
        BinaryPrimitives.WriteUInt32BigEndian(_payload.AsSpan(4), sequence);
        if (!session.SendPayload(_payload))
        {
            Run.Fail($"session {session.Slot} can no longer send (closed: {session.CloseReason})");
            return false;
        }
        WorkerCounters.Bump(ref Counters.TotalSent);
        if (InWindow(now))
        {
            WorkerCounters.Bump(ref Counters.Sent);
        }
        return true;
    }

    protected override void AfterDrain(LoadSession session)
    {
        if (session.IsClosed)
        {
            Run.Fail(session.IsEstablished || session.Window is not null
                ? $"the server closed session {session.Slot} during the run ({session.CloseReason})"
                : $"session {session.Slot} could not be established ({session.CloseReason}): is a DTLS PSK server at {Run.Options.ServerText}, with this --identity, --key and --suite?");
            return;
        }
        if (session.IsEstablished && session.Window is null)
        {
            session.Window = new InFlightWindow(2 * _limit);
            _established++;
            Run.MarkEstablished();
            Suite ??= session.Suite;
            WorkerCounters.Bump(ref Counters.TotalEstablished);
        }
    }

    public override void OnReply(LoadSession session, ReadOnlySpan<byte> payload, long now)
    {
        if (session.Window is not { } window)
        {
            return;
        }
        WorkerCounters.Bump(ref Counters.TotalReplies);
        var matched = window.TryAnswerReply(payload, Magic, out var sentAt);
        if (!matched)
        {
            WorkerCounters.Bump(ref Counters.Unmatched);
            return;
        }
        if (InWindow(sentAt))
        {
            WorkerCounters.Bump(ref Counters.Received);
            WorkerCounters.Bump(ref Counters.ReceivedBytes, payload.Length);
            Latency.RecordTicks(now - sentAt);
        }
        if (_sending && _rate <= 0)
        {
            Fill(session, now);
        }
    }
}
