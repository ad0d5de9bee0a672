using System.Buffers.Binary;

namespace HotDtls.Load;

/// <summary>
/// Hold mode: opens its sessions (at most <c>concurrency</c> handshakes at a time), then keeps each one alive with a
/// small datagram every interval, spread at random over the interval, until the run stops.
/// </summary>
internal sealed class HoldWorker : Worker
{
    private static readonly long s_sweepEvery = Clock.FromMilliseconds(20);

    private readonly int _concurrency;
    private readonly long _interval;
    private readonly long _timeout;
    private readonly byte[] _payload;
    private int _handshaking;
    private bool _ready;

    public HoldWorker(RunContext run, int index, int sessions, int concurrency, double intervalSeconds, int size)
        : base(run, index, sessions)
    {
        _concurrency = Math.Max(1, concurrency);
        _interval = Clock.FromSeconds(intervalSeconds);
        _timeout = Clock.FromMilliseconds(run.Options.TimeoutMs);
        _payload = new byte[size];
        BinaryPrimitives.WriteUInt32BigEndian(_payload, EchoWorker.Magic);
    }

    protected override void Body()
    {
        var opened = 0;
        var nextSweep = 0L;
        try
        {
            while (!Run.Stopping)
            {
                var now = Clock.Now;
                while (opened < Slots.Length && _handshaking < _concurrency)
                {
                    Open(opened++, now);
                    _handshaking++;
                }
                WorkerCounters.Bump(ref Counters.InFlight, _handshaking - Counters.InFlight);
                if (!_ready && opened == Slots.Length && _handshaking == 0)
                {
                    _ready = true;
                    Run.SignalReady();
                }
                if (now >= nextSweep)
                {
                    SweepHandshakeTimers(now);
                    KeepAlive(now);
                    nextSweep = now + s_sweepEvery;
                }
                Poll(nextSweep);
            }
        }
        finally
        {
            if (!_ready)
            {
                Run.SignalReady();
            }
            for (var i = 0; i < Slots.Length; i++)
            {
                Release(i);
            }
        }
    }

    private void KeepAlive(long now)
    {
        for (var i = 0; i < Slots.Length; i++)
        {
            if (Slots[i] is not { Window: { } window } session)
            {
                continue;
            }
            var lost = window.Expire(now - _timeout, 0, out _);
            if (lost > 0)
            {
                WorkerCounters.Bump(ref Counters.Lost, lost);
            }
            if (session.NextKeepAliveAt > now || !window.TrySend(now, out var sequence))
            {
                continue;
            }
            BinaryPrimitives.WriteUInt32BigEndian(_payload.AsSpan(4), sequence);
            session.SendPayload(_payload);
            WorkerCounters.Bump(ref Counters.TotalSent);
            session.NextKeepAliveAt = now + _interval;
        }
    }

    protected override void AfterDrain(LoadSession session)
    {
        if (session.IsClosed)
        {
            if (session.Window is null)
            {
                _handshaking--;
                WorkerCounters.Bump(ref Counters.Failed);
                if (session.CloseReason == DtlsCloseReason.HandshakeTimeout)
                {
                    WorkerCounters.Bump(ref Counters.TimedOut);
                    if (!Run.AnyEstablished)
                    {
                        Run.Fail($"no DTLS server answered at {Run.Options.ServerText} within {Run.Options.HandshakeTimeoutMs} ms");
                    }
                }
            }
            else
            {
                WorkerCounters.Bump(ref Counters.SessionsLost);
            }
            Release(session.Slot);
            return;
        }
        if (session.IsEstablished && session.Window is null)
        {
            var now = Clock.Now;
            session.Window = new InFlightWindow(4);
            session.NextKeepAliveAt = now + (long)(Random.Shared.NextDouble() * _interval);
            _handshaking--;
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
        long sentAt;
        var matched = payload.Length >= 8 && BinaryPrimitives.ReadUInt32BigEndian(payload) == EchoWorker.Magic
            ? window.TryAnswer(BinaryPrimitives.ReadUInt32BigEndian(payload[4..]), out sentAt)
            : window.TryAnswerOldest(out sentAt);
        if (matched)
        {
            WorkerCounters.Bump(ref Counters.Received);
            Latency.RecordTicks(now - sentAt);
        }
        else
        {
            WorkerCounters.Bump(ref Counters.Unmatched);
        }
    }
}
