namespace HotDtls.Stress;

/// <summary>
/// What the soak's clients did, counted from their side. Interlocked throughout: the workers add concurrently
/// and the progress line reads while they run.
/// </summary>
internal sealed class SoakTally
{
    private long _handshakes;
    private long _handshakeFailures;
    private long _echoesSent;
    private long _echoesReceived;
    private long _closeNotifies;
    private long _abandons;
    private long _reboots;
    private long _rebootBindConflicts;
    private string? _firstError;

    public long Handshakes => Interlocked.Read(ref _handshakes);

    public long HandshakeFailures => Interlocked.Read(ref _handshakeFailures);

    public long EchoesSent => Interlocked.Read(ref _echoesSent);

    public long EchoesReceived => Interlocked.Read(ref _echoesReceived);

    /// <summary>Clients disposed, which sends close_notify.</summary>
    public long CloseNotifies => Interlocked.Read(ref _closeNotifies);

    /// <summary>Established clients that vanished without a word, left for idle expiry.</summary>
    public long Abandons => Interlocked.Read(ref _abandons);

    /// <summary>Clients that crashed and came back from the same address and port with a new, completed handshake.</summary>
    public long Reboots => Interlocked.Read(ref _reboots);

    /// <summary>The old port was taken by another socket between crash and rebind (not a server fault).</summary>
    public long RebootBindConflicts => Interlocked.Read(ref _rebootBindConflicts);

    public string? FirstError => Volatile.Read(ref _firstError);

    public void Handshake() => Interlocked.Increment(ref _handshakes);

    public void HandshakeFailed(string why)
    {
        Interlocked.Increment(ref _handshakeFailures);
        Interlocked.CompareExchange(ref _firstError, why, null);
    }

    public void Echo(bool received)
    {
        Interlocked.Increment(ref _echoesSent);
        if (received)
        {
            Interlocked.Increment(ref _echoesReceived);
        }
    }

    public void CloseNotify() => Interlocked.Increment(ref _closeNotifies);

    public void Abandon() => Interlocked.Increment(ref _abandons);

    public void Reboot() => Interlocked.Increment(ref _reboots);

    public void RebootBindConflict() => Interlocked.Increment(ref _rebootBindConflicts);
}
