using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// A UDP relay on 127.0.0.1 between one client and a fixed server endpoint that drops, duplicates, reorders
/// and delays datagrams from seeded randomness, and drops those above a size limit. Point the client at
/// <see cref="EndPoint"/>; the server sees the relay's upstream socket as the client. The client is whoever sent the
/// latest client-side datagram.
/// </summary>
/// <remarks>
/// Per direction, a datagram goes: size check → drop → reorder hold (at most one held) → delay line → socket,
/// duplicates following their original. The decisions are <see cref="DatagramFateDecider"/>'s, so the fates are
/// the same per seed; when they take effect depends on the peers' timing.
/// <para>
/// NAT rebinding: <see cref="Rebind"/> (or <see cref="LossyUdpRelayOptions.RebindAfterClientDatagrams"/>) opens a new
/// upstream socket, so the server sees the same client arrive from a new port. Client datagrams sent from then on
/// (including ones still on the delay line) leave from the new port, as packets crossing a NAT take the mapping in
/// force when they cross; whatever the server sends to the new port flows back to the client, and what it still
/// sends to the old one is lost or delivered as <see cref="LossyUdpRelayOptions.OldAddressKeepsWorking"/> says.
/// Each address counts its own traffic (<see cref="Upstreams"/>).
/// </para>
/// </remarks>
public sealed class LossyUdpRelay : IAsyncDisposable
{
    private readonly Socket _clientSide;
    private readonly IPEndPoint _server;
    private readonly LossyUdpRelayOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly Direction _toServer;
    private readonly Direction _toClient;
    private readonly Task _clientLoop;
    private readonly Lock _upstreamLock = new(); // Guards _upstreams and orders rebindings.
    private readonly List<UpstreamSocket> _upstreams = [];
    private readonly TaskCompletionSource<RelayUpstreamStats> _rebound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile EndPoint? _client; // Written by the client-side loop, read by the server-side loops.
    private volatile UpstreamSocket _current; // Written by Rebind, read by sends to the server: publishes a fully built upstream.
    private int _fromClient; // Client datagrams seen, for RebindAfterClientDatagrams; the client-side loop's alone.
    private int _disposed;

    /// <summary>Starts relaying to <paramref name="server"/>.</summary>
    public LossyUdpRelay(IPEndPoint server, LossyUdpRelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _clientSide = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _clientSide.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _server = server;
        EndPoint = (IPEndPoint)_clientSide.LocalEndPoint!;
        _toServer = new Direction(RelayDirection.ClientToServer, options, new DatagramFateDecider(options, options.Seed), SendToServer);
        _toClient = new Direction(RelayDirection.ServerToClient, options, new DatagramFateDecider(options, options.Seed + 1), SendToClient);
        lock (_upstreamLock)
        {
            _current = OpenUpstream(_server);
        }
        _clientLoop = ClientSideLoopAsync();
    }

    /// <summary>Where the client should send.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Client → server counters.</summary>
    public RelayDirectionStats ClientToServer => _toServer.Stats;

    /// <summary>Server → client counters.</summary>
    public RelayDirectionStats ServerToClient => _toClient.Stats;

    /// <summary>The address the server sees the client at now, with its counters.</summary>
    public RelayUpstreamStats Upstream => _current.Stats;

    /// <summary>Every address the server has seen the client at, oldest first (index 0 is the relay's first).</summary>
    public IReadOnlyList<RelayUpstreamStats> Upstreams
    {
        get
        {
            lock (_upstreamLock)
            {
                return _upstreams.Select(u => u.Stats).ToArray();
            }
        }
    }

    /// <summary>Completes with the new address when the first rebinding happens.</summary>
    public Task<RelayUpstreamStats> Rebound => _rebound.Task;

    /// <inheritdoc/>
    public override string ToString() =>
        $"client→server: {ClientToServer}; server→client: {ServerToClient}"
        + (Upstreams is { Count: > 1 } upstreams ? "; " + string.Join("; ", upstreams) : "");

    /// <summary>
    /// Changes the client's address as the server sees it (a NAT rebinding): opens a new upstream socket on a new
    /// port, sends every client datagram from then on from it, and relays the server's datagrams to it back to the
    /// client. The old address stays open to count what the server still sends there.
    /// </summary>
    /// <returns>The new address's counters.</returns>
    /// <exception cref="ObjectDisposedException">The relay was disposed.</exception>
    public RelayUpstreamStats Rebind() => Rebind(_server);

    /// <summary>
    /// As <see cref="Rebind()"/>, and the new upstream socket talks to <paramref name="server"/>: what a UDP load
    /// balancer that does not preserve source addresses does when it picks another node for a client's new flow.
    /// </summary>
    public RelayUpstreamStats Rebind(IPEndPoint server)
    {
        ArgumentNullException.ThrowIfNull(server);
        lock (_upstreamLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            var previous = _current;
            var upstream = OpenUpstream(server);
            _current = upstream;
            Volatile.Write(ref previous.Stats._retiredTimestamp, Stopwatch.GetTimestamp());
            _options.Trace?.Invoke($"rebind: {previous.Stats.EndPoint} → {upstream.Stats.EndPoint}");
            _rebound.TrySetResult(upstream.Stats);
            return upstream.Stats;
        }
    }

    /// <summary>Stops relaying and closes both sockets; datagrams still held or on the delay line are lost.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        UpstreamSocket[] upstreams;
        lock (_upstreamLock)
        {
            // A Rebind that saw _disposed still 0 has finished by now; any later one throws. So no socket is missed.
            upstreams = [.. _upstreams];
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        await _clientLoop.ConfigureAwait(false);
        foreach (var upstream in upstreams)
        {
            await upstream.Loop.ConfigureAwait(false);
        }
        _toServer.Dispose();
        _toClient.Dispose();
        _clientSide.Dispose();
        foreach (var upstream in upstreams)
        {
            upstream.Socket.Dispose();
        }
        _stop.Dispose();
    }

    /// <summary>A new socket connected to the server, with its receive loop running. Called under _upstreamLock.</summary>
    private UpstreamSocket OpenUpstream(IPEndPoint server)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Connect(server);
        var upstream = new UpstreamSocket(socket, new RelayUpstreamStats(_upstreams.Count, (IPEndPoint)socket.LocalEndPoint!));
        _upstreams.Add(upstream);
        upstream.Loop = ServerSideLoopAsync(upstream);
        return upstream;
    }

    private void SendToServer(byte[] datagram)
    {
        var upstream = _current;
        upstream.Socket.Send(datagram, SocketFlags.None);
        Interlocked.Increment(ref upstream.Stats._datagramsToServer);
        Interlocked.Add(ref upstream.Stats._bytesToServer, datagram.Length);
    }

    private void SendToClient(byte[] datagram)
    {
        if (_client is { } client)
        {
            _clientSide.SendTo(datagram, SocketFlags.None, client);
        }
    }

    private async Task ClientSideLoopAsync()
    {
        var buffer = new byte[ushort.MaxValue];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var result = await _clientSide.ReceiveFromAsync(buffer, SocketFlags.None,
                    new IPEndPoint(IPAddress.Any, 0), _stop.Token).ConfigureAwait(false);
                _client = result.RemoteEndPoint;
                if (_options.RebindAfterClientDatagrams == _fromClient++)
                {
                    Rebind();
                }
                _toServer.Relay(buffer.AsSpan(0, result.ReceivedBytes).ToArray());
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // ICMP error for an earlier send to the client: keep relaying.
            }
        }
    }

    private async Task ServerSideLoopAsync(UpstreamSocket upstream)
    {
        var buffer = new byte[ushort.MaxValue];
        var stats = upstream.Stats;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var received = await upstream.Socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                Interlocked.Increment(ref stats._datagramsFromServer);
                Interlocked.Add(ref stats._bytesFromServer, received);
                if (stats.IsRetired && !_options.OldAddressKeepsWorking)
                {
                    // The NAT forgot this mapping: the datagram dies there, before the lossy path.
                    Interlocked.Increment(ref stats._lostAfterRetired);
                    Interlocked.Add(ref stats._bytesLostAfterRetired, received);
                    _options.Trace?.Invoke($"s→c {received}B to retired {stats.EndPoint}: LOST");
                    continue;
                }
                _toClient.Relay(buffer.AsSpan(0, received).ToArray());
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                // ICMP port unreachable: the server is not (yet, or any more) listening.
            }
        }
    }

    /// <summary>One address the relay sends to the server from: its socket, receive loop and counters.</summary>
    private sealed class UpstreamSocket(Socket socket, RelayUpstreamStats stats)
    {
        public Socket Socket { get; } = socket;

        public RelayUpstreamStats Stats { get; } = stats;

        public Task Loop { get; set; } = Task.CompletedTask;
    }

    /// <summary>One direction's fate decisions, held datagram, delay line and counters.</summary>
    private sealed class Direction : IDisposable
    {
        private static readonly long s_start = Stopwatch.GetTimestamp();
        private readonly string _name;
        private readonly RelayDirection _direction;
        private readonly LossyUdpRelayOptions _options;
        private readonly DatagramFateDecider _decider;
        private readonly Action<byte[]> _send;
        private readonly Lock _lock = new(); // Guards _held against the release timer's thread.
        private readonly Timer _releaseTimer;
        private readonly DelayLine? _delayLine;
        private (byte[] Datagram, TimeSpan Delay)? _held;

        public Direction(RelayDirection direction, LossyUdpRelayOptions options, DatagramFateDecider decider, Action<byte[]> send)
        {
            _direction = direction;
            _name = direction == RelayDirection.ClientToServer ? "c→s" : "s→c";
            _options = options;
            _decider = decider;
            _send = send;
            _releaseTimer = new Timer(_ => ReleaseHeld(), null, Timeout.Infinite, Timeout.Infinite);
            if (options.Delay > TimeSpan.Zero || options.Jitter > TimeSpan.Zero)
            {
                _delayLine = new DelayLine(SendNow);
            }
        }

        public RelayDirectionStats Stats { get; } = new();

        public void Relay(byte[] datagram)
        {
            _options.Tap?.Invoke(_direction, datagram);
            Interlocked.CompareExchange(ref Stats._firstReceivedTimestamp, Stopwatch.GetTimestamp(), 0);
            var index = Interlocked.Increment(ref Stats._received) - 1;
            var fate = _decider.Next(datagram.Length);
            _options.Trace?.Invoke(
                $"{Stopwatch.GetElapsedTime(s_start).TotalSeconds,8:F3} {_name} #{index} {datagram.Length}B [{DtlsRecordSummary.Describe(datagram)}] "
                + (fate.TooLarge ? "TOO LARGE" : fate.Drop ? "DROP" : $"{(fate.Duplicate ? "dup " : "")}{(fate.Reorder ? "hold " : "")}"
                    + (fate.Delay > TimeSpan.Zero ? $"+{fate.Delay.TotalMilliseconds:F0}ms" : "")));
            if (fate.TooLarge)
            {
                Interlocked.Increment(ref Stats._tooLarge);
                return;
            }
            if (fate.Drop)
            {
                Interlocked.Increment(ref Stats._dropped);
                return;
            }

            (byte[] Datagram, TimeSpan Delay)? release;
            bool hold;
            lock (_lock)
            {
                release = _held;
                _held = null;
                hold = fate.Reorder && release is null; // Hold at most one: a held datagram is released by the next.
                if (hold)
                {
                    _held = (datagram, fate.Delay);
                    _releaseTimer.Change(_options.MaxHoldTime, Timeout.InfiniteTimeSpan);
                }
            }

            if (!hold)
            {
                Forward(datagram, fate.Delay, fate.Duplicate);
            }
            else if (fate.Duplicate)
            {
                Forward(datagram, fate.Delay, duplicate: false, countForwarded: false); // The copy goes now, the original later.
                Interlocked.Increment(ref Stats._duplicated);
            }

            if (release is { } held)
            {
                Interlocked.Increment(ref Stats._reordered);
                Forward(held.Datagram, held.Delay, duplicate: false);
            }
        }

        public void Dispose()
        {
            _releaseTimer.Dispose();
            _delayLine?.Dispose();
        }

        private void ReleaseHeld()
        {
            (byte[] Datagram, TimeSpan Delay)? release;
            lock (_lock)
            {
                release = _held;
                _held = null;
            }

            if (release is { } held)
            {
                Interlocked.Increment(ref Stats._reordered);
                Forward(held.Datagram, held.Delay, duplicate: false);
            }
        }

        private void Forward(byte[] datagram, TimeSpan delay, bool duplicate, bool countForwarded = true)
        {
            if (_delayLine is null)
            {
                SendNow(datagram, countForwarded);
                if (duplicate)
                {
                    SendNow(datagram, countForwarded: false);
                    Interlocked.Increment(ref Stats._duplicated);
                }
                return;
            }

            Interlocked.Increment(ref Stats._delayed);
            _delayLine.Enqueue(datagram, delay, countForwarded);
            if (duplicate)
            {
                _delayLine.Enqueue(datagram, delay, countForwarded: false);
                Interlocked.Increment(ref Stats._duplicated);
            }
        }

        private void SendNow(byte[] datagram, bool countForwarded)
        {
            // Counted before the send: a test that reads the count once the datagram has arrived must see it (counting
            // after the send raced with the receiver).
            if (countForwarded)
            {
                Interlocked.Increment(ref Stats._forwarded);
            }
            try
            {
                _send(datagram);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Relay shutting down, or ICMP from an earlier send: the datagram is lost, as on a network.
                if (countForwarded)
                {
                    Interlocked.Decrement(ref Stats._forwarded);
                }
            }
        }
    }

    /// <summary>
    /// Datagrams waiting for their due time, sent in due order (ties in arrival order) by one timer set to the
    /// earliest due time.
    /// </summary>
    private sealed class DelayLine : IDisposable
    {
        private readonly Action<byte[], bool> _send;
        private readonly Lock _lock = new(); // Guards _queue and _sequence; also held while sending so due order is send order.
        private readonly PriorityQueue<(byte[] Datagram, bool CountForwarded), (long Due, long Sequence)> _queue = new();
        private readonly Timer _timer;
        private long _sequence;
        private bool _disposed;

        public DelayLine(Action<byte[], bool> send)
        {
            _send = send;
            _timer = new Timer(_ => SendDue(), null, Timeout.Infinite, Timeout.Infinite);
        }

        public void Enqueue(byte[] datagram, TimeSpan delay, bool countForwarded)
        {
            var due = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }
                var wasEarliest = !_queue.TryPeek(out _, out var head) || due < head.Due;
                _queue.Enqueue((datagram, countForwarded), (due, _sequence++));
                if (wasEarliest)
                {
                    Arm(due);
                }
            }
        }

        public void Dispose()
        {
            lock (_lock)
            {
                _disposed = true;
                _queue.Clear();
            }
            _timer.Dispose();
        }

        private void SendDue()
        {
            lock (_lock)
            {
                if (_disposed)
                {
                    return;
                }
                var now = Stopwatch.GetTimestamp();
                while (_queue.TryPeek(out var item, out var key) && key.Due <= now)
                {
                    _queue.Dequeue();
                    _send(item.Datagram, item.CountForwarded);
                }
                if (_queue.TryPeek(out _, out var next))
                {
                    Arm(next.Due);
                }
            }
        }

        private void Arm(long due)
        {
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            _timer.Change(wait < TimeSpan.Zero ? TimeSpan.Zero : wait, Timeout.InfiniteTimeSpan);
        }
    }
}
