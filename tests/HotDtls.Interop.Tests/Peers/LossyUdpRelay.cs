using System.Diagnostics;
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
    /// One-way delay added to every forwarded datagram (after the reorder hold). With <see cref="Jitter"/> zero,
    /// order is kept: a path with a fixed delay is first in, first out.
    /// </summary>
    public TimeSpan Delay { get; init; }

    /// <summary>
    /// Each datagram's delay is drawn uniformly from <see cref="Delay"/> ± this (never below zero); datagrams
    /// whose delays differ by more than their spacing overtake each other, as on a real path.
    /// </summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>
    /// Largest datagram (UDP payload bytes) the path carries; larger ones are dropped, as by a link with a small
    /// MTU and no IP fragmentation, and counted in <see cref="RelayDirectionStats.TooLarge"/> rather than
    /// <see cref="RelayDirectionStats.Dropped"/>. Null (the default): no limit.
    /// </summary>
    public int? MaxDatagramSize { get; init; }

    /// <summary>
    /// Seed for the decisions. Each direction draws from its own <see cref="Random"/> (seed, seed + 1), so the
    /// n-th datagram in a direction always gets the same fate whatever the other direction does.
    /// </summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// Called with one line per datagram (direction, index, time, DTLS records, fate), for diagnosing a run; null
    /// (the default) traces nothing. Called on the relay's receive loops, so keep it quick and thread-safe.
    /// </summary>
    public Action<string>? Trace { get; init; }

    /// <summary>Throws for probabilities outside 0..1, negative times or a size limit below 1.</summary>
    public void Validate()
    {
        RequireProbability(DropProbability, nameof(DropProbability));
        RequireProbability(DuplicateProbability, nameof(DuplicateProbability));
        RequireProbability(ReorderProbability, nameof(ReorderProbability));
        if (Delay < TimeSpan.Zero || Jitter < TimeSpan.Zero || MaxHoldTime <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Delay), "Delay and Jitter must not be negative, MaxHoldTime must be positive.");
        }
        if (MaxDatagramSize is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDatagramSize), MaxDatagramSize, "MaxDatagramSize must be at least 1.");
        }
    }

    private static void RequireProbability(double value, string name)
    {
        if (value is < 0 or > 1 || double.IsNaN(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be between 0 and 1.");
        }
    }
}

/// <summary>What the relay does with one datagram.</summary>
/// <param name="TooLarge">Larger than <see cref="LossyUdpRelayOptions.MaxDatagramSize"/>: dropped by the path.</param>
/// <param name="Drop">Dropped (loss).</param>
/// <param name="Duplicate">Sent twice.</param>
/// <param name="Reorder">Held back until the next datagram (or <see cref="LossyUdpRelayOptions.MaxHoldTime"/>).</param>
/// <param name="Delay">Delay before it (and its duplicate) is sent.</param>
public readonly record struct DatagramFate(bool TooLarge, bool Drop, bool Duplicate, bool Reorder, TimeSpan Delay);

/// <summary>
/// The seeded decisions of one relay direction, apart from sockets and timers so that they can be tested and
/// predicted: two deciders with the same options and seed give the same fates for the same datagram sizes.
/// </summary>
public sealed class DatagramFateDecider
{
    private readonly LossyUdpRelayOptions _options;
    private readonly Random _random;

    /// <summary>A decider drawing from <c>new Random(seed)</c>.</summary>
    public DatagramFateDecider(LossyUdpRelayOptions options, int seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _random = new Random(seed);
    }

    /// <summary>The fate of the next datagram, <paramref name="length"/> bytes long.</summary>
    public DatagramFate Next(int length)
    {
        // Always draw the same number of values per datagram, so the n-th datagram's fate does not depend on
        // earlier fates or sizes. The jitter draw comes last and only when jitter is on, so seeds chosen before
        // delays existed keep their drop/duplicate/reorder sequence.
        var drop = _random.NextDouble() < _options.DropProbability;
        var duplicate = _random.NextDouble() < _options.DuplicateProbability;
        var reorder = _random.NextDouble() < _options.ReorderProbability;
        var delay = _options.Delay;
        if (_options.Jitter > TimeSpan.Zero)
        {
            delay += _options.Jitter * ((2 * _random.NextDouble()) - 1);
            if (delay < TimeSpan.Zero)
            {
                delay = TimeSpan.Zero;
            }
        }

        var tooLarge = length > _options.MaxDatagramSize;
        return new DatagramFate(tooLarge, drop && !tooLarge, duplicate, reorder, delay);
    }
}

/// <summary>Counters for one direction of a <see cref="LossyUdpRelay"/>.</summary>
public sealed class RelayDirectionStats
{
    internal int _received;
    internal int _forwarded;
    internal int _dropped;
    internal int _tooLarge;
    internal int _duplicated;
    internal int _reordered;
    internal int _delayed;
    internal long _firstReceivedTimestamp;

    /// <summary>Datagrams that arrived at the relay.</summary>
    public int Received => Volatile.Read(ref _received);

    /// <summary>Datagrams sent on (each at least once; duplicates not counted twice), counted when actually sent.</summary>
    public int Forwarded => Volatile.Read(ref _forwarded);

    /// <summary>Datagrams dropped as loss.</summary>
    public int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Datagrams dropped for being larger than <see cref="LossyUdpRelayOptions.MaxDatagramSize"/>.</summary>
    public int TooLarge => Volatile.Read(ref _tooLarge);

    /// <summary>Datagrams sent a second time.</summary>
    public int Duplicated => Volatile.Read(ref _duplicated);

    /// <summary>Datagrams held back and released out of order (or after <see cref="LossyUdpRelayOptions.MaxHoldTime"/>).</summary>
    public int Reordered => Volatile.Read(ref _reordered);

    /// <summary>Datagrams put on the delay line (each once, duplicates not counted twice).</summary>
    public int Delayed => Volatile.Read(ref _delayed);

    /// <summary><see cref="Stopwatch.GetTimestamp"/> when the first datagram arrived, or 0 if none has.</summary>
    public long FirstReceivedTimestamp => Volatile.Read(ref _firstReceivedTimestamp);

    /// <inheritdoc/>
    public override string ToString() =>
        $"received {Received}, forwarded {Forwarded}, dropped {Dropped}, too large {TooLarge}, duplicated {Duplicated}, "
        + $"reordered {Reordered}, delayed {Delayed}";
}

/// <summary>
/// A UDP relay on 127.0.0.1 between one client and a fixed server endpoint that drops, duplicates, reorders
/// and delays datagrams from seeded randomness, and drops those above a size limit. Point the client at
/// <see cref="EndPoint"/>; the server sees the relay's own socket as the client. The client is whoever sent the
/// latest client-side datagram.
/// </summary>
/// <remarks>
/// Per direction, a datagram goes: size check → drop → reorder hold (at most one held) → delay line → socket,
/// duplicates following their original. The decisions are <see cref="DatagramFateDecider"/>'s, so the fates are
/// the same per seed; when they take effect depends on the peers' timing.
/// </remarks>
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
        options.Validate();
        _options = options;
        _clientSide = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _clientSide.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _serverSide = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _serverSide.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _serverSide.Connect(server);
        EndPoint = (IPEndPoint)_clientSide.LocalEndPoint!;
        _toServer = new Direction("c→s", options, new DatagramFateDecider(options, options.Seed),
            datagram => _serverSide.Send(datagram, SocketFlags.None));
        _toClient = new Direction("s→c", options, new DatagramFateDecider(options, options.Seed + 1), SendToClient);
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

    /// <summary>Stops relaying and closes both sockets; datagrams still held or on the delay line are lost.</summary>
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

    /// <summary>One direction's fate decisions, held datagram, delay line and counters.</summary>
    private sealed class Direction : IDisposable
    {
        private static readonly long s_start = Stopwatch.GetTimestamp();
        private readonly string _name;
        private readonly LossyUdpRelayOptions _options;
        private readonly DatagramFateDecider _decider;
        private readonly Action<byte[]> _send;
        private readonly Lock _lock = new(); // Guards _held against the release timer's thread.
        private readonly Timer _releaseTimer;
        private readonly DelayLine? _delayLine;
        private (byte[] Datagram, TimeSpan Delay)? _held;

        public Direction(string name, LossyUdpRelayOptions options, DatagramFateDecider decider, Action<byte[]> send)
        {
            _name = name;
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
            try
            {
                _send(datagram);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Relay shutting down, or ICMP from an earlier send: the datagram is lost, as on a network.
                return;
            }
            if (countForwarded)
            {
                Interlocked.Increment(ref Stats._forwarded);
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


/// <summary>A one-line summary of the DTLS records in a datagram, for <see cref="LossyUdpRelayOptions.Trace"/>.</summary>
internal static class DtlsRecordSummary
{
    // RFC 6347 §4.1: type(1) version(2) epoch(2) sequence_number(6) length(2), then the fragment; an epoch-0
    // handshake fragment starts with msg_type(1) length(3) message_seq(2) fragment_offset(3) fragment_length(3).
    private const int RecordHeaderLength = 13;

    public static string Describe(ReadOnlySpan<byte> datagram)
    {
        var parts = new List<string>();
        while (datagram.Length >= RecordHeaderLength)
        {
            var type = datagram[0];
            var epoch = (datagram[3] << 8) | datagram[4];
            var length = (datagram[11] << 8) | datagram[12];
            var body = datagram[RecordHeaderLength..Math.Min(datagram.Length, RecordHeaderLength + length)];
            parts.Add(type switch
            {
                22 when epoch == 0 && body.Length >= 12 =>
                    $"{HandshakeName(body[0])}{(((body[6] << 16) | (body[7] << 8) | body[8]) is var offset && offset > 0 ? $"@{offset}" : "")}",
                22 => $"HS(e{epoch})",
                20 => "CCS",
                21 => $"Alert(e{epoch})",
                23 => $"App(e{epoch})",
                _ => $"?{type}",
            });
            datagram = datagram[Math.Min(datagram.Length, RecordHeaderLength + length)..];
        }
        return string.Join(' ', parts);
    }

    private static string HandshakeName(byte type) => type switch
    {
        1 => "ClientHello",
        2 => "ServerHello",
        3 => "HelloVerifyRequest",
        12 => "ServerKeyExchange",
        14 => "ServerHelloDone",
        16 => "ClientKeyExchange",
        20 => "Finished",
        _ => $"HS{type}",
    };
}
