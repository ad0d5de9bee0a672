using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace HotDtls.Load;

/// <summary>
/// Hold mode: opens its sessions (at most <c>concurrency</c> handshakes at a time), then keeps each one alive with a
/// small datagram every interval, spread at random over the interval, until the run stops. With released sockets,
/// each session's socket is closed as soon as it is established (no close_notify): the server holds the session until
/// its idle timeout, the generator holds nothing, and only the handshakes in progress need descriptors.
/// </summary>
internal sealed class HoldWorker : Worker
{
    private static readonly long s_sweepEvery = Clock.FromMilliseconds(20);

    /// <summary>Source ports of released sessions: 20000 to 59999 on each source address.</summary>
    public const int FirstSourcePort = 20_000;
    public const int SourcePortsPerAddress = 40_000;
    /// <summary>Source tuples tried in a row before a session gives up on finding one nobody has bound.</summary>
    private const int MaxBindAttempts = 1000;

    private readonly int _sessions;
    private readonly bool _release;
    private readonly int _concurrency;
    private readonly long _interval;
    private readonly long _timeout;
    private readonly byte[] _payload;
    private int _handshaking;
    private bool _ready;

    /// <param name="release">Close each socket once its session is established (see the class summary).</param>
    public HoldWorker(RunContext run, int index, int sessions, int concurrency, double intervalSeconds, int size, bool release)
        : base(run, index, release ? Math.Max(1, Math.Min(sessions, concurrency)) : sessions)
    {
        _sessions = sessions;
        _release = release;
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
                if (_release)
                {
                    // A slot per handshake in progress, reused once its session is established and let go.
                    for (var slot = 0; slot < Slots.Length && opened < _sessions; slot++)
                    {
                        if (Slots[slot] is null)
                        {
                            OpenFromOwnTuple(slot, now);
                            opened++;
                            _handshaking++;
                        }
                    }
                }
                else
                {
                    while (opened < _sessions && _handshaking < _concurrency)
                    {
                        Open(opened++, now);
                        _handshaking++;
                    }
                }
                WorkerCounters.Bump(ref Counters.InFlight, _handshaking - Counters.InFlight);
                if (!_ready && opened == _sessions && _handshaking == 0)
                {
                    _ready = true;
                    Run.SignalReady();
                }
                if (now >= nextSweep)
                {
                    SweepHandshakeTimers(now);
                    if (!_release)
                    {
                        KeepAlive(now);
                    }
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

    /// <summary>
    /// The source of the <paramref name="n"/>th released session of a run: 127.3.0.1:20000, 127.3.0.1:20001, …,
    /// 127.3.0.1:59999, 127.3.0.2:20000, … Every 127/8 address is local on Linux, so a loopback server sees each
    /// session from its own address and port, never used twice in a run: a closed socket's tuple coming back would be,
    /// to the server, the old session's client rebooting (RFC 6347 §4.2.8), and it would replace the session it holds.
    /// </summary>
    public static IPEndPoint SourceFor(long n)
    {
        var address = n / SourcePortsPerAddress + 1;
        if (address > 0xFFFF)
        {
            throw new InvalidOperationException($"no released-session source left for session {n}");
        }
        return new IPEndPoint(new IPAddress([127, 3, (byte)(address >> 8), (byte)address]),
            FirstSourcePort + (int)(n % SourcePortsPerAddress));
    }

    /// <summary>Opens a session on the run's next unused source tuple; one some other socket holds is passed over.</summary>
    private void OpenFromOwnTuple(int slot, long now)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Open(slot, now, SourceFor(Run.NextSourceIndex()));
                return;
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse && attempt < MaxBindAttempts)
            {
                // A wildcard-bound socket on this port (the server's, say): the next tuple.
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
        if (session.IsEstablished && _release)
        {
            _handshaking--;
            Run.MarkEstablished();
            Suite ??= session.Suite;
            WorkerCounters.Bump(ref Counters.TotalEstablished);
            WorkerCounters.Bump(ref Counters.WithConnectionId, session.UsesConnectionId ? 1 : 0);
            Abandon(session.Slot);
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
            WorkerCounters.Bump(ref Counters.WithConnectionId, session.UsesConnectionId ? 1 : 0);
        }
    }

    public override void OnReply(LoadSession session, ReadOnlySpan<byte> payload, long now)
    {
        if (session.Window is not { } window)
        {
            return;
        }
        WorkerCounters.Bump(ref Counters.TotalReplies);
        var matched = window.TryAnswerReply(payload, EchoWorker.Magic, out var sentAt);
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
