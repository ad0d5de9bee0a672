using System.Net;

namespace HotDtls.Load;

/// <summary>
/// What the main thread and the workers share for one run: the target, the measurement window, and how the run
/// ends (stop requested, or a fatal error such as "no server").
/// </summary>
internal sealed class RunContext : IDisposable
{
    private readonly CountdownEvent _ready;
    private readonly CountdownEvent _exited;
    private long _measureFrom = long.MaxValue;
    private long _measureTo = long.MaxValue;
    private long _sourceIndex;
    private bool _go;
    private bool _stop;
    private bool _anyEstablished;
    private string? _error;

    public RunContext(LoadOptions options, IPEndPoint server, DtlsClientOptions? dtls, int workers)
    {
        Options = options;
        Server = server;
        ServerAddress = server.Serialize();
        Dtls = dtls;
        _ready = new CountdownEvent(workers);
        _exited = new CountdownEvent(workers);
    }

    public LoadOptions Options { get; }
    public IPEndPoint Server { get; }
    public SocketAddress ServerAddress { get; }

    /// <summary>The client settings of every session; null for plain UDP.</summary>
    public DtlsClientOptions? Dtls { get; }

    public long MeasureFrom => _measureFrom;
    public long MeasureTo => _measureTo;

    // Volatile: the main thread writes _measureFrom/_measureTo, then publishes them with _go (release); a worker that
    // reads _go as true (acquire) sees both.
    public bool Go => Volatile.Read(ref _go);

    // Volatile: set by any thread to end the run; read by every worker on each loop turn.
    public bool Stopping => Volatile.Read(ref _stop);

    // Volatile: any worker sets it once; a worker reads it to tell "no server answers" from "this one handshake failed".
    public bool AnyEstablished => Volatile.Read(ref _anyEstablished);

    public string? Error => Volatile.Read(ref _error);

    public WaitHandle ReadyHandle => _ready.WaitHandle;

    public WaitHandle ExitedHandle => _exited.WaitHandle;

    /// <summary>Opens the measurement window and lets the workers go.</summary>
    public void Start(long measureFrom, long measureTo)
    {
        _measureFrom = measureFrom;
        _measureTo = measureTo;
        Volatile.Write(ref _go, true);
    }

    public void Stop() => Volatile.Write(ref _stop, true);

    /// <summary>A number no other session of this run gets: hold mode's released sessions pick their source tuple by it.</summary>
    public long NextSourceIndex() => Interlocked.Increment(ref _sourceIndex) - 1; // several workers draw at once



    public void MarkEstablished() => Volatile.Write(ref _anyEstablished, true);

    /// <summary>Ends the run with <paramref name="message"/>; the first error wins.</summary>
    public void Fail(string message)
    {
        // CompareExchange: several workers may fail at once (a dead server); the report names the first.
        Interlocked.CompareExchange(ref _error, message, null);
        Stop();
    }

    /// <summary>A worker has established (or given up on) all its sessions.</summary>
    public void SignalReady() => _ready.Signal();

    public void SignalExited() => _exited.Signal();

    public void Dispose()
    {
        _ready.Dispose();
        _exited.Dispose();
    }

    public string NoServerMessage => $"no server at {Options.ServerText} (ICMP port unreachable: nothing listens on that UDP port)";
}
