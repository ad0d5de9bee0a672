using System.Net;
using System.Net.Sockets;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>How a <see cref="LossyUdpRelay"/> mistreats datagrams. Probabilities are per datagram, 0..1.</summary>
public sealed record LossyUdpRelayOptions
{
    /// <summary>Chance a datagram is dropped.</summary>
    public double DropProbability { get; init; }

    /// <summary>Chance a forwarded datagram is sent twice.</summary>
    public double DuplicateProbability { get; init; }

    /// <summary>Chance a datagram is held back and released after the next one in the same direction.</summary>
    public double ReorderProbability { get; init; }

    /// <summary>
    /// A held datagram is released after this long if no next datagram comes (so the last datagram of an
    /// exchange is delayed, not lost). Default 200 ms.
    /// </summary>
    public TimeSpan MaxHoldTime { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Seed for the decisions. Each direction draws from its own <see cref="Random"/> (seed, seed + 1), so the
    /// n-th datagram in a direction always gets the same fate whatever the other direction does.
    /// </summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Counters for one direction of a <see cref="LossyUdpRelay"/>.</summary>
public sealed class RelayDirectionStats
{
    internal int _received;
    internal int _forwarded;
    internal int _dropped;
    internal int _duplicated;
    internal int _reordered;

    /// <summary>Datagrams that arrived at the relay.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Datagrams sent on (each at least once; duplicates not counted twice).</summary>
    public int Forwarded => Volatile.Read(ref _forwarded);

    /// <summary>Datagrams dropped.</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Datagrams sent a second time.</summary>
    public int Duplicated => Volatile.Read(ref _duplicated);

    /// <summary>Datagrams held back and released out of order (or after <see cref="LossyUdpRelayOptions.MaxHoldTime"/>).</summary>
    public int Reordered => Volatile.Read(ref _reordered);

    /// <inheritdoc/>
    public override string ToString() =>
        $"received {Received}, forwarded {Forwarded}, dropped {Dropped}, duplicated {Duplicated}, reordered {Reordered}";
}

/// <summary>
/// A UDP relay on 127.0.0.1 between one client and a fixed server endpoint that drops, duplicates and
/// reorders datagrams from seeded randomness. Point the client at <see cref="EndPoint"/>; the server sees
/// the relay's own socket as the client. The client is whoever sent the latest client-side datagram.
/// </summary>
public sealed class LossyUdpRelay : IAsyncDisposable
{
    private readonly Socket _clientSide;
    private readonly Socket _serverSide;
    private readonly LossyUdpRelayOptions _options;
    private readonly CancellationTokenSource _stop = new();
    private readonly Direction _toServer;
    private readonly Direction _toClient;
    private readonly Task _loops;
    private volatile EndPoint? _client; // Written by the client-side loop, read by the server-side loop.
    private int _disposed;

    /// <summary>Starts relaying to <paramref name="server"/>.</summary>
    public LossyUdpRelay(IPEndPoint server, LossyUdpRelayOptions options)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _clientSide = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _clientSide.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _serverSide = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _serverSide.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _serverSide.Connect(server);
        EndPoint = (IPEndPoint)_clientSide.LocalEndPoint!;
        _toServer = new Direction(this, new Random(options.Seed), datagram => _serverSide.Send(datagram, SocketFlags.None));
        _toClient = new Direction(this, new Random(options.Seed + 1), SendToClient);
        _loops = Task.WhenAll(ClientSideLoopAsync(), ServerSideLoopAsync());
    }

    /// <summary>Where the client should send.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Client → server counters.</summary>
    public RelayDirectionStats ClientToServer => _toServer.Stats;

    /// <summary>Server → client counters.</summary>
    public RelayDirectionStats ServerToClient => _toClient.Stats;

    /// <inheritdoc/>
    public override string ToString() => $"client→server: {ClientToServer}; server→client: {ServerToClient}";

    /// <summary>Stops relaying and closes both sockets.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _loops.ConfigureAwait(false);
        _toServer.Dispose();
        _toClient.Dispose();
        _clientSide.Dispose();
        _serverSide.Dispose();
        _stop.Dispose();
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
                _toServer.Relay(buffer.AsSpan(0, result.ReceivedBytes).ToArray());
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException)
            {
                // ICMP error for an earlier send to the client: keep relaying.
            }
        }
    }

    private async Task ServerSideLoopAsync()
    {
        var buffer = new byte[ushort.MaxValue];
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                var received = await _serverSide.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
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

    /// <summary>One direction's fate decisions, held datagram and counters.</summary>
    private sealed class Direction : IDisposable
    {
        private readonly LossyUdpRelay _relay;
        private readonly Random _random;
        private readonly Action<byte[]> _send;
        private readonly Lock _lock = new(); // Guards _held against the release timer's thread.
        private readonly Timer _releaseTimer;
        private byte[]? _held;

        public Direction(LossyUdpRelay relay, Random random, Action<byte[]> send)
        {
            _relay = relay;
            _random = random;
            _send = send;
            _releaseTimer = new Timer(_ => ReleaseHeld(), null, Timeout.Infinite, Timeout.Infinite);
        }

        public RelayDirectionStats Stats { get; } = new();

        public void Relay(byte[] datagram)
        {
            var options = _relay._options;
            Interlocked.Increment(ref Stats._received);

            // Always draw all three so the n-th datagram's fate does not depend on earlier fates.
            var drop = _random.NextDouble() < options.DropProbability;
            var duplicate = _random.NextDouble() < options.DuplicateProbability;
            var reorder = _random.NextDouble() < options.ReorderProbability;
            if (drop)
            {
                Interlocked.Increment(ref Stats._dropped);
                return;
            }

            byte[]? release;
            bool hold;
            lock (_lock)
            {
                release = _held;
                _held = null;
                hold = reorder && release is null; // Hold at most one: a held datagram is released by the next.
                if (hold)
                {
                    _held = datagram;
                    _releaseTimer.Change(options.MaxHoldTime, Timeout.InfiniteTimeSpan);
                }
            }

            if (!hold)
            {
                Send(datagram, duplicate);
            }
            else if (duplicate)
            {
                _send(datagram); // The copy goes now, the original later.
                Interlocked.Increment(ref Stats._duplicated);
            }

            if (release is not null)
            {
                Interlocked.Increment(ref Stats._reordered);
                Send(release, duplicate: false);
            }
        }

        public void Dispose() => _releaseTimer.Dispose();

        private void ReleaseHeld()
        {
            byte[]? release;
            lock (_lock)
            {
                release = _held;
                _held = null;
            }

            if (release is not null)
            {
                Interlocked.Increment(ref Stats._reordered);
                try
                {
                    Send(release, duplicate: false);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Relay shutting down.
                }
            }
        }

        private void Send(byte[] datagram, bool duplicate)
        {
            _send(datagram);
            Interlocked.Increment(ref Stats._forwarded);
            if (duplicate)
            {
                _send(datagram);
                Interlocked.Increment(ref Stats._duplicated);
            }
        }
    }
}
