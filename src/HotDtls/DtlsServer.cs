using System.Net.Sockets;
using System.Net;
using HotDtls.Cluster;
using HotDtls.Connection;
using HotDtls.Crypto;
using HotDtls.Diagnostics;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;

namespace HotDtls;

/// <summary>
/// A DTLS 1.2 PSK server on one UDP port serving many peers (one socket per receive loop, see
/// <see cref="DtlsServerOptions.ReceiveLoops"/>). Each new peer must prove it is reachable with a
/// stateless cookie before any state is kept (RFC 6347 §4.2.1); then a PSK handshake (RFC 4279) sets up
/// record-protection keys, and every authenticated datagram goes to the <see cref="DtlsServerHandler"/>.
/// </summary>
/// <example>
/// <code>
/// var options = new DtlsServerOptions
/// {
///     EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
///     PskStore = PskStore.Single(Convert.FromHexString("1a2b3c4d5e6f")),
/// };
/// await using var server = new DtlsServer(options, new EchoHandler());
/// await server.StartAsync();
/// </code>
/// </example>
public sealed class DtlsServer : IAsyncDisposable
{
    // Linux's SOL_SOCKET and SO_REUSEPORT: several sockets on one port, the kernel spreading peers by 4-tuple hash.
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    private readonly DtlsServerOptions _options;
    private readonly DtlsServerHandler _handler;
    private readonly ILogger _logger;
    private readonly IRandomSource _random;
    private ServerLoop[] _loops = [];
    private SessionCache? _sessionCache;
    private SessionTicketProtector? _tickets;
    private ServerMetrics? _metrics;
    private KeyLogWriter? _keyLog;
    private ClusterKeyRing? _clusterKeys;
    private ClusterChannel? _clusterChannel;
    private ITimer? _clusterTimer;
    private IPEndPoint? _localEndPoint;
    private int _state; // 0 new, 1 started, 2 stopped

    /// <summary>Creates a server; nothing is bound until <see cref="StartAsync"/>.</summary>
    /// <param name="options">Settings; validated here (an <see cref="ArgumentException"/> says what to fix).</param>
    /// <param name="handler">
    /// Receives the sessions and their datagrams. With several receive loops it is called from several threads at
    /// once (each session always from the same loop).
    /// </param>
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
    public IPEndPoint LocalEndPoint => _localEndPoint
        ?? throw new InvalidOperationException("The server is not started: call StartAsync first.");

    /// <summary>How many receive loops (sockets) are running: <see cref="DtlsServerOptions.ReceiveLoops"/>, or 1 where SO_REUSEPORT is unavailable.</summary>
    public int ReceiveLoops => _loops.Length;

    /// <summary>
    /// How many receive loops are still receiving: <see cref="ReceiveLoops"/> while the server runs, fewer if a loop
    /// ended unexpectedly (a bug: its peers are no longer served), 0 before <see cref="StartAsync"/> and after
    /// <see cref="StopAsync"/>. Health checks compare it with <see cref="ReceiveLoops"/>.
    /// </summary>
    public int RunningLoops
    {
        get
        {
            if (Volatile.Read(ref _state) != 1)
            {
                return 0;
            }
            var running = 0;
            foreach (var loop in _loops)
            {
                running += loop.IsRunning ? 1 : 0;
            }
            return running;
        }
    }

    /// <summary>
    /// How the receive loops wait for datagrams once started: <see cref="DtlsServerOptions.ReceiveStrategy"/>, or
    /// <see cref="DtlsReceiveStrategy.BlockingThread"/> where <see cref="DtlsReceiveStrategy.Batched"/> is unavailable.
    /// </summary>
    public DtlsReceiveStrategy ReceiveStrategy { get; private set; }

    /// <summary>A snapshot of the server's counters, summed over the receive loops.</summary>
    public DtlsServerStatistics Statistics
    {
        get
        {
            var total = default(DtlsServerStatistics);
            foreach (var loop in _loops)
            {
                total = total.Add(loop.Engine.GetStatistics());
            }
            return total;
        }
    }

    /// <summary>Each loop's counters, for tests that check how peers were spread.</summary>
    internal DtlsServerStatistics[] StatisticsPerLoop()
    {
        var result = new DtlsServerStatistics[_loops.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = _loops[i].Engine.GetStatistics();
        }
        return result;
    }

    /// <summary>CID records a loop received for another loop's session and handed to it (none where the kernel steers them).</summary>
    internal long DatagramsHandedOff
    {
        get
        {
            long total = 0;
            foreach (var loop in _loops)
            {
                total += loop.Engine.DatagramsHandedOff;
            }
            return total;
        }
    }

    /// <summary>Whether this server is one node of a cluster (<see cref="DtlsServerOptions.Cluster"/>).</summary>
    public bool IsClusterNode => _options.Cluster is not null;

    /// <summary>The cluster's keys once started (for tests), or null.</summary>
    internal ClusterKeyRing? ClusterKeys => _clusterKeys;

    /// <summary>The ticket protector the loops share once started (for tests), or null.</summary>
    internal SessionTicketProtector? Tickets => _tickets;

    /// <summary>This server's instruments once started (for tests), or null.</summary>
    internal ServerMetrics? Metrics => _metrics;

    /// <summary>Binds the sockets and starts receiving.</summary>
    /// <exception cref="DtlsException">The address cannot be bound (for example, the port is in use).</exception>
    /// <exception cref="InvalidOperationException">The server was already started.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("A DtlsServer can be started once; create a new one to listen again.");
        }
        var wanted = OperatingSystem.IsLinux() ? _options.ReceiveLoops : 1;
        var sockets = new List<Socket>(wanted);
        try
        {
            // Opened before binding: a key log that cannot be written is a reason not to start, and so is a key file.
            _keyLog = _options.KeyLogPath is { } keyLogPath ? KeyLogWriter.Open(keyLogPath, _logger) : null;
            _clusterKeys = _options.Cluster is { } cluster ? ClusterKeyRing.Create(cluster) : null;
            var endPoint = _options.EndPoint!;
            if (wanted > 1)
            {
                // SO_REUSEPORT would let our first socket join sockets that already hold the port — another HotDtls
                // server, or any process of this user that set the option — and the kernel would split the peers
                // between us. A socket without the option cannot share the port with anyone: if it binds, the port is
                // free, and our loops take it a moment later. Port 0 asks for any port: the probe's is the one used.
                endPoint = ProbeExclusive(endPoint);
            }
            sockets.Add(Bind(endPoint, reusePort: wanted > 1));
            var bound = (IPEndPoint)sockets[0].LocalEndPoint!;
            for (var i = 1; i < wanted; i++)
            {
                sockets.Add(Bind(new IPEndPoint(endPoint.Address, bound.Port), reusePort: true));
            }
        }
        catch
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
            _keyLog?.Dispose();
            _state = 2;
            throw;
        }

        var strategy = _options.ReceiveStrategy;
        if (strategy == DtlsReceiveStrategy.Batched && !BatchedDatagramSocket.IsSupported)
        {
            strategy = DtlsReceiveStrategy.BlockingThread;
        }
        var loops = new ServerLoop[sockets.Count];
        // One session cache for all loops: a resuming client may come back on a port the kernel gives another loop.
        _sessionCache = _options.EnableSessionResumption
            ? new SessionCache(_options.MaxCachedSessions, _options.SessionLifetime)
            : null;
        _tickets = _options.EnableSessionTickets ? ServerEngine.CreateTicketProtector(_options, _random, _clusterKeys) : null;
        var engines = new ServerEngine[sockets.Count];
        for (var i = 0; i < loops.Length; i++)
        {
            var batched = strategy == DtlsReceiveStrategy.Batched ? new BatchedDatagramSocket(sockets[i], _logger) : null;
            IDatagramSender sender = batched is not null ? batched : new SocketDatagramSender(sockets[i], _logger);
            var engine = engines[i] = new ServerEngine(_options, _handler, sender, _logger, _random, shareOf: loops.Length,
                _sessionCache, _tickets, loopIndex: i, _keyLog, _clusterKeys);
            loops[i] = new ServerLoop(i, sockets[i], engine, strategy, batched, _options, _logger);
        }
        if (engines.Length > 1 && _options.ConnectionIdLength > 0)
        {
            // CID records whose sender moved reach whichever loop the kernel hashes the new address to; the loop byte
            // of the CID names the owner, and a loop hands such a datagram over (docs/design.md, Connection ID).
            foreach (var engine in engines)
            {
                engine.Siblings = engines;
            }
            // The kernel can send each CID record to its owner directly (the loop byte, read by a classic BPF program);
            // without it (not Linux, or refused) the hand-off above still delivers, one lock later.
            if (ConnectionIdSteering.TryAttach(sockets[0], engines.Length, out var steeringError))
            {
                ConnectionIdSteeringAttached = true;
            }
            else
            {
                Log.ConnectionIdSteeringUnavailable(_logger, steeringError ?? "unknown reason");
            }
        }
        if (_options.Cluster is { ChannelEndPoint: { } channelEndPoint } channelOptions)
        {
            StartClusterChannel(channelOptions, channelEndPoint, engines, sockets);
        }
        ReceiveStrategy = strategy;
        _loops = loops;
        _localEndPoint = (IPEndPoint)sockets[0].LocalEndPoint!;
        // Made once the port is known (it tags every measurement); given to the engines before their loops start.
        _metrics = new ServerMetrics(_options.MeterFactory, _localEndPoint, _options.TimeProvider, cluster: _options.Cluster is not null);
        _metrics.Observe(engines);
        if (_clusterChannel is { } clusterChannel)
        {
            _metrics.ObserveChannel(clusterChannel);
        }
        foreach (var engine in engines)
        {
            engine.Metrics = _metrics;
        }
        foreach (var loop in loops)
        {
            loop.Start();
        }
        if (_options.Cluster is { } clusterOptions)
        {
            _clusterTimer = _options.TimeProvider.CreateTimer(static state => ((DtlsServer)state!).OnClusterTick(), this,
                clusterOptions.HeartbeatInterval, clusterOptions.HeartbeatInterval);
        }
        Log.Listening(_logger, _localEndPoint);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Replaces the cluster's shared keys while the server runs (a rotation: the new current secrets first, the previous
    /// ones second, on every node): cookies and tickets are made with the new keys at once, and both sets are accepted.
    /// With <see cref="DtlsClusterOptions.KeyFile"/> the server does this itself when the file changes.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server is not a cluster node, or is not running.</exception>
    public void UpdateClusterKeys(DtlsClusterKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (_clusterKeys is not { } ring || Volatile.Read(ref _state) != 1)
        {
            throw new InvalidOperationException(_options.Cluster is null
                ? "This server is not a cluster node: set DtlsServerOptions.Cluster to share keys."
                : "The server is not running: the keys of a stopped server cannot change (pass them in DtlsClusterOptions.Keys).");
        }
        ApplyClusterKeys(ring, keys);
    }

    private void ApplyClusterKeys(ClusterKeyRing ring, DtlsClusterKeys keys)
    {
        ring.Replace(keys);
        _tickets?.ReplaceConfiguredKeys(keys.SessionTicketKeys);
        Log.ClusterKeysChanged(_logger, keys.CookieSecrets.Count, keys.SessionTicketKeys.Count, keys.ChannelKeys.Count);
    }

    /// <summary>
    /// Binds the node-to-node channel and gives it to the engines: CID records of other nodes' sessions go out through
    /// it, and what other nodes forward comes in through a <see cref="ClusterRelay"/>. A channel that cannot bind stops
    /// the start (the sockets bound so far are closed).
    /// </summary>
    private void StartClusterChannel(DtlsClusterOptions cluster, IPEndPoint channelEndPoint, ServerEngine[] engines, List<Socket> sockets)
    {
        // Replies to clients another node forwarded leave from loop 0's socket: one address, the one the balancer knows.
        var relay = new ClusterRelay(engines, cluster.NodeId, _options.ConnectionIdLength ?? 0, new SocketDatagramSender(sockets[0], _logger));
        var nodes = new Dictionary<byte, IPEndPoint>(cluster.Nodes);
        var channel = new ClusterChannel(cluster.NodeId, nodes, _clusterKeys!, _options.TimeProvider, cluster.HeartbeatInterval,
            cluster.NodeTimeout, relay, _logger);
        try
        {
            channel.Start(channelEndPoint);
        }
        catch
        {
            channel.Dispose();
            foreach (var engine in engines)
            {
                engine.Dispose();
            }
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
            _sessionCache?.Dispose();
            _tickets?.Dispose();
            _keyLog?.Dispose();
            _state = 2;
            throw;
        }
        foreach (var engine in engines)
        {
            engine.Forwarder = channel;
        }
        _clusterChannel = channel;
    }

    /// <summary>The node-to-node channel once started (for tests), or null.</summary>
    internal ClusterChannel? ClusterChannel => _clusterChannel;

    /// <summary>Every heartbeat interval: the key file, if it changed.</summary>
    private void OnClusterTick()
    {
        if (_clusterKeys is not { } ring || Volatile.Read(ref _state) != 1)
        {
            return;
        }
        if (ring.TryReloadFile(out var error))
        {
            _tickets?.ReplaceConfiguredKeys(ring.Keys.SessionTicketKeys);
            var keys = ring.Keys;
            Log.ClusterKeysChanged(_logger, keys.CookieSecrets.Count, keys.SessionTicketKeys.Count, keys.ChannelKeys.Count);
        }
        else if (error is not null)
        {
            Log.ClusterKeyFileUnreadable(_logger, error);
        }
    }

    /// <summary>Whether the kernel steers CID records to the loop that issued the CID (Linux, several loops).</summary>
    internal bool ConnectionIdSteeringAttached { get; private set; }

    /// <summary>
    /// Binds and closes a socket without SO_REUSEPORT on <paramref name="endPoint"/>: it fails, as the server must,
    /// when any socket holds the port, with or without SO_REUSEPORT. Returns the endpoint with the port it got.
    /// </summary>
    private static IPEndPoint ProbeExclusive(IPEndPoint endPoint)
    {
        using var probe = Bind(endPoint, reusePort: false);
        return new IPEndPoint(endPoint.Address, ((IPEndPoint)probe.LocalEndPoint!).Port);
    }

    private static Socket Bind(IPEndPoint endPoint, bool reusePort)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = endPoint.Address.Equals(IPAddress.IPv6Any);
            }
            if (reusePort)
            {
                socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            }
            socket.Bind(endPoint);
            // Large buffers absorb bursts of handshakes while the loop is busy.
            socket.ReceiveBufferSize = Math.Max(socket.ReceiveBufferSize, 4 * 1024 * 1024);
            return socket;
        }
        catch (SocketException exception)
        {
            socket.Dispose();
            var (reason, advice) = exception.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => (DtlsExceptionReason.AddressInUse,
                    "the port is already in use by another socket (another HotDtls server, or any other program): stop it or choose another port"),
                SocketError.AddressNotAvailable => (DtlsExceptionReason.BindFailed, "the address does not belong to this machine: choose one of its addresses"),
                SocketError.AccessDenied => (DtlsExceptionReason.BindFailed, "permission denied: ports below 1024 need privileges"),
                _ => (DtlsExceptionReason.BindFailed, exception.Message),
            };
            throw new DtlsException($"Cannot listen on {endPoint}: {advice}.", reason, exception);
        }
    }

    /// <summary>Sends close_notify to every peer, stops receiving and closes the sockets.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _state, 2) != 1)
        {
            return;
        }
        if (_clusterTimer is { } clusterTimer)
        {
            await clusterTimer.DisposeAsync().ConfigureAwait(false);
        }
        var told = 0;
        foreach (var loop in _loops)
        {
            told += await loop.StopAsync(cancellationToken).ConfigureAwait(false);
        }
        // After the loops: their close_notify to clients reached through another node went out through the channel.
        _clusterChannel?.Dispose();
        // The cached master secrets go with the server.
        _sessionCache?.Dispose();
        _tickets?.Dispose();
        // After the loops: the handshakes that shutdown closed have been counted.
        _metrics?.Dispose();
        _keyLog?.Dispose();
        Log.Stopped(_logger, told);
    }

    /// <summary>Stops the server (see <see cref="StopAsync"/>).</summary>
    public async ValueTask DisposeAsync() => await StopAsync().ConfigureAwait(false);
}
