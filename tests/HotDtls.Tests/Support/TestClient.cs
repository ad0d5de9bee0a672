using System.Net;
using System.Text;
using HotDtls.Client;
using HotDtls.Connection;
using HotDtls.Handshake;

namespace HotDtls.Tests.Support;

/// <summary>
/// HotDtls's own client engine, run in memory against a <see cref="ServerHarness"/>: the honest peer of engine tests.
/// It has its own address so tests can run several at once.
/// </summary>
internal sealed class TestClient : IClientEvents, IDisposable
{
    public TestClient(ServerHarness server, IPEndPoint address, DtlsClientOptions? options = null, int seed = 7,
        HotDtls.Diagnostics.KeyLogWriter? keyLog = null)
    {
        EndPoint = address;
        Address = address.Serialize();
        Options = options ?? PlainPskOptions(server);
        Options.ValidateClient();
        Engine = new ClientEngine(Options, server.Address, Sender, this, new SeededRandom(seed), keyLog: keyLog);
    }

    /// <summary>
    /// The options most tests were written for: the two plain-PSK AES-GCM suites, so message sizes and transcripts are
    /// those of a PSK handshake. Tests of other suites and groups pass their own (<see cref="OptionsFor"/>).
    /// </summary>
    public static DtlsClientOptions PlainPskOptions(ServerHarness server)
        => OptionsFor(server, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384);

    /// <summary>Client options offering exactly <paramref name="suites"/>, in order.</summary>
    public static DtlsClientOptions OptionsFor(ServerHarness server, params CipherSuite[] suites)
    {
        var options = new DtlsClientOptions
        {
            PskIdentity = "Qt DTLS example client",
            PskKey = ServerHarness.Key,
            TimeProvider = server.Time,
        };
        options.CipherSuites.Clear();
        foreach (var suite in suites)
        {
            options.CipherSuites.Add(suite);
        }
        return options;
    }

    public IPEndPoint EndPoint { get; }
    public SocketAddress Address { get; }
    public DtlsClientOptions Options { get; }
    public CapturingSender Sender { get; } = new();
    public ClientEngine Engine { get; }
    public ClientConnection Connection => Engine.Connection;
    public bool Established { get; private set; }
    public List<string> Received { get; } = [];
    public DtlsCloseReason? ClosedReason { get; private set; }
    public AlertDescription? ClosedAlert { get; private set; }
    public DtlsError ClosedError { get; private set; }
    public int Dropped { get; private set; }

    public void Start() => Engine.Start();

    /// <summary>Processes a datagram from the server (a copy: the engine decrypts in place).</summary>
    public void Deliver(byte[] datagram) => Engine.ProcessDatagram((byte[])datagram.Clone());

    public void Tick() => Engine.OnTick();

    public bool Send(string text) => Engine.TrySend(Encoding.UTF8.GetBytes(text));

    void IClientEvents.OnEstablished() => Established = true;

    void IClientEvents.OnApplicationData(ReadOnlySpan<byte> plaintext) => Received.Add(Encoding.UTF8.GetString(plaintext));

    void IClientEvents.OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        ClosedReason = reason;
        ClosedAlert = alert;
        ClosedError = error;
    }

    void IClientEvents.OnDropped(DropReason reason) => Dropped++;

    public void Dispose() => Engine.Dispose();
}
