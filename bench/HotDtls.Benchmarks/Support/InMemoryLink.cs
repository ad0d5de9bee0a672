using System.Net;
using HotDtls.Client;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Benchmarks.Support;

/// <summary>
/// A <see cref="ServerEngine"/> and HotDtls's own <see cref="ClientEngine"/> joined in memory, as the engine tests
/// join them (tests/HotDtls.Tests/Support: ServerHarness, TestClient, Exchange) but without their per-datagram copies
/// and lists: datagrams move through <see cref="DatagramQueue"/>s allocated once. Real clock, real randomness, the
/// Qt example's settings (hint "Qt DTLS example server", key 1a2b3c4d5e6f, any identity).
/// </summary>
internal sealed class InMemoryLink : IDisposable
{
    public static readonly byte[] Key = Convert.FromHexString("1a2b3c4d5e6f");

    private readonly DtlsClientOptions _clientOptions;
    private readonly ClientEvents _clientEvents = new();
    // One scratch buffer for every client this link creates: they run one at a time.
    private readonly byte[] _clientScratch = new byte[ClientEngine.ScratchLength];

    /// <param name="suite">The one suite both sides offer, so the handshake negotiates it.</param>
    /// <param name="group">
    /// For an ECDHE_PSK suite, the one group both sides offer (so the exchange uses it); null keeps the library's
    /// default (X25519, then P-256), which negotiates X25519.
    /// </param>
    /// <param name="connectionIdLength">The client's <see cref="DtlsClientOptions.ConnectionIdLength"/>: null offers no CID.</param>
    /// <param name="cluster">Makes the server a cluster node with these options (its keys given inline), or null.</param>
    public InMemoryLink(CipherSuite suite, NamedGroup? group = null, int? connectionIdLength = null, DtlsClusterOptions? cluster = null)
    {
        var serverOptions = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskIdentityHint = "Qt DTLS example server",
            PskStore = PskStore.Single(Key),
        };
        serverOptions.CipherSuites.Clear();
        serverOptions.CipherSuites.Add(suite);
        _clientOptions = new DtlsClientOptions
        {
            PskIdentity = "Qt DTLS example client",
            PskKey = Key,
            ConnectionIdLength = connectionIdLength,
        };
        _clientOptions.CipherSuites.Clear();
        _clientOptions.CipherSuites.Add(suite);
        if (group is { } g)
        {
            serverOptions.NamedGroups.Clear();
            serverOptions.NamedGroups.Add(g);
            _clientOptions.NamedGroups.Clear();
            _clientOptions.NamedGroups.Add(g);
        }
        serverOptions.Cluster = cluster;
        serverOptions.ValidateServer();
        _clientOptions.ValidateClient();

        ServerAddress = serverOptions.EndPoint.Serialize();
        ClientAddress = new IPEndPoint(IPAddress.Loopback, 40000).Serialize();
        ServerOutput = new ServerOutlet(ToClient);
        ClusterKeys = cluster is null ? null : HotDtls.Cluster.ClusterKeyRing.Create(cluster);
        Engine = new ServerEngine(serverOptions, Handler, ServerOutput, NullLogger.Instance, SystemRandomSource.Instance,
            clusterKeys: ClusterKeys);
        Options = serverOptions;
    }

    public ServerEngine Engine { get; }
    public DtlsServerOptions Options { get; }
    public HotDtls.Cluster.ClusterKeyRing? ClusterKeys { get; }
    public BenchHandler Handler { get; } = new();
    public SocketAddress ServerAddress { get; }
    public SocketAddress ClientAddress { get; }

    /// <summary>What the client sent and the server has not processed yet.</summary>
    public DatagramQueue ToServer { get; } = new();

    /// <summary>What the server sent and the client has not processed yet (unless the server's output is discarded).</summary>
    public DatagramQueue ToClient { get; } = new();

    /// <summary>The server's sender: to <see cref="ToClient"/>, or counted and dropped.</summary>
    public ServerOutlet ServerOutput { get; }

    /// <summary>
    /// Runs one full handshake (ClientHello, HelloVerifyRequest, ClientHello with cookie, flights 4–6) for a new client
    /// and returns it established; the server's session is <see cref="BenchHandler.LastEstablished"/>.
    /// </summary>
    public ClientEngine Handshake()
    {
        var client = new ClientEngine(_clientOptions, ServerAddress, ToServer, _clientEvents, SystemRandomSource.Instance,
            _clientScratch);
        client.Start();
        for (var round = 0; round < 8 && (ToServer.Count > 0 || ToClient.Count > 0); round++)
        {
            for (var i = 0; i < ToServer.Count; i++)
            {
                Engine.ProcessDatagram(ClientAddress, ToServer[i]);
            }
            ToServer.Clear();
            for (var i = 0; i < ToClient.Count; i++)
            {
                client.ProcessDatagram(ToClient[i]);
            }
            ToClient.Clear();
        }
        if (!client.IsEstablished)
        {
            throw new InvalidOperationException($"The handshake did not complete (client state {client.Connection.State}).");
        }
        return client;
    }

    public void Dispose() => Engine.Dispose();

    /// <summary>The client's owner: a handshake benchmark only needs the engine's own state.</summary>
    private sealed class ClientEvents : IClientEvents
    {
        public void OnEstablished()
        {
        }

        public void OnApplicationData(ReadOnlySpan<byte> plaintext)
        {
        }

        public void OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
        {
        }

        public void OnDropped(DropReason reason)
        {
        }
    }
}

/// <summary>
/// The server's <see cref="IDatagramSender"/>. While <see cref="Discard"/> is false it queues datagrams for the client;
/// once true it neither copies nor keeps anything and only counts, as a socket send hands the bytes to the kernel —
/// for benchmarks of the server's receive → reply path rather than of the transport.
/// </summary>
internal sealed class ServerOutlet(DatagramQueue toClient) : IDatagramSender
{
    public bool Discard { get; set; }

    public long DiscardedDatagrams { get; private set; }

    public long DiscardedBytes { get; private set; }

    public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        if (Discard)
        {
            DiscardedDatagrams++;
            DiscardedBytes += datagram.Length;
            return;
        }
        toClient.Send(datagram, peer);
    }
}

/// <summary>The application: remembers the last session established and, when asked to, echoes each datagram.</summary>
internal sealed class BenchHandler : DtlsServerHandler
{
    public bool Echo { get; set; }

    public long Datagrams { get; private set; }

    public DtlsSession? LastEstablished { get; private set; }

    public override void OnSessionEstablished(DtlsSession session) => LastEstablished = session;

    public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
    {
        Datagrams++;
        if (Echo)
        {
            session.TrySend(plaintext);
        }
    }
}
