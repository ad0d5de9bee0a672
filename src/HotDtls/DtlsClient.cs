using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using HotDtls.Client;
using HotDtls.Crypto;
using HotDtls.Diagnostics;
using HotDtls.Handshake;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls;

/// <summary>
/// A DTLS 1.2 PSK client on its own connected UDP socket: <see cref="ConnectAsync"/> runs the handshake
/// (answering the server's cookie challenge and retransmitting per RFC 6347 §4.2.4), then datagrams go both
/// ways. Disposing sends close_notify. Thread-safe: sends and receives may come from any thread.
/// </summary>
public sealed class DtlsClient : IAsyncDisposable, IClientEvents, IDatagramSender, IDatagramSendFeedback
{
    /// <summary>Received datagrams waiting for <see cref="ReceiveAsync"/>; beyond this, new ones are dropped as UDP would.</summary>
    public const int ReceiveQueueCapacity = 1024;

    private readonly Socket _socket;
    private readonly ClientEngine _engine;
    private readonly DtlsInstruments _instruments;
    private readonly KeyLogWriter? _keyLog;
    private readonly DtlsClientOptions _options;
    private readonly TaskCompletionSource _established = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<Received> _received = Channel.CreateBounded<Received>(
        new BoundedChannelOptions(ReceiveQueueCapacity) { SingleReader = false, SingleWriter = true, FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private ITimer? _timer;
    private Task? _receiveLoop;
    // Written by the receive loop and the send path, read when the handshake times out; a stale read only changes
    // the wording of that exception.
    private volatile bool _portUnreachable;
    // ICMP port unreachable reports since the server last sent anything. Counted by the receive loop and the send
    // path (whichever system call the kernel hands the error to) with Interlocked; the receive loop resets it, and a
    // reset racing a count only delays the failure by a retransmission.
    private int _refusalsInARow;
    private DtlsException? _closeException;
    private int _disposed;

    private DtlsClient(Socket socket, IPEndPoint remote, DtlsClientOptions options)
    {
        _socket = socket;
        _options = options;
        RemoteEndPoint = remote;
        _keyLog = options.KeyLogPath is { } keyLogPath
            ? KeyLogWriter.Open(keyLogPath, (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("HotDtls.Client"))
            : null;
        _engine = new ClientEngine(options, remote.Serialize(), this, this, SystemRandomSource.Instance, keyLog: _keyLog);
        // Before Start: the handshake's end is the first thing they record.
        _instruments = new DtlsInstruments(options.MeterFactory, MetricNames.Client, remote, options.TimeProvider);
        _engine.Instruments = _instruments;
    }

    /// <summary>This client's instruments (for tests).</summary>
    internal DtlsInstruments Instruments => _instruments;

    /// <summary>The server's address.</summary>
    public IPEndPoint RemoteEndPoint { get; }

    /// <summary>The local address and port the client sends from.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>The negotiated cipher suite; <see langword="null"/> before the ServerHello arrives.</summary>
    public CipherSuite? CipherSuite => _engine.NegotiatedSuite;

    /// <summary>Whether the extended master secret (RFC 7627) protects this session.</summary>
    public bool UsesExtendedMasterSecret => _engine.UsesExtendedMasterSecret;

    /// <summary>
    /// Whether the handshake resumed the session given as <see cref="DtlsClientOptions.Session"/> (the abbreviated
    /// handshake of RFC 5246 §7.3); <see langword="false"/> after a full handshake.
    /// </summary>
    public bool IsResumed => _engine.IsResumed;

    /// <summary>
    /// This session, to resume on a later connection through <see cref="DtlsClientOptions.Session"/>. Call it while
    /// established. The result holds the session's master secret (see <see cref="DtlsSavedSession"/>): dispose it when
    /// done.
    /// </summary>
    /// <returns>
    /// The session, or <see langword="null"/> when the client is not established or the server did not offer
    /// resumption (it sent no session_id; a HotDtls server needs <see cref="DtlsServerOptions.EnableSessionResumption"/>
    /// and the extended master secret).
    /// </returns>
    public DtlsSavedSession? SaveSession() => _engine.SaveSession();

    /// <summary>The psk_identity_hint the server sent, or <see langword="null"/> if it sent none.</summary>
    public string? PskIdentityHint => _engine.IdentityHint is { } hint ? System.Text.Encoding.UTF8.GetString(hint) : null;

    /// <summary>
    /// Whether this client's records carry a Connection ID the server issued (RFC 9146; offered when
    /// <see cref="DtlsClientOptions.ConnectionIdLength"/> is set): the session then survives a change of this client's
    /// address or port. False when the server answered the extension with an empty CID: its records then find the
    /// session by address alone.
    /// </summary>
    public bool UsesConnectionId => _engine.SendsConnectionId;

    /// <summary>Whether the handshake has finished and the session is still open: only then can it send.</summary>
    public bool IsEstablished => _engine.IsEstablished;

    /// <summary>
    /// The largest datagram <see cref="Send"/> takes, in bytes: the DTLS plaintext limit, 2^14, or less when the server
    /// limited the records it receives (record_size_limit, RFC 8449; max_fragment_length, RFC 6066 §4). A datagram is
    /// one record and is never split.
    /// </summary>
    public int MaxSendSize => _engine.MaxSendSize;

    /// <summary>The largest datagram <see cref="ReceiveAsync"/> returns, in bytes: a buffer this large always fits.</summary>
    public int MaxReceiveSize => DtlsSession.MaxPlaintextLength;

    /// <summary>Connects to a DTLS server and completes the handshake.</summary>
    /// <param name="endPoint">The server.</param>
    /// <param name="options">PSK identity and key, suites, timers; validated here.</param>
    /// <param name="cancellationToken">Abandons the handshake.</param>
    /// <exception cref="DtlsException">
    /// The handshake failed; <see cref="DtlsException.Reason"/> says why (no answer within
    /// <see cref="DtlsOptions.HandshakeTimeout"/>, nothing listening, an alert from the server, a wrong key), or
    /// <see cref="DtlsClientOptions.LocalEndPoint"/> cannot be bound.
    /// </exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public static async Task<DtlsClient> ConnectAsync(IPEndPoint endPoint, DtlsClientOptions options,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentNullException.ThrowIfNull(options);
        options.ValidateClient();
        options.ValidateLocalEndPoint(endPoint);
        cancellationToken.ThrowIfCancellationRequested();
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        DtlsClient? client = null;
        try
        {
            if (options.LocalEndPoint is { } local)
            {
                Bind(socket, local);
            }
            socket.Connect(endPoint);
            client = new DtlsClient(socket, endPoint, options);
            client.Start();
            using (cancellationToken.UnsafeRegister(static (state, token) => ((DtlsClient)state!).AbandonHandshake(token), client))
            {
                await client._established.Task.ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            return client;
        }
        catch
        {
            if (client is not null)
            {
                await client.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                socket.Dispose();
            }
            throw;
        }
    }

    private static void Bind(Socket socket, IPEndPoint local)
    {
        try
        {
            socket.Bind(local);
        }
        catch (SocketException exception)
        {
            var (reason, advice) = exception.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => (DtlsExceptionReason.AddressInUse, "the port is in use by another socket"),
                SocketError.AddressNotAvailable => (DtlsExceptionReason.BindFailed, "the address does not belong to this machine"),
                SocketError.AccessDenied => (DtlsExceptionReason.BindFailed, "permission denied: ports below 1024 need privileges"),
                _ => (DtlsExceptionReason.BindFailed, exception.Message),
            };
            throw new DtlsException($"Cannot send from LocalEndPoint {local}: {advice}.", reason, exception);
        }
    }

    private void Start()
    {
        _engine.Start();
        _timer = _options.TimeProvider.CreateTimer(static state => ((DtlsClient)state!)._engine.OnTick(), this,
            ServerEngine.TickInterval, ServerEngine.TickInterval);
        _receiveLoop = Task.Run(ReceiveLoopAsync, CancellationToken.None);
    }

    private void AbandonHandshake(CancellationToken cancellationToken)
    {
        // Cancelled first, so the caller sees an OperationCanceledException rather than the close that follows.
        _established.TrySetCanceled(cancellationToken);
        if (!_engine.IsEstablished)
        {
            _engine.Close();
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = GC.AllocateArray<byte>(ushort.MaxValue, pinned: true);
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionRefused)
            {
                OnPortUnreachable(underEngineLock: false);
                continue;
            }
            catch (SocketException)
            {
                continue;
            }
            Volatile.Write(ref _refusalsInARow, 0);
            _engine.ProcessDatagram(buffer.AsSpan(0, received));
        }
    }

    /// <summary>The number of ICMP port unreachable reports in a row that end a handshake (<see cref="OnPortUnreachable"/>).</summary>
    internal const int UnreachableReportsToFail = 2;

    /// <summary>
    /// ICMP port unreachable for an earlier datagram (Linux reports it on the connected socket's next receive as
    /// ECONNREFUSED). OpenSSL gives up on the first; one report can be stale, though — an answer to a datagram an
    /// earlier socket sent from this port, or to a server a moment before it binds — so the handshake fails on the
    /// second in a row with nothing from the server in between: the first flight and its first retransmission both
    /// refused, about <see cref="DtlsOptions.InitialRetransmitTimeout"/> after the start instead of the whole
    /// <see cref="DtlsOptions.HandshakeTimeout"/>. An established session ignores them: its peer may come back.
    /// </summary>
    private void OnPortUnreachable(bool underEngineLock)
    {
        _portUnreachable = true;
        var count = Interlocked.Increment(ref _refusalsInARow);
        _engine.OnPortUnreachable(count);
        if (count < UnreachableReportsToFail)
        {
            return;
        }
        if (underEngineLock)
        {
            // A send inside the engine (a flight going out) must not close the connection under its feet.
            ThreadPool.UnsafeQueueUserWorkItem(static client => client._engine.FailUnreachable(), this, preferLocal: false);
        }
        else
        {
            _engine.FailUnreachable();
        }
    }

    /// <summary>Sends one datagram, protected, to the server.</summary>
    /// <exception cref="ArgumentException">The datagram is longer than <see cref="MaxSendSize"/>.</exception>
    /// <exception cref="DtlsException">The session is closed; <see cref="DtlsException.Reason"/> says why.</exception>
    public void Send(ReadOnlySpan<byte> datagram)
    {
        if (!TrySend(datagram))
        {
            throw ClosedException();
        }
    }

    /// <summary>Sends one datagram, protected, to the server, if the session is open.</summary>
    /// <returns><see langword="false"/> if the session is closed.</returns>
    /// <exception cref="ArgumentException">The datagram is longer than <see cref="MaxSendSize"/>.</exception>
    public bool TrySend(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > _engine.MaxSendSize)
        {
            ThrowTooLarge(datagram.Length);
        }
        return _engine.TrySend(datagram);
    }

    /// <summary>Sends one datagram (see <see cref="Send"/>); completes at once, as UDP does.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Send(datagram.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits for the next datagram from the server and copies it into <paramref name="buffer"/>.</summary>
    /// <returns>The datagram's length (0 for an empty datagram).</returns>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is smaller than the datagram (which is then lost).</exception>
    /// <exception cref="DtlsException">The session closed (close_notify or an alert from the server, or disposal).</exception>
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Received item;
        try
        {
            item = await _received.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            throw ClosedException();
        }
        try
        {
            if (item.Length > buffer.Length)
            {
                throw new ArgumentException(
                    $"The datagram has {item.Length} bytes but the buffer only {buffer.Length}; pass a buffer of MaxReceiveSize bytes.",
                    nameof(buffer));
            }
            item.Buffer.AsSpan(0, item.Length).CopyTo(buffer.Span);
            return item.Length;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private void ThrowTooLarge(int length)
        => throw new ArgumentException(DtlsSession.TooLargeMessage(length, _engine.MaxSendSize, _engine.PeerLimitsRecordSize), "datagram");

    private DtlsException ClosedException()
        => _closeException ?? new DtlsException("The DTLS session is closed.", DtlsExceptionReason.SessionClosed);

    // Set by a send refused with EMSGSIZE, taken by the connection after it sent; both under the engine's lock.
    private bool _messageTooLarge;

    bool IDatagramSendFeedback.TakeMessageTooLarge()
    {
        var value = _messageTooLarge;
        _messageTooLarge = false;
        return value;
    }

    void IDatagramSender.Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        try
        {
            _socket.Send(datagram, SocketFlags.None);
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionRefused)
        {
            OnPortUnreachable(underEngineLock: true);
        }
        catch (SocketException exception) when (exception.SocketErrorCode == SocketError.MessageSize)
        {
            // Larger than the path allows: the handshake steps its path MTU down (IDatagramSendFeedback).
            _messageTooLarge = true;
        }
        catch (SocketException)
        {
            // A lost datagram: retransmission covers it.
        }
        catch (ObjectDisposedException)
        {
        }
    }

    void IClientEvents.OnEstablished() => _established.TrySetResult();

    void IClientEvents.OnApplicationData(ReadOnlySpan<byte> plaintext)
    {
        var copy = ArrayPool<byte>.Shared.Rent(Math.Max(plaintext.Length, 1));
        plaintext.CopyTo(copy);
        if (!_received.Writer.TryWrite(new Received(copy, plaintext.Length)))
        {
            ArrayPool<byte>.Shared.Return(copy);
        }
    }

    void IClientEvents.OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        _closeException = DescribeClose(reason, error, alert);
        _received.Writer.TryComplete();
        _established.TrySetException(_closeException);
    }

    void IClientEvents.OnDropped(DropReason reason)
    {
    }

    /// <summary>The exception a closed session throws: what happened, what to check, and the machine-readable reason.</summary>
    private DtlsException DescribeClose(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        const string checkKey = " Check the PSK identity and key.";
        var keyAlert = alert is AlertDescription.DecryptError or AlertDescription.BadRecordMac or AlertDescription.UnknownPskIdentity;
        var (why, message) = reason switch
        {
            DtlsCloseReason.PeerClosed => (DtlsExceptionReason.PeerClosed,
                $"The server {RemoteEndPoint} closed the session (close_notify)."),
            DtlsCloseReason.PeerAlert => (keyAlert ? DtlsExceptionReason.WrongKey : DtlsExceptionReason.AlertReceived,
                $"The server {RemoteEndPoint} ended the session with fatal alert {alert}." + (keyAlert ? checkKey
                    : alert == AlertDescription.HandshakeFailure && !IsEstablished
                        ? " The server accepts none of the offered cipher suites (DtlsClientOptions.CipherSuites; CBC suites need encrypt_then_mac, ECDHE_PSK suites a common group in NamedGroups)."
                        : string.Empty)),
            DtlsCloseReason.HandshakeFailed => (error is DtlsError.FinishedMismatch or DtlsError.BadRecordMac
                    ? DtlsExceptionReason.WrongKey : DtlsExceptionReason.HandshakeFailed,
                $"The handshake with {RemoteEndPoint} failed: {DtlsErrors.Describe(error)}."),
            DtlsCloseReason.PeerUnreachable => (DtlsExceptionReason.Unreachable,
                $"No DTLS server at {RemoteEndPoint}: the host reports that nothing listens on that port (ICMP port unreachable for the first flight and its retransmission). Check the address and the port."),
            DtlsCloseReason.HandshakeTimeout when _portUnreachable => (DtlsExceptionReason.Unreachable,
                $"No DTLS server answered at {RemoteEndPoint} within {_options.HandshakeTimeout.TotalSeconds:0.#} s: the host reports that nothing listens on that port."),
            DtlsCloseReason.HandshakeTimeout => (DtlsExceptionReason.HandshakeTimeout,
                $"The handshake with {RemoteEndPoint} did not complete within {_options.HandshakeTimeout.TotalSeconds:0.#} s: no answer, or a server with a different PSK key that drops our records. Check the address, the port and the key."),
            DtlsCloseReason.LocalClose => (DtlsExceptionReason.LocalClose, "The DTLS session was closed by this client."),
            _ => (DtlsExceptionReason.SessionClosed, $"The DTLS session with {RemoteEndPoint} ended ({reason})."),
        };
        return new DtlsException(message, why) { Alert = alert };
    }

    /// <summary>Sends close_notify (if established), stops the receive loop and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _engine.Close();
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
        _instruments.Dispose();
        _keyLog?.Dispose();
        while (_received.Reader.TryRead(out var item))
        {
            ArrayPool<byte>.Shared.Return(item.Buffer);
        }
        _stopping.Dispose();
    }

    private readonly record struct Received(byte[] Buffer, int Length);
}
