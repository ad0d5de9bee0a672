using System.Net;
using System.Net.Sockets;
using HotDtls.Crypto;
using HotDtls.Diagnostics;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls;

/// <summary>
/// A DTLS 1.2 PSK server on one UDP socket serving many peers. Each new peer must prove it is reachable with a
/// stateless cookie before any state is kept (RFC 6347 §4.2.1); then a PSK handshake (RFC 4279) sets up AES-GCM
/// keys, and every authenticated datagram goes to the <see cref="DtlsServerHandler"/>.
/// </summary>
/// <example>
/// <code>
/// var options = new DtlsServerOptions { PskStore = PskStore.Single(Convert.FromHexString("1a2b3c4d5e6f")) };
/// await using var server = new DtlsServer(options, new EchoHandler());
/// await server.StartAsync();
/// </code>
/// </example>
public sealed class DtlsServer : IAsyncDisposable
{
    private readonly DtlsServerOptions _options;
    private readonly DtlsServerHandler _handler;
    private readonly ILogger _logger;
    private readonly IRandomSource _random;
    private Socket? _socket;
    private ServerEngine? _engine;
    private ITimer? _timer;
    private CancellationTokenSource? _stopping;
    private Task? _receiveLoop;
    private int _state; // 0 new, 1 started, 2 stopped

    /// <summary>Creates a server; nothing is bound until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Settings; validated here (an <see cref="ArgumentException"/> says what to fix).</param>
    /// <param name="handler">Receives the sessions and their datagrams.</param>
    /// <param name="loggerFactory">Where the info/warning/error reports go; none by default.</param>
    public DtlsServer(DtlsServerOptions options, DtlsServerHandler handler, ILoggerFactory? loggerFactory = null)
        : this(options, handler, loggerFactory, SystemRandomSource.Instance)
    {
    }

    internal DtlsServer(DtlsServerOptions options, DtlsServerHandler handler, ILoggerFactory? loggerFactory, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(handler);
        options.ValidateServer();
        _options = options;
        _handler = handler;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("HotDtls.Server");
        _random = random;
    }

    /// <summary>The bound address (with the real port when <see cref="DtlsServerOptions.EndPoint"/> asked for port 0).</summary>
    /// <exception cref="InvalidOperationException">The server has not been started.</exception>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_socket?.LocalEndPoint
        ?? throw new InvalidOperationException("The server is not started: call StartAsync first.");

    /// <summary>A snapshot of the server's counters.</summary>
    public DtlsServerStatistics Statistics => _engine?.GetStatistics() ?? default;

    /// <summary>Binds the socket and starts receiving.</summary>
    /// <exception cref="DtlsException">The address cannot be bound (for example, the port is in use).</exception>
    /// <exception cref="InvalidOperationException">The server was already started.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("A DtlsServer can be started once; create a new one to listen again.");
        }
        var endPoint = _options.EndPoint;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = endPoint.Address.Equals(IPAddress.IPv6Any);
            }
            socket.Bind(endPoint);
        }
        catch (SocketException exception)
        {
            socket.Dispose();
            _state = 2;
            var advice = exception.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => "the port is already in use: stop the other program or choose another port",
                SocketError.AddressNotAvailable => "the address does not belong to this machine: choose one of its addresses",
                SocketError.AccessDenied => "permission denied: ports below 1024 need privileges",
                _ => exception.Message,
            };
            throw new DtlsException($"Cannot listen on {endPoint}: {advice}.", exception);
        }
        // Large buffers absorb bursts of handshakes while the loop is busy.
        socket.ReceiveBufferSize = Math.Max(socket.ReceiveBufferSize, 4 * 1024 * 1024);
        _socket = socket;
        var sender = new SocketDatagramSender(socket, _logger);
        _engine = new ServerEngine(_options, _handler, sender, _logger, _random);
        _stopping = new CancellationTokenSource();
        _timer = _options.TimeProvider.CreateTimer(static state => ((DtlsServer)state!).OnTimer(), this,
            ServerEngine.TickInterval, ServerEngine.TickInterval);
        _receiveLoop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
        Log.Listening(_logger, socket.LocalEndPoint!);
        return Task.CompletedTask;
    }

    private async Task ReceiveLoopAsync()
    {
        var socket = _socket!;
        var engine = _engine!;
        var token = _stopping!.Token;
        // Pinned once for the server's life: the kernel copies into it without the GC moving it.
        var buffer = GC.AllocateArray<byte>(ushort.MaxValue, pinned: true);
        var address = new SocketAddress(socket.AddressFamily);
        while (!token.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer.AsMemory(), SocketFlags.None, address, token)
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
            catch (SocketException exception)
            {
                // ICMP errors reported on the socket (ConnectionReset on some systems) concern one peer, not the loop.
                Log.ReceiveFailed(_logger, exception.SocketErrorCode);
                continue;
            }
            try
            {
                engine.ProcessDatagram(address, buffer.AsSpan(0, received));
            }
#pragma warning disable CA1031 // A bug triggered by one peer's datagram must not stop the server for all peers.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Log.DatagramFailed(_logger, ServerEngine.ToEndPoint(address), exception);
            }
        }
    }

    private void OnTimer()
    {
        try
        {
            _engine?.OnTick();
        }
#pragma warning disable CA1031 // An exception escaping a timer callback would end the process.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Log.TimerFailed(_logger, exception);
        }
    }

    /// <summary>Sends close_notify to every peer, stops receiving and closes the socket.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }
        var told = _engine!.CloseAll();
        Log.Stopped(_logger, told);
        await _stopping!.CancelAsync().ConfigureAwait(false);
        if (_timer is not null)
        {
            await _timer.DisposeAsync().ConfigureAwait(false);
        }
        _socket!.Dispose();
        try
        {
            await _receiveLoop!.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _engine.Dispose();
            _stopping.Dispose();
        }
    }

    /// <summary>Stops the server (see <see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
