using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;
using BcAlertDescription = Org.BouncyCastle.Tls.AlertDescription;
using BcAlertLevel = Org.BouncyCastle.Tls.AlertLevel;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// BouncyCastle's DTLS 1.2 PSK server (<see cref="DtlsServerProtocol"/>) serving one client on a UDP socket
/// bound to 127.0.0.1, echoing every application-data record it receives.
/// </summary>
/// <remarks>
/// Cookie exchange comes first: each ClientHello goes to <see cref="DtlsVerifier.VerifyRequest"/>, which
/// answers a cookie-less or wrong-cookie hello with a HelloVerifyRequest and returns the
/// <see cref="DtlsRequest"/> once the cookie is right. The socket is then connected to that client and
/// the handshake continues in <see cref="DtlsServerProtocol.Accept(TlsServer, DatagramTransport, DtlsRequest)"/>.
/// Everything blocking runs on one dedicated thread; disposal closes the socket, which ends it.
/// <para>
/// With <see cref="BouncyCastlePeerOptions.ConnectionId"/> set the socket stays unconnected instead, and once a
/// non-empty CID of this server's is negotiated the server follows the client to a new address the way RFC 9146 §6
/// allows: when a record from there is authentic, carries the CID and is the newest yet (BouncyCastle's
/// <see cref="DtlsRecordFlags"/>), later records go to that address (<see cref="PeerEndPoint"/>,
/// <see cref="PeerAddressChanges"/>).
/// </para>
/// </remarks>
public sealed class BouncyCastleDtlsServerPeer : IAsyncDisposable
{
    private const int ReceiveSliceMillis = 50;

    private readonly Socket _socket;
    private readonly InteropPskServer _server;
    private readonly BouncyCastlePeerOptions _options;
    private readonly TaskCompletionSource<CipherSuite> _handshake =
        new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<byte[]> _received = Channel.CreateUnbounded<byte[]>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _run;
    private volatile UdpDatagramTransport? _transport;
    private volatile IPEndPoint? _connectedPeer;
    private int _echoed;
    private int _peerAddressChanges;
    private int _helloVerifyRequests;
    private int _disposed;

    private BouncyCastleDtlsServerPeer(Socket socket, InteropPskServer server, BouncyCastlePeerOptions options)
    {
        _socket = socket;
        _server = server;
        _options = options;
        EndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _run = Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>Where the server listens. It is bound before <see cref="Start"/> returns, so it is ready at once.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Completes with the negotiated suite when the handshake completes; faults if it fails.</summary>
    public Task<CipherSuite> HandshakeCompleted => _handshake.Task;

    /// <summary>Completes when the server thread ends (client closed, failure, or disposal).</summary>
    public Task Completion => _run;

    /// <summary>HelloVerifyRequests sent (one per ClientHello without a valid cookie).</summary>
    public int HelloVerifyRequestsSent => Volatile.Read(ref _helloVerifyRequests);

    /// <summary>Records echoed back so far.</summary>
    public int EchoedRecords => Volatile.Read(ref _echoed);

    /// <summary>
    /// The Connection IDs the handshake negotiated (RFC 9146), or null before the handshake completes and when the
    /// client offered none or <see cref="BouncyCastlePeerOptions.ConnectionId"/> was null. <c>Inbound</c> is the CID this
    /// server issued (the client puts it on its records); <c>Outbound</c> the client's, which this server puts on its records.
    /// </summary>
    public NegotiatedConnectionId? ConnectionId => _server.ConnectionId;

    /// <summary>Where the server sends: the verified client's address, then wherever it followed the client to.</summary>
    public IPEndPoint? PeerEndPoint => (IPEndPoint?)_transport?.Peer ?? _connectedPeer;

    /// <summary>How many times the server moved to a new client address (RFC 9146 §6); always 0 without a CID.</summary>
    public int PeerAddressChanges => Volatile.Read(ref _peerAddressChanges);

    /// <summary>Alerts raised and received and how the server thread ended, for failure messages.</summary>
    public string Diagnostics => string.Join('\n', _server.Events);

    /// <summary>
    /// Starts a server on 127.0.0.1 (a port the kernel picks) accepting <paramref name="suites"/>, any
    /// PSK identity with <paramref name="credentials"/>' key, and sending its identity hint.
    /// </summary>
    public static BouncyCastleDtlsServerPeer Start(IReadOnlyList<CipherSuite> suites, PeerCredentials? credentials = null,
        BouncyCastlePeerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(suites);
        credentials ??= PeerCredentials.Default;
        options ??= BouncyCastlePeerOptions.Default;
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var server = new InteropPskServer(credentials, suites.Select(InteropSuites.BouncyCastleValue).ToArray(), options);
        return new BouncyCastleDtlsServerPeer(socket, server, options);
    }

    /// <summary>Waits for the handshake; returns the negotiated suite.</summary>
    /// <exception cref="PeerException">The handshake failed or <paramref name="cancellationToken"/> fired first.</exception>
    public async Task<CipherSuite> WaitForHandshakeAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await PeerWait.ForAsync(_handshake.Task, "BouncyCastle server handshake", () => Diagnostics, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is not PeerException)
        {
            throw new PeerException("BouncyCastle server handshake failed.\n" + Diagnostics, e);
        }
    }

    /// <summary>The next application-data record the server received (and echoed).</summary>
    public Task<byte[]> ReceiveAsync(CancellationToken cancellationToken) =>
        PeerWait.ReadLineAsync(_received.Reader, "data at the BouncyCastle server", () => Diagnostics, cancellationToken);

    /// <summary>The next received record decoded as UTF-8.</summary>
    public async Task<string> ReceiveTextAsync(CancellationToken cancellationToken) =>
        Encoding.UTF8.GetString(await ReceiveAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Stops the server thread and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _transport?.Close();
        await _run.ConfigureAwait(false);
        _socket.Dispose();
        _stop.Dispose();
    }

    private void Run()
    {
        try
        {
            var request = WaitForVerifiedClientHello(out var client);
            if (request is null)
            {
                _handshake.TrySetCanceled();
                return;
            }

            UdpDatagramTransport transport;
            if (_options.ConnectionId is null)
            {
                _socket.Connect(client);
                _connectedPeer = (IPEndPoint)client;
                transport = new UdpDatagramTransport(_socket, _options.Mtu);
            }
            else
            {
                transport = new UdpDatagramTransport(_socket, _options.Mtu, peer: client);
            }
            _transport = transport;
            if (_stop.IsCancellationRequested)
            {
                transport.Close();
            }

            var dtls = new DtlsServerProtocol().Accept(_server, transport, request);
            // RFC 9146 §6: only a CID of ours can show that a record from a new address belongs to this connection.
            transport.AcceptAnySource = _server.ConnectionId is { Inbound.Length: > 0 };
            _handshake.TrySetResult((CipherSuite)_server.NegotiatedCipherSuite);
            Echo(dtls, transport);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            _server.Events.Enqueue("server ended: " + e.Message);
            if (!_handshake.TrySetException(new PeerException("BouncyCastle server handshake failed.\n" + Diagnostics, e)))
            {
                _received.Writer.TryComplete(e);
            }
        }
        finally
        {
            _received.Writer.TryComplete();
        }
    }

    /// <summary>Runs ClientHellos through the DtlsVerifier until one carries the right cookie.</summary>
    private DtlsRequest? WaitForVerifiedClientHello(out EndPoint client)
    {
        var verifier = new DtlsVerifier(_server.Crypto);
        var buffer = new byte[ushort.MaxValue];
        client = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            if (!_socket.Poll(TimeSpan.FromMilliseconds(ReceiveSliceMillis), SelectMode.SelectRead))
            {
                continue;
            }

            EndPoint from = new IPEndPoint(IPAddress.Any, 0);
            int length;
            try
            {
                length = _socket.ReceiveFrom(buffer, ref from);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused)
            {
                continue; // ICMP error for an earlier HelloVerifyRequest.
            }

            // The cookie binds the client's address: the verifier MACs this "client ID" with the hello.
            var clientId = Encoding.ASCII.GetBytes(from.ToString()!);
            var sender = new SendToDatagramSender(_socket, from, _options.Mtu);
            var request = verifier.VerifyRequest(clientId, buffer, 0, length, sender);
            Interlocked.Add(ref _helloVerifyRequests, sender.Sent);
            if (request is not null)
            {
                client = from;
                return request;
            }
        }

        return null;
    }

    private void Echo(DtlsTransport dtls, UdpDatagramTransport transport)
    {
        var buffer = new byte[dtls.GetReceiveLimit()];
        // Runs on this thread for each record BouncyCastle accepted, inside Receive: LastSource is that record's.
        void FollowPeer(DtlsRecordFlags flags)
        {
            const DtlsRecordFlags newestWithCid = DtlsRecordFlags.IsNewest | DtlsRecordFlags.UsesConnectionID;
            if ((flags & newestWithCid) == newestWithCid && transport.LastSource is { } source && !source.Equals(transport.Peer))
            {
                _server.Events.Enqueue($"client moved: {transport.Peer} → {source}");
                transport.Peer = source;
                Interlocked.Increment(ref _peerAddressChanges);
            }
        }

        while (!_stop.IsCancellationRequested)
        {
            var received = dtls.Receive(buffer, 0, buffer.Length, ReceiveSliceMillis, FollowPeer);
            if (received < 0)
            {
                continue;
            }

            // Counted and reported before the echo goes out, so a test that has the echo sees the count.
            Interlocked.Increment(ref _echoed);
            _received.Writer.TryWrite(buffer.AsSpan(0, received).ToArray());
            dtls.Send(buffer, 0, received);
        }
    }

    /// <summary>PSK server with the configured suites, DTLS 1.2 only, any identity accepted.</summary>
    private sealed class InteropPskServer(PeerCredentials credentials, int[] suites, BouncyCastlePeerOptions options)
        : PskTlsServer(new BcTlsCrypto(new SecureRandom()), new AnyIdentityManager(credentials))
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public int NegotiatedCipherSuite { get; private set; }

        private byte[]? _offered; // The client's CID from its ClientHello.
        private byte[]? _issued; // This server's CID as sent in the ServerHello.

        public NegotiatedConnectionId? ConnectionId { get; private set; }

        public override int GetHandshakeTimeoutMillis() => (int)options.HandshakeTimeout.TotalMilliseconds;

        public override int GetHandshakeResendTimeMillis() => (int)options.HandshakeResendTime.TotalMilliseconds;

        public override void NotifyHandshakeComplete()
        {
            base.NotifyHandshakeComplete();
            var parameters = m_context.SecurityParameters;
            NegotiatedCipherSuite = parameters.CipherSuite;
            // BouncyCastle sets both CIDs exactly when both hellos carried the extension (RFC 9146 §3).
            ConnectionId = parameters.ConnectionIDLocal is not null && _issued is { } issued && _offered is { } offered
                ? new NegotiatedConnectionId(issued, offered)
                : null;
            var identity = m_context.SecurityParameters.PskIdentity;
            Events.Enqueue("handshake complete, PSK identity: " + (identity is null ? "(none)" : Encoding.UTF8.GetString(identity)));
        }

        public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause) =>
            Events.Enqueue($"server raised {BcAlertLevel.GetText(alertLevel)} {BcAlertDescription.GetText(alertDescription)}: {message} {cause?.Message}");

        public override void NotifyAlertReceived(short alertLevel, short alertDescription) =>
            Events.Enqueue($"server received {BcAlertLevel.GetText(alertLevel)} {BcAlertDescription.GetText(alertDescription)}");

        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

        protected override int[] GetSupportedCipherSuites() => suites;

        // AbstractTlsServer.GetServerExtensionsForConnection asks for this only when the client offered connection_id
        // (and DTLS 1.2 was negotiated); null declines.
        protected override byte[]? GetNewConnectionID()
        {
            _issued = options.ConnectionId is { } cid ? [.. cid] : null;
            return _issued;
        }

        public override void ProcessClientExtensions(IDictionary<int, byte[]> clientExtensions)
        {
            base.ProcessClientExtensions(clientExtensions);
            _offered = clientExtensions is null ? null : TlsExtensionsUtilities.GetConnectionIDExtension(clientExtensions);
        }
    }

    private sealed class AnyIdentityManager(PeerCredentials credentials) : TlsPskIdentityManager
    {
        private readonly byte[] _hint = Encoding.UTF8.GetBytes(credentials.Hint);
        private readonly byte[] _key = credentials.GetKey();

        public byte[] GetHint() => _hint;

        public byte[] GetPsk(byte[] identity) => _key;
    }
}
