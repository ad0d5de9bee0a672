using System.Net;
using HotDtls.Connection;
using HotDtls.Crypto;
using HotDtls.Diagnostics;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Client;

/// <summary>
/// The client with no socket, mirroring the server's engine: datagrams in (<see cref="ProcessDatagram"/>), time in
/// (<see cref="OnTick"/>), datagrams out through an <see cref="IDatagramSender"/>, events out through
/// <see cref="IClientEvents"/>. <see cref="DtlsClient"/> adds a socket and a timer; tests, the benchmarks' in-memory
/// link, the load generator and the stress tool drive it directly.
/// </summary>
/// <remarks>One lock serialises the engine: the receive path, the timer and sends from other threads all take it.</remarks>
internal sealed class ClientEngine : IConnectionObserver, IDisposable
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly IClientEvents _events;
    private readonly ClientConnection _connection;
    private readonly ILogger _logger;
    private readonly EndPoint _serverEndPoint;

    /// <param name="options">Validated client options.</param>
    /// <param name="server">The server's address (where every datagram goes).</param>
    /// <param name="sender">Where datagrams go.</param>
    /// <param name="events">Who hears about establishment, data, closure and drops.</param>
    /// <param name="random">Randomness for the client random.</param>
    /// <param name="scratch">
    /// Where records are built; at least <see cref="ScratchLength"/> bytes. Many engines driven by one thread may share
    /// one; null gives the engine its own.
    /// </param>
    /// <param name="keyLog">Where the session's key log line goes (<see cref="DtlsOptions.KeyLogPath"/>); null for none.</param>
    public ClientEngine(DtlsClientOptions options, SocketAddress server, IDatagramSender sender, IClientEvents events,
        IRandomSource random, byte[]? scratch = null, KeyLogWriter? keyLog = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(events);
        if (scratch is not null && scratch.Length < ScratchLength)
        {
            throw new ArgumentException($"The scratch buffer needs at least {ScratchLength} bytes.", nameof(scratch));
        }
        _time = options.TimeProvider;
        _events = events;
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("HotDtls.Client");
        _serverEndPoint = new IPEndPoint(server.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(server);
        var services = new ConnectionServices(options, _gate, sender, scratch ?? new byte[ScratchLength], this, random)
        {
            KeyLog = keyLog,
        };
        _connection = new ClientConnection(services, server, NowMs());
    }

    /// <summary>Bytes a shared scratch buffer needs: the largest protected record plus room to build it.</summary>
    public const int ScratchLength = DatagramReader.MaxCiphertextLength + 1024;

    /// <summary>The association (tests alter and inspect it).</summary>
    internal ClientConnection Connection => _connection;

    public bool IsEstablished => _connection.IsEstablished;

    public bool IsClosed => _connection.IsClosed;

    public CipherSuite? NegotiatedSuite => _connection.NegotiatedSuite;

    public bool UsesExtendedMasterSecret => _connection.UsesExtendedMasterSecret;

    /// <summary>Whether the server answered connection_id (RFC 9146).</summary>
    public bool ConnectionIdNegotiated => _connection.ConnectionIdNegotiated;

    /// <summary>Whether the server issued a non-empty CID, which every record this client sends carries.</summary>
    public bool SendsConnectionId => _connection.ConnectionIdNegotiated && !_connection.ServerConnectionId.IsEmpty;

    /// <summary>The CID the server issued (empty when none).</summary>
    public byte[] ServerConnectionId => _connection.ServerConnectionId.ToArray();

    /// <summary>The largest datagram one record carries (2^14, or the server's record size limit).</summary>
    public int MaxSendSize => _connection.MaxSendSize;

    /// <summary>Whether <see cref="MaxSendSize"/> is below 2^14 because the server asked for it.</summary>
    public bool PeerLimitsRecordSize => _connection.PeerLimitsRecordSize;

    /// <summary>How often the handshake stepped its path MTU down (RFC 6347 §4.1.1.1), and the datagram size it reached.</summary>
    public int PathMtuReductions { get; private set; }

    /// <summary>The datagram size of the last path MTU step (0: none).</summary>
    public int ReducedPathMtu { get; private set; }

    void IConnectionObserver.OnPathMtuReduced(DtlsConnection connection, int from, int to, PathMtuReduction reason)
    {
        PathMtuReductions++;
        ReducedPathMtu = to;
    }

    /// <summary>Whether the handshake resumed a saved session (the abbreviated handshake).</summary>
    public bool IsResumed => _connection.IsResumed;

    /// <summary>This session for a later resumption, or null (not established, or the server issued no session_id).</summary>
    public DtlsSavedSession? SaveSession()
    {
        lock (_gate)
        {
            return _connection.SaveSession();
        }
    }

    /// <summary>The psk_identity_hint the server sent, if any.</summary>
    public byte[]? IdentityHint => _connection.IdentityHint;

    /// <summary>When <see cref="OnTick"/> next has work (monotonic milliseconds); long.MaxValue when none.</summary>
    public long NextTimerMs
    {
        get
        {
            lock (_gate)
            {
                return _connection.NextTimerMs;
            }
        }
    }

    private long NowMs() => _time.GetMonotonicMilliseconds();

    /// <summary>Sends flight 1 (a ClientHello without a cookie).</summary>
    public void Start()
    {
        lock (_gate)
        {
            _connection.Start(NowMs());
        }
    }

    /// <summary>Processes one datagram from the server; <paramref name="datagram"/> is decrypted in place.</summary>
    public void ProcessDatagram(Span<byte> datagram)
    {
        lock (_gate)
        {
            var reader = new DatagramReader(datagram, _connection.Records.ReceiveConnectionIdLength);
            var now = NowMs();
            while (reader.TryReadRecord(out var header, out var offset))
            {
                var connectionId = DatagramReader.ConnectionIdOf(datagram, header, offset);
                if (_connection.ProcessRecord(header, connectionId, datagram.Slice(offset, header.Length), now) == RecordResult.Stop)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Retransmissions and the handshake deadline.</summary>
    public void OnTick()
    {
        lock (_gate)
        {
            _connection.OnTimer(NowMs());
        }
    }

    /// <summary>Protects and sends one datagram; false if the session is not established or closed.</summary>
    public bool TrySend(ReadOnlySpan<byte> datagram)
    {
        lock (_gate)
        {
            return _connection.SendApplicationData(datagram);
        }
    }

    /// <summary>Sends close_notify if established, and closes (<see cref="DtlsCloseReason.LocalClose"/>).</summary>
    public void Close()
    {
        lock (_gate)
        {
            _connection.CloseGracefully(DtlsCloseReason.LocalClose);
        }
    }

    /// <summary>
    /// Ends the handshake because the host reported, again and again, that nothing listens at the server's address
    /// (<see cref="DtlsCloseReason.PeerUnreachable"/>); nothing is sent. No effect once established or closed.
    /// </summary>
    public void FailUnreachable()
    {
        lock (_gate)
        {
            if (!_connection.IsEstablished)
            {
                _connection.CloseGracefully(DtlsCloseReason.PeerUnreachable);
            }
        }
    }

    /// <summary>Logs one ICMP port unreachable report (the <paramref name="count"/>th in a row).</summary>
    public void OnPortUnreachable(int count) => Log.PortUnreachable(_logger, _serverEndPoint, count);

    void IConnectionObserver.OnEstablished(DtlsConnection connection)
    {
        Log.ClientEstablished(_logger, _serverEndPoint, connection.NegotiatedSuite);
        _events.OnEstablished();
    }

    void IConnectionObserver.OnClientHelloSent(DtlsConnection connection, bool withCookie)
    {
        if (withCookie)
        {
            Log.ClientHelloWithCookieSent(_logger, _serverEndPoint);
        }
        else
        {
            Log.ClientHelloSent(_logger, _serverEndPoint);
        }
    }

    void IConnectionObserver.OnHelloVerifyRequest(DtlsConnection connection) => Log.HelloVerifyRequestReceived(_logger, _serverEndPoint);

    void IConnectionObserver.OnServerHello(DtlsConnection connection, bool resumed)
    {
        if (resumed)
        {
            Log.ServerHelloResumed(_logger, _serverEndPoint, connection.NegotiatedSuite);
        }
        else
        {
            Log.ServerHelloReceived(_logger, _serverEndPoint, connection.NegotiatedSuite);
        }
    }

    void IConnectionObserver.OnFlightRetransmitted(DtlsConnection connection, int count)
        => Log.FlightRetransmitted(_logger, _serverEndPoint, count);

    /// <summary>The client's handshake and alert instruments (<see cref="DtlsClient"/> sets them), or null.</summary>
    internal Diagnostics.DtlsInstruments? Instruments { get; set; }

    void IConnectionObserver.OnHandshakeEnded(DtlsConnection connection, long startedTimestamp, DtlsCloseReason? closeReason, DtlsError error)
    {
        if (Instruments is not { HandshakesObserved: true } instruments)
        {
            return;
        }
        if (closeReason is { } reason)
        {
            instruments.HandshakeFailed(HandshakeErrorType.Of(reason, error), startedTimestamp);
        }
        else
        {
            instruments.HandshakeCompleted(connection.NegotiatedSuite, connection.IsResumed, startedTimestamp);
        }
    }

    void IConnectionObserver.OnAlert(DtlsConnection connection, AlertLevel level, AlertDescription description, bool sent)
        => Instruments?.Alert((byte)level, description, sent);

    void IConnectionObserver.OnPskLookup(DtlsConnection connection)
    {
    }

    void IConnectionObserver.OnPskStoreFailed(DtlsConnection connection, Exception exception)
    {
    }

    void IConnectionObserver.OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext)
        => _events.OnApplicationData(plaintext);

    void IConnectionObserver.OnClosed(DtlsConnection connection, DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        if (reason is DtlsCloseReason.PeerAlert or DtlsCloseReason.PeerClosed)
        {
            Log.ClientAlertReceived(_logger, _serverEndPoint, alert);
        }
        else if (reason is DtlsCloseReason.HandshakeFailed or DtlsCloseReason.ProtocolError)
        {
            Log.ClientAlertSent(_logger, _serverEndPoint, alert, DtlsErrors.Describe(error));
        }
        Log.ClientClosed(_logger, _serverEndPoint, reason);
        _events.OnClosed(reason, error, alert);
    }

    void IConnectionObserver.OnDropped(DtlsConnection connection, DropReason reason) => _events.OnDropped(reason);

    /// <summary>Frees keys and buffers without sending anything.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }
}
