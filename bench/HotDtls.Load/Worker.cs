using System.Net;
using System.Net.Sockets;

namespace HotDtls.Load;

/// <summary>
/// Counters of one worker. Written by that worker's thread only; the progress line reads them from the main thread.
/// Writes go through <see cref="Volatile.Write(ref long, long)"/> and reads through Volatile.Read so each value is
/// seen promptly and never torn; no order between two counters is promised or needed.
/// </summary>
internal sealed class WorkerCounters
{
    // Every datagram and reply since the start, warm-up included: for the progress line.
    public long TotalSent;
    public long TotalReplies;
    // Inside the measurement window only.
    public long Sent;
    public long Received;
    public long ReceivedBytes;
    public long Lost;
    public long Unmatched;
    public long SendErrors;
    public long Skipped;
    // Handshakes and sessions.
    public long TotalEstablished;
    // Established sessions whose records carry a CID the server issued (hold mode, --cid).
    public long WithConnectionId;
    public long Established;
    public long Failed;
    public long TimedOut;
    // Handshakes inside the window that resumed a saved session (handshake mode, --resume).
    public long Resumed;
    public long Retransmissions;
    public long InFlight;
    public long SessionsLost;

    public static void Bump(ref long counter, long by = 1) => Volatile.Write(ref counter, counter + by);

    public static long Read(ref long counter) => Volatile.Read(ref counter);
}

/// <summary>
/// One generator thread: many sessions, each on its own connected socket, all watched by one epoll set. The thread
/// waits in epoll until a socket is readable or its next deadline, drains the ready sockets, and runs its mode's
/// logic; nothing on that path allocates once the sessions exist.
/// </summary>
internal abstract class Worker : ISessionEvents, IDisposable
{
    /// <summary>Room for a whole record the state machine seals: the largest datagram plus header and tag.</summary>
    private const int ScratchSize = HotDtls.Client.ClientEngine.ScratchLength;
    private DtlsClientOptions? _resumeOptions;
    /// <summary>Datagrams read from one ready socket per wait without batches (see <see cref="LoadSession.Drain(byte[], int)"/>).</summary>
    private const int DatagramsPerEvent = 1;
    /// <summary>Most datagrams one recvmmsg or sendmmsg moves; a larger window takes more calls.</summary>
    public const int MaxBatch = 64;
    private static readonly long s_idleWait = Clock.FromMilliseconds(100);

    private readonly int _epoll;
    private readonly byte[] _events = new byte[256 * Native.EpollEventSize];
    private readonly byte[] _control = new byte[16];
    private readonly long[] _timespec = new long[2];
    private readonly long[] _rusage = new long[18];
    private readonly byte[] _receive = new byte[65536];
    private readonly byte[] _scratch = new byte[ScratchSize];
    private readonly Thread _thread;
    private readonly MessageBatch? _receiveBatch;
    private readonly MessageBatch? _sendBatch;
    private readonly int _batchSize;
    private long _cpuAtStart;
    private long _allocatedAtStart;

    /// <param name="batch">
    /// 0: one <c>recv</c> per ready socket per wait and one <c>send</c> per datagram. Above 0: each ready socket is read
    /// with one <c>recvmmsg</c> of up to this many datagrams (at most <see cref="MaxBatch"/>), and what the replies make
    /// the session send goes out in one <c>sendmmsg</c> (see <see cref="BeginSends"/>).
    /// </param>
    protected Worker(RunContext run, int index, int slots, int batch = 0)
    {
        Run = run;
        Index = index;
        Slots = new LoadSession?[slots];
        if (batch > 0)
        {
            _batchSize = Math.Min(batch, MaxBatch);
            _receiveBatch = new MessageBatch(_batchSize, ScratchSize);
            _sendBatch = new MessageBatch(_batchSize, ScratchSize);
        }
        _epoll = Native.CreateEpoll();
        _thread = new Thread(Loop) { IsBackground = true, Name = $"load-{index}" };
    }

    protected RunContext Run { get; }

    protected LoadSession?[] Slots { get; }

    public int Index { get; }

    public WorkerCounters Counters { get; } = new();

    public LatencyStats Latency { get; } = new();

    /// <summary>CPU time this thread used inside the measurement window, in microseconds.</summary>
    public long CpuMicroseconds { get; private set; }

    /// <summary>Bytes this thread allocated inside the measurement window.</summary>
    public long AllocatedBytes { get; private set; }

    /// <summary>When this worker last completed something it counts (handshakes mode: the last handshake).</summary>
    public long LastCountedAt { get; protected set; }

    protected bool Measuring { get; private set; }

    protected bool MeasureDone { get; private set; }

    /// <summary>The suite of the first established session, for the report.</summary>
    public CipherSuite? Suite { get; protected set; }

    public void Start() => _thread.Start();

    public void Join() => _thread.Join();

    private void Loop()
    {
        try
        {
            Body();
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.TooManyOpenSockets)
        {
            Run.Fail($"out of file descriptors: raise the limit (ulimit -n, now {Native.OpenFileLimit()?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "unknown"}) or open fewer sessions");
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.AddressAlreadyInUse)
        {
            Run.Fail("out of local UDP ports: widen net.ipv4.ip_local_port_range or open fewer sessions");
        }
#pragma warning disable CA1031 // A worker thread must report any failure to the run rather than crash the process.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Run.Fail($"worker {Index} failed: {exception}");
        }
        finally
        {
            for (var i = 0; i < Slots.Length; i++)
            {
                Slots[i]?.Dispose();
                Slots[i] = null;
            }
            Run.SignalExited();
        }
    }

    protected abstract void Body();

    public abstract void OnReply(LoadSession session, ReadOnlySpan<byte> payload, long now);

    /// <summary>
    /// Opens slot <paramref name="slot"/>'s session (sending from <paramref name="source"/> if given), watches its
    /// socket and sends its first flight.
    /// </summary>
    protected LoadSession Open(int slot, long now, IPEndPoint? source = null, DtlsSavedSession? resume = null)
    {
        var dtls = Run.Dtls;
        if (resume is not null && dtls is not null)
        {
            // The client copies the session when its connection is made, so one options object per worker serves
            // every slot in turn.
            _resumeOptions ??= Runner.CopyOf(dtls);
            _resumeOptions.Session = resume;
            dtls = _resumeOptions;
        }
        var session = new LoadSession(slot, Run.Server, Run.ServerAddress, dtls, _scratch, this, now, source);
        try
        {
            Native.EpollAdd(_epoll, session.Socket, (uint)slot, _control);
        }
        catch
        {
            session.Dispose();
            throw;
        }
        Slots[slot] = session;
        session.Start(now);
        return session;
    }

    /// <summary>Closes the slot's session (close_notify if established) and frees the socket; closing drops it from epoll.</summary>
    protected void Release(int slot)
    {
        if (Slots[slot] is { } session)
        {
            session.CloseGracefully();
            session.Dispose();
            Slots[slot] = null;
        }
    }

    /// <summary>Closes the slot's socket and forgets the session without a word to the server, which keeps it until its idle timeout.</summary>
    protected void Abandon(int slot)
    {
        Slots[slot]?.Dispose();
        Slots[slot] = null;
    }

    /// <summary>
    /// With batches, queues what <paramref name="session"/> sends from now on until <see cref="EndSends"/>, which sends
    /// it in one <c>sendmmsg</c>. False (and nothing to end) without batches, or when a batch is already open (the
    /// outer caller ends it).
    /// </summary>
    protected bool BeginSends(LoadSession session)
    {
        if (_sendBatch is null || session.Batching)
        {
            return false;
        }
        session.BeginBatch(_sendBatch);
        return true;
    }

    protected static void EndSends(LoadSession session) => session.FlushBatch();

    /// <summary>Waits until a socket is readable or <paramref name="until"/>, drains every ready socket, and hands each to <see cref="AfterDrain"/>.</summary>
    protected void Poll(long until)
    {
        var wait = Math.Clamp(until - Clock.Now, 0, s_idleWait);
        var count = Native.EpollWait(_epoll, _events, Clock.ToNanoseconds(wait), _timespec);
        for (var i = 0; i < count; i++)
        {
            var slot = (int)Native.EventData(_events, i);
            if (slot >= Slots.Length || Slots[slot] is not { } session)
            {
                continue;
            }
            if (_receiveBatch is null)
            {
                session.Drain(_receive, DatagramsPerEvent);
            }
            else
            {
                // One recvmmsg in, one sendmmsg out: the replies' refills go out together.
                var began = BeginSends(session);
                session.Drain(_receiveBatch, _batchSize);
                if (began)
                {
                    EndSends(session);
                }
            }
            if (session.Refused && StopOnRefusal(session))
            {
                return;
            }
            AfterDrain(session);
        }
    }

    /// <summary>
    /// ICMP port unreachable came back on <paramref name="session"/>'s socket. Most modes measure a server that is
    /// there: the run fails with "no server" (true: stop polling). Failover expects servers to go away and overrides it.
    /// </summary>
    protected virtual bool StopOnRefusal(LoadSession session)
    {
        Run.Fail(Run.NoServerMessage);
        return true;
    }

    /// <summary>Moves the slot's session to a new socket (see <see cref="LoadSession.MoveToNewSocket"/>) and watches that one.</summary>
    protected void MoveToNewSocket(LoadSession session)
    {
        session.MoveToNewSocket();
        Native.EpollAdd(_epoll, session.Socket, (uint)session.Slot, _control);
    }

    /// <summary>A session's socket was drained: the mode looks at what changed (established, closed).</summary>
    protected virtual void AfterDrain(LoadSession session)
    {
    }

    /// <summary>Runs the handshake timers of every session still handshaking; calls <see cref="AfterDrain"/> for those that close.</summary>
    protected void SweepHandshakeTimers(long now)
    {
        var nowMs = Clock.ToMilliseconds(now);
        for (var i = 0; i < Slots.Length; i++)
        {
            if (Slots[i] is not { IsEstablished: false, IsClosed: false } session || session.NextTimerMs > nowMs)
            {
                continue;
            }
            var resent = session.OnTimer(now);
            if (resent > 0)
            {
                WorkerCounters.Bump(ref Counters.Retransmissions, resent);
            }
            if (session.Refused && StopOnRefusal(session))
            {
                return;
            }
            if (session.IsClosed)
            {
                AfterDrain(session);
            }
        }
    }

    /// <summary>Starts the CPU and allocation meters when the measurement window opens.</summary>
    protected void BeginMeasure()
    {
        if (Measuring || MeasureDone)
        {
            return;
        }
        Measuring = true;
        _cpuAtStart = Native.ThreadCpuMicroseconds(_rusage);
        _allocatedAtStart = GC.GetAllocatedBytesForCurrentThread();
    }

    protected void EndMeasure()
    {
        if (!Measuring)
        {
            return;
        }
        Measuring = false;
        MeasureDone = true;
        CpuMicroseconds = Native.ThreadCpuMicroseconds(_rusage) - _cpuAtStart;
        AllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - _allocatedAtStart;
    }

    protected bool InWindow(long at) => at >= Run.MeasureFrom && at < Run.MeasureTo;

    public void Dispose()
    {
        Native.CloseFd(_epoll);
        GC.SuppressFinalize(this);
    }
}
