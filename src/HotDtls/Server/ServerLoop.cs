using System.Net.Sockets;
using System.Net;
using HotDtls.Diagnostics;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;

namespace HotDtls.Server;

/// <summary>
/// One receive loop: a socket, the engine that owns every peer the kernel sends to that socket, and the timer that
/// drives the engine's retransmissions and expiry. A server runs one per <see cref="DtlsServerOptions.ReceiveLoops"/>.
/// </summary>
internal sealed class ServerLoop
{
    private static readonly long TickMs = (long)ServerEngine.TickInterval.TotalMilliseconds;

    private readonly Socket _socket;
    private readonly ILogger _logger;
    private readonly DtlsReceiveStrategy _strategy;
    private readonly ITimer? _timer;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _index;
    private readonly BatchedDatagramSocket? _batched;

    /// <summary>
    /// Creates the loop; <paramref name="batched"/> is the engine's sender and the loop's receiver when
    /// <paramref name="strategy"/> is <see cref="DtlsReceiveStrategy.Batched"/>.
    /// </summary>
    public ServerLoop(int index, Socket socket, ServerEngine engine, DtlsReceiveStrategy strategy, BatchedDatagramSocket? batched,
        DtlsServerOptions options, ILogger logger)
    {
        _index = index;
        _socket = socket;
        Engine = engine;
        _logger = logger;
        _strategy = strategy;
        _batched = batched;
        _time = options.TimeProvider;
        if (_strategy == DtlsReceiveStrategy.Batched && batched is null)
        {
            throw new ArgumentNullException(nameof(batched), "The batched strategy receives through a BatchedDatagramSocket.");
        }
        if (_strategy == DtlsReceiveStrategy.Async)
        {
            _timer = options.TimeProvider.CreateTimer(static state => ((ServerLoop)state!).OnTimer(), this,
                ServerEngine.TickInterval, ServerEngine.TickInterval);
        }
        else if (_strategy == DtlsReceiveStrategy.BlockingThread)
        {
            // The blocking loop runs its own timers between datagrams (and wakes at least every tick): no thread-pool
            // timer, no second thread taking the engine's lock, no idle pool worker spinning in sched_yield (a visible
            // share of the server's CPU under handshake load: docs/benchmarks.md).
            socket.ReceiveTimeout = (int)ServerEngine.TickInterval.TotalMilliseconds;
        }
    }

    public ServerEngine Engine { get; }

    /// <summary>False once the loop has left its receive loop, whether stopped or ended by an unexpected exception.</summary>
    public bool IsRunning => !_finished.Task.IsCompleted;

    public void Start()
    {
        if (_strategy == DtlsReceiveStrategy.Async)
        {
            _ = Task.Run(RunAsyncLoop, CancellationToken.None);
            return;
        }
        var thread = new Thread(static state =>
        {
            var loop = (ServerLoop)state!;
            if (loop._strategy == DtlsReceiveStrategy.Batched)
            {
                loop.RunBatchedLoop();
            }
            else
            {
                loop.RunBlockingLoop();
            }
        })
        {
            IsBackground = true,
            Name = $"HotDtls receive {_index}",
        };
        thread.Start(this);
    }

    /// <summary>Sends close_notify to this loop's peers, stops receiving, closes the socket; returns how many were told.</summary>
    public async Task<int> StopAsync(CancellationToken cancellationToken)
    {
        var told = Engine.CloseAll();
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }
        // Closing the socket is what wakes a thread blocked in ReceiveFrom.
        _socket.Dispose();
        try
        {
            await _finished.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Engine.Dispose();
            _stopping.Dispose();
        }
        return told;
    }

    private void RunBlockingLoop()
    {
        // Pinned once for the loop's life: the kernel copies into it without the GC moving it.
        var buffer = GC.AllocateArray<byte>(ushort.MaxValue, pinned: true);
        var address = new SocketAddress(_socket.AddressFamily);
        var nextTickMs = _time.GetMonotonicMilliseconds() + TickMs;
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                RunTimersIfDue(ref nextTickMs);
                int received;
                try
                {
                    received = _socket.ReceiveFrom(buffer, SocketFlags.None, address);
                }
                catch (SocketException exception) when (exception.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
                {
                    continue; // A quiet tick: time to run the timers.
                }
                catch (ObjectDisposedException)
                {
                    break;
                }
                catch (SocketException exception) when (IsStopping(exception))
                {
                    break;
                }
                catch (SocketException exception)
                {
                    // ICMP errors reported on the socket (ConnectionReset on some systems) concern one peer, not the loop.
                    Log.ReceiveFailed(_logger, exception.SocketErrorCode);
                    continue;
                }
                Process(address, buffer.AsSpan(0, received));
            }
        }
        finally
        {
            _finished.TrySetResult();
        }
    }

    private void RunBatchedLoop()
    {
        var io = _batched!;
        var nextTickMs = _time.GetMonotonicMilliseconds() + TickMs;
        try
        {
            try
            {
                io.BindToCurrentThread(ServerEngine.TickInterval);
            }
            catch (ObjectDisposedException)
            {
                // Stopped before this thread first ran (a start followed at once by a stop): nothing to receive, and an
                // exception escaping a thread would end the process.
                return;
            }
            while (!_stopping.IsCancellationRequested)
            {
                if (RunTimersIfDue(ref nextTickMs))
                {
                    io.Flush(); // Retransmissions and alerts the timers queued on this thread.
                }
                int count;
                SocketError error;
                try
                {
                    count = io.Receive(out error);
                }
                catch (ObjectDisposedException)
                {
                    break;
                }
                if (count < 0)
                {
                    if (_stopping.IsCancellationRequested || error == SocketError.NotSocket)
                    {
                        break;
                    }
                    Log.ReceiveFailed(_logger, error);
                    continue;
                }
                for (var i = 0; i < count; i++)
                {
                    if (io.IsTruncated(i))
                    {
                        // Only a datagram over 64 KiB can be cut, and no DTLS peer sends one: not worth a record.
                        Log.Dropped(_logger, io.Sender(i).ToEndPoint(), "datagram larger than 64 KiB");
                        continue;
                    }
                    Process(io.Sender(i), io.Datagram(i));
                }
                io.Flush();
            }
        }
        finally
        {
            _finished.TrySetResult();
        }
    }

    private async Task RunAsyncLoop()
    {
        var buffer = GC.AllocateArray<byte>(ushort.MaxValue, pinned: true);
        var address = new SocketAddress(_socket.AddressFamily);
        var token = _stopping.Token;
        try
        {
            while (!token.IsCancellationRequested)
            {
                int received;
                try
                {
                    received = await _socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, address, token)
                        .ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
                catch (ObjectDisposedException)
                {
                    break;
                }
                catch (SocketException exception) when (IsStopping(exception))
                {
                    break;
                }
                catch (SocketException exception)
                {
                    Log.ReceiveFailed(_logger, exception.SocketErrorCode);
                    continue;
                }
                Process(address, buffer.AsSpan(0, received));
            }
        }
        finally
        {
            _finished.TrySetResult();
        }
    }

    /// <summary>
    /// For the loops that run their own timers between receives (blocking and batched): runs them once a tick has
    /// passed since the last run. True if they ran.
    /// </summary>
    private bool RunTimersIfDue(ref long nextTickMs)
    {
        var now = _time.GetMonotonicMilliseconds();
        if (now < nextTickMs)
        {
            return false;
        }
        OnTimer();
        nextTickMs = now + TickMs;
        return true;
    }

    private bool IsStopping(SocketException exception)
        => _stopping.IsCancellationRequested
            && exception.SocketErrorCode is SocketError.Interrupted or SocketError.OperationAborted or SocketError.NotSocket
                or SocketError.Shutdown;

    private void Process(SocketAddress address, Span<byte> datagram)
    {
        try
        {
            Engine.ProcessDatagram(address, datagram);
        }
#pragma warning disable CA1031 // A bug triggered by one peer's datagram must not stop the server for all peers.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.DatagramFailed(_logger, address.ToEndPoint(), exception);
        }
    }

    private void OnTimer()
    {
        try
        {
            Engine.OnTick();
        }
#pragma warning disable CA1031 // An exception escaping a timer callback would end the process.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.TimerFailed(_logger, exception);
        }
    }
}
