using System.Net.Sockets;
using System.Net;
using HotDtls.Client;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Server;
using HotDtls.Transport;

namespace HotDtls.Stress;

/// <summary>
/// A client that can die: HotDtls's own client state machine on a socket bound where we choose. <see cref="Crash"/>
/// closes the socket without close_notify, as a device that loses power or reboots does; <see cref="DtlsClient"/>
/// cannot do that (disposing it always says goodbye). The server then forgets the session by idle expiry, or
/// replaces it when a new client handshakes from the same address and port (RFC 6347 §4.2.8).
/// </summary>
internal sealed class StressPeer : IClientEvents, IDatagramSender, IDisposable
{
    private readonly Socket _socket;
    private readonly ClientEngine _engine;
    private readonly TimeProvider _time = TimeProvider.System;
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _replies = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _timer;
    private Task? _receiveLoop;
    private int _crashed;

    public StressPeer(IPEndPoint local, IPEndPoint server, DtlsClientOptions options)
    {
        _socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            _socket.Bind(local);
            _socket.Connect(server);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
        _engine = new ClientEngine(options, server.Serialize(), this, this, SystemRandomSource.Instance);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Runs the handshake; false if it failed or did not finish in time.</summary>
    public async Task<bool> ConnectAsync(TimeSpan timeout)
    {
        _engine.Start();
        _timer = _time.CreateTimer(static state => ((StressPeer)state!)._engine.OnTick(), this, ServerEngine.TickInterval, ServerEngine.TickInterval);
        _receiveLoop = Task.Run(ReceiveLoopAsync);
        try
        {
            await _established.Task.WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (DtlsException)
        {
            return false;
        }
    }

    /// <summary>Sends one datagram and waits for the echo; false if none came back in time.</summary>
    public async Task<bool> EchoAsync(ReadOnlyMemory<byte> payload, TimeSpan timeout)
    {
        if (!_engine.TrySend(payload.Span))
        {
            return false;
        }
        return await _replies.WaitAsync(timeout).ConfigureAwait(false);
    }

    /// <summary>Stops without a word to the server: no close_notify, the socket just closes.</summary>
    public async Task CrashAsync()
    {
        if (Interlocked.Exchange(ref _crashed, 1) != 0)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }
        _socket.Dispose();
        if (_receiveLoop is not null)
        {
            await _receiveLoop.ConfigureAwait(false);
        }
        _engine.Dispose();
    }

    public void Dispose()
    {
        // Dispose is for error paths (a peer that never connected); a live peer leaves by CrashAsync.
        CrashAsync().GetAwaiter().GetResult();
        _replies.Dispose();
        _stopping.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[ushort.MaxValue];
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, token).ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException)
            {
                continue;
            }
            _engine.ProcessDatagram(buffer.AsSpan(0, received));
        }
    }

    void IDatagramSender.Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        try
        {
            _socket.Send(datagram, SocketFlags.None);
        }
        catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
        {
            // Lost, as UDP loses datagrams: retransmission or the caller's timeout covers it.
        }
    }

    void IClientEvents.OnEstablished() => _established.TrySetResult();

    void IClientEvents.OnApplicationData(ReadOnlySpan<byte> plaintext) => _replies.Release();

    void IClientEvents.OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
        => _established.TrySetException(new DtlsException($"closed during the handshake: {reason} {error} {alert}"));

    void IClientEvents.OnDropped(DropReason reason)
    {
    }
}
