using HotDtls.Connection;
using HotDtls.Transport;

namespace HotDtls.Server;

/// <summary>
/// The timer policy of one engine's connections, on one <see cref="TimerWheel{T}"/>: a handshake wakes at its next
/// retransmission or its deadline; an established session at its idle deadline or its next cipher check, whichever
/// is first. A session's traffic never touches the wheel: its timer re-reads <see cref="DtlsConnection.LastReceiveMs"/>
/// when it fires, so the steady-state path pays nothing for timers.
/// </summary>
internal sealed class SessionTimers
{
    // Enough native key schedules released since the last trim to be worth handing back to the OS.
    private const int TrimAfterReleasedCiphers = 1024;

    private readonly TimerWheel<ServerConnection> _wheel;
    private readonly List<ServerConnection> _due = [];
    private readonly long _idleMs;
    private readonly long _parkMs;
    private long _ciphersReleasedAtLastTrim;

    public SessionTimers(DtlsServerOptions options, long nowMs)
    {
        _wheel = new TimerWheel<ServerConnection>(nowMs);
        _idleMs = (long)options.IdleTimeout.TotalMilliseconds;
        _parkMs = options.ReleaseIdleCiphersAfter == Timeout.InfiniteTimeSpan
            ? long.MaxValue : (long)options.ReleaseIdleCiphersAfter.TotalMilliseconds;
    }

    /// <summary>Connections scheduled now.</summary>
    public int Count => _wheel.Count;

    /// <summary>Puts a connection's timer where its state says (see the class remarks).</summary>
    public void Schedule(ServerConnection connection, long nowMs)
    {
        if (connection.IsClosed)
        {
            _wheel.Cancel(connection);
        }
        else if (!connection.IsEstablished)
        {
            _wheel.Schedule(connection, connection.NextTimerMs);
        }
        else if (!connection.TimerLinks.IsScheduled)
        {
            _wheel.Schedule(connection, HousekeepingDue(connection, nowMs));
        }
    }

    /// <summary>The handshake finished: from retransmission timer to idle and cipher checks.</summary>
    public void OnEstablished(ServerConnection connection, long nowMs)
    {
        _wheel.Cancel(connection);
        Schedule(connection, nowMs);
    }

    public void Cancel(ServerConnection connection) => _wheel.Cancel(connection);

    /// <summary>
    /// Runs what is due: retransmissions and deadlines of handshakes, idle expiry of sessions, release of idle
    /// sessions' cipher objects. Returns how many cipher objects were released.
    /// </summary>
    public int Fire(long nowMs)
    {
        // Only connections whose timer is due are visited, however many sessions there are.
        _wheel.CollectDue(nowMs, _due);
        var released = 0;
        foreach (var connection in _due)
        {
            if (connection.IsClosed)
            {
                continue;
            }
            if (!connection.IsEstablished)
            {
                connection.OnTimer(nowMs);
                Schedule(connection, nowMs);
                continue;
            }
            if (nowMs - connection.LastReceiveMs >= _idleMs)
            {
                connection.Close(DtlsCloseReason.IdleTimeout, Handshake.DtlsError.None, null);
                continue;
            }
            if (_parkMs != long.MaxValue)
            {
                // Ciphers that sealed and opened nothing since this timer last fired are released (see ReleaseIdleCiphersAfter).
                released += connection.Records.ParkIdleCiphers();
            }
            connection.ForgetFinalTicketWhenQuiet();
            _wheel.Schedule(connection, HousekeepingDue(connection, nowMs));
        }
        _due.Clear();
        return released;
    }

    /// <summary>Hands freed native key schedules back to the OS once enough have been released.</summary>
    public void TrimIfWorthIt(long totalReleased)
    {
        if (totalReleased - _ciphersReleasedAtLastTrim >= TrimAfterReleasedCiphers)
        {
            _ciphersReleasedAtLastTrim = totalReleased;
            NativeHeap.Trim();
        }
    }

    private long HousekeepingDue(ServerConnection connection, long nowMs)
        => Math.Min(connection.LastReceiveMs + _idleMs, _parkMs == long.MaxValue ? long.MaxValue : nowMs + _parkMs);
}
