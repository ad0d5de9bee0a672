namespace HotDtls.Load;

/// <summary>
/// Handshake mode: keeps up to <c>concurrency</c> handshakes going; each established session sends close_notify
/// and is forgotten at once, and its slot starts the next handshake on a fresh socket (a new source port, so the
/// server sees a new peer and runs the cookie exchange again).
/// </summary>
internal sealed class HandshakeWorker(RunContext run, int index, int concurrency, long quota)
    : Worker(run, index, concurrency)
{
    private static readonly long s_sweepEvery = Clock.FromMilliseconds(10);
    private long _countedStarts;
    private int _active;
    // --resume: each slot's saved session, from its first full handshake on.
    private readonly DtlsSavedSession?[] _saved = new DtlsSavedSession?[concurrency];

    protected override void Body()
    {
        Run.SignalReady();
        var nextSweep = 0L;
        while (!Run.Stopping)
        {
            var now = Clock.Now;
            if (now >= Run.MeasureFrom)
            {
                BeginMeasure();
            }
            for (var slot = 0; slot < Slots.Length; slot++)
            {
                if (Slots[slot] is null && CanStart(now))
                {
                    Open(slot, now, resume: _saved[slot]);
                    _active++;
                    if (now >= Run.MeasureFrom)
                    {
                        _countedStarts++;
                    }
                }
            }
            WorkerCounters.Bump(ref Counters.InFlight, _active - Counters.InFlight);
            if (_active == 0)
            {
                break;
            }
            if (now >= nextSweep)
            {
                SweepHandshakeTimers(now);
                nextSweep = now + s_sweepEvery;
            }
            Poll(nextSweep);
        }
        EndMeasure();
    }

    /// <summary>-n N: N handshakes started inside the window (warm-up ones are extra); --duration: until the window closes.</summary>
    private bool CanStart(long now) => Run.Options.DurationSeconds is null
        ? now < Run.MeasureFrom || _countedStarts < quota
        : now < Run.MeasureTo;

    protected override void AfterDrain(LoadSession session)
    {
        var counted = session.StartedAt >= Run.MeasureFrom;
        if (session.IsEstablished)
        {
            var now = Clock.Now;
            Run.MarkEstablished();
            Suite ??= session.Suite;
            WorkerCounters.Bump(ref Counters.TotalEstablished);
            if (Run.Options.Resume is not null && _saved[session.Slot] is null)
            {
                _saved[session.Slot] = session.SaveSession();
            }
            if (counted)
            {
                Latency.RecordTicks(now - session.StartedAt);
                WorkerCounters.Bump(ref Counters.Established);
                if (session.IsResumed)
                {
                    WorkerCounters.Bump(ref Counters.Resumed);
                }
                LastCountedAt = now;
            }
        }
        else if (session.IsClosed)
        {
            var timedOut = session.CloseReason == DtlsCloseReason.HandshakeTimeout;
            if (counted)
            {
                WorkerCounters.Bump(ref Counters.Failed);
                if (timedOut)
                {
                    WorkerCounters.Bump(ref Counters.TimedOut);
                }
                LastCountedAt = Clock.Now;
            }
            if (timedOut && !Run.AnyEstablished)
            {
                Run.Fail($"no DTLS server answered at {Run.Options.ServerText} within {Run.Options.HandshakeTimeoutMs} ms");
            }
            else if (!Run.AnyEstablished && session.CloseReason is DtlsCloseReason.PeerAlert or DtlsCloseReason.HandshakeFailed)
            {
                Run.Fail($"the server at {Run.Options.ServerText} refused the handshake ({session.CloseReason}): check --identity, --key and --suite");
            }
        }
        else
        {
            return;
        }
        Release(session.Slot);
        _active--;
    }

    public override void OnReply(LoadSession session, ReadOnlySpan<byte> payload, long now)
    {
        // Handshake mode sends no application data; a server that talks first is ignored.
    }
}
