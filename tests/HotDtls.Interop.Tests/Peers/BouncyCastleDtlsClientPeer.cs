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
/// BouncyCastle's DTLS 1.2 PSK client (<see cref="DtlsClientProtocol"/>) on a connected UDP socket. The
/// blocking handshake runs on a dedicated thread; after it, a receive pump on another dedicated thread
/// keeps reading (which also lets BouncyCastle answer a retransmitted server flight) and queues the
/// application data for <see cref="ReceiveAsync(CancellationToken)"/>.
/// </summary>
public sealed class BouncyCastleDtlsClientPeer : IAsyncDisposable
{
    private const int ReceiveSliceMillis = 20;

    private readonly Socket _socket;
    private readonly UdpDatagramTransport _transport;
    private readonly InteropPskClient _client;
    private readonly Channel<byte[]> _received = Channel.CreateUnbounded<byte[]>();
    private readonly Lock _dtlsLock = new(); // Serialises Send (test thread) with Receive (pump thread) on _dtls.
    private readonly CancellationTokenSource _stop = new();
    private DtlsTransport? _dtls;
    private Task _pump = Task.CompletedTask;
    private int _disposed;

    private BouncyCastleDtlsClientPeer(Socket socket, UdpDatagramTransport transport, InteropPskClient client)
    {
        _socket = socket;
        _transport = transport;
        _client = client;
    }

    /// <summary>The suite the server chose.</summary>
    public CipherSuite NegotiatedSuite => (CipherSuite)_client.NegotiatedCipherSuite;

    /// <summary>
    /// The Connection IDs the handshake negotiated (RFC 9146), or null if the server did not answer the offer (or
    /// none was made: <see cref="BouncyCastlePeerOptions.ConnectionId"/>). <c>Inbound</c> is the client's own CID, which
    /// the server puts on records to it; <c>Outbound</c> the server's, which the client puts on its records.
    /// </summary>
    public NegotiatedConnectionId? ConnectionId => _client.ConnectionId;

    /// <summary>Alerts raised and received, and the pump's end, for failure messages.</summary>
    public string Diagnostics => string.Join('\n', _client.Events);

    /// <summary>
    /// Handshakes with <paramref name="server"/> offering <paramref name="offeredSuites"/> (in preference
    /// order), DTLS 1.2 only. Returns once the handshake is complete.
    /// </summary>
    /// <exception cref="PeerException">The handshake failed or <paramref name="cancellationToken"/> fired.</exception>
    public static async Task<BouncyCastleDtlsClientPeer> ConnectAsync(IPEndPoint server,
        IReadOnlyList<CipherSuite> offeredSuites, PeerCredentials? credentials = null,
        BouncyCastlePeerOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(offeredSuites);
        credentials ??= PeerCredentials.Default;
        options ??= BouncyCastlePeerOptions.Default;

        var socket = new Socket(server.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(server.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback, 0));
        socket.Connect(server);
        var transport = new UdpDatagramTransport(socket, options.Mtu);
        var client = new InteropPskClient(credentials, offeredSuites.Select(InteropSuites.BouncyCastleValue).ToArray(), options);
        var peer = new BouncyCastleDtlsClientPeer(socket, transport, client);

        var handshake = Task.Factory.StartNew(
            () => new DtlsClientProtocol().Connect(client, transport),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        try
        {
            // Closing the transport makes the blocked Connect throw, which ends the handshake thread.
            using (cancellationToken.Register(transport.Close))
            {
                peer._dtls = await handshake.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e)
        {
            await peer.DisposeAsync().ConfigureAwait(false);
            try
            {
                await handshake.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // Already reported as e.
            }

            var what = cancellationToken.IsCancellationRequested ? "timed out" : "failed";
            throw new PeerException($"BouncyCastle DTLS client handshake with {server} {what}.\n{peer.Diagnostics}", e);
        }

        peer._pump = Task.Factory.StartNew(peer.Pump, CancellationToken.None, TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
        return peer;
    }

    /// <summary>Sends one application-data record (one datagram).</summary>
    public void Send(ReadOnlySpan<byte> data)
    {
        var dtls = _dtls ?? throw new InvalidOperationException("Not connected.");
        lock (_dtlsLock)
        {
            dtls.Send(data);
        }
    }

    /// <summary>Sends <paramref name="text"/> as UTF-8.</summary>
    public void SendText(string text) => Send(Encoding.UTF8.GetBytes(text));

    /// <summary>The next application-data record from the server.</summary>
    /// <exception cref="PeerException">The connection ended or <paramref name="cancellationToken"/> fired first.</exception>
    public Task<byte[]> ReceiveAsync(CancellationToken cancellationToken) =>
        PeerWait.ReadLineAsync(_received.Reader, "data at the BouncyCastle client", () => Diagnostics, cancellationToken);

    /// <summary>The next application-data record, waiting at most <paramref name="timeout"/>.</summary>
    public async Task<byte[]> ReceiveAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await ReceiveAsync(cts.Token).ConfigureAwait(false);
    }

    /// <summary>The next record decoded as UTF-8.</summary>
    public async Task<string> ReceiveTextAsync(CancellationToken cancellationToken) =>
        Encoding.UTF8.GetString(await ReceiveAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Sends close_notify (best effort), stops the pump and closes the socket.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _pump.ConfigureAwait(false);
        try
        {
            lock (_dtlsLock)
            {
                _dtls?.Close(); // close_notify, then closes the transport.
            }
        }
        catch (IOException)
        {
            // Transport already gone.
        }

        _transport.Close();
        _socket.Dispose();
        _stop.Dispose();
    }

    private void Pump()
    {
        var dtls = _dtls!;
        var buffer = new byte[dtls.GetReceiveLimit()];
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                int received;
                lock (_dtlsLock)
                {
                    received = dtls.Receive(buffer, 0, buffer.Length, ReceiveSliceMillis);
                }

                if (received >= 0)
                {
                    _received.Writer.TryWrite(buffer.AsSpan(0, received).ToArray());
                }
            }

            _received.Writer.TryComplete();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            _client.Events.Enqueue("receive ended: " + e.Message);
            _received.Writer.TryComplete(e);
        }
    }

    /// <summary>PSK client offering exactly the configured suites, DTLS 1.2 only.</summary>
    private sealed class InteropPskClient(PeerCredentials credentials, int[] suites, BouncyCastlePeerOptions options)
        : PskTlsClient(new BcTlsCrypto(new SecureRandom()), new BasicTlsPskIdentity(credentials.Identity, credentials.GetKey()))
    {
        public ConcurrentQueue<string> Events { get; } = new();

        public int NegotiatedCipherSuite { get; private set; }

        private byte[]? _offered; // The client's CID as offered in the ClientHello.
        private byte[]? _issued; // The server's CID from its ServerHello.

        public NegotiatedConnectionId? ConnectionId { get; private set; }

        public override int GetHandshakeTimeoutMillis() => (int)options.HandshakeTimeout.TotalMilliseconds;

        public override int GetHandshakeResendTimeMillis() => (int)options.HandshakeResendTime.TotalMilliseconds;

        public override void NotifyHandshakeComplete()
        {
            base.NotifyHandshakeComplete();
            var parameters = m_context.SecurityParameters;
            NegotiatedCipherSuite = parameters.CipherSuite;
            // BouncyCastle sets both CIDs exactly when both hellos carried the extension (RFC 9146 §3).
            ConnectionId = parameters.ConnectionIDLocal is not null && _offered is { } offered && _issued is { } issued
                ? new NegotiatedConnectionId(offered, issued)
                : null;
        }

        public override void ProcessServerExtensions(IDictionary<int, byte[]> serverExtensions)
        {
            base.ProcessServerExtensions(serverExtensions);
            _issued = serverExtensions is null ? null : TlsExtensionsUtilities.GetConnectionIDExtension(serverExtensions);
        }

        // AbstractTlsClient.GetClientExtensions offers connection_id with these bytes when DTLS 1.2 is offered.
        protected override byte[]? GetNewConnectionID()
        {
            _offered = options.ConnectionId is { } cid ? [.. cid] : null;
            return _offered;
        }

        public override void NotifyAlertRaised(short alertLevel, short alertDescription, string message, Exception cause) =>
            Events.Enqueue($"client raised {BcAlertLevel.GetText(alertLevel)} {BcAlertDescription.GetText(alertDescription)}: {message} {cause?.Message}");

        public override void NotifyAlertReceived(short alertLevel, short alertDescription) =>
            Events.Enqueue($"client received {BcAlertLevel.GetText(alertLevel)} {BcAlertDescription.GetText(alertDescription)}");

        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

        protected override int[] GetSupportedCipherSuites() => suites;

        // The IANA code points are BouncyCastle's NamedGroup constants too.
        protected override IList<int> GetSupportedGroups(IList<int> namedGroupRoles) =>
            options.NamedGroups is { } groups ? groups.Select(g => (int)g).ToList() : base.GetSupportedGroups(namedGroupRoles);
    }
}
