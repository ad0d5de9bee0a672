using System.Net;
using System.Text;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Tests.Support;

/// <summary>
/// HotDtls's own client state machine, run in memory against a <see cref="ServerHarness"/>: the honest peer of
/// engine tests. It has its own address so tests can run several at once.
/// </summary>
internal sealed class TestClient : IConnectionObserver, IDisposable
{
    private readonly TimeProvider _time;

    public TestClient(ServerHarness server, IPEndPoint address, DtlsClientOptions? options = null, int seed = 7)
    {
        _time = server.Time;
        EndPoint = address;
        Address = address.Serialize();
        Options = options ?? new DtlsClientOptions
        {
            PskIdentity = "Qt DTLS example client",
            PskKey = ServerHarness.Key,
            TimeProvider = server.Time,
        };
        Options.ValidateClient();
        Connection = new ClientConnection(Options, server.Address, Sender, new byte[20000], this, new SeededRandom(seed),
            _time.GetMonotonicMilliseconds());
    }

    public IPEndPoint EndPoint { get; }
    public SocketAddress Address { get; }
    public DtlsClientOptions Options { get; }
    public CapturingSender Sender { get; } = new();
    public ClientConnection Connection { get; }
    public bool Established { get; private set; }
    public List<string> Received { get; } = [];
    public DtlsCloseReason? ClosedReason { get; private set; }
    public AlertDescription? ClosedAlert { get; private set; }
    public DtlsError ClosedError { get; private set; }
    public int Dropped { get; private set; }

    public void Start() => Connection.Start(_time.GetMonotonicMilliseconds());

    /// <summary>Processes a datagram from the server, as the client's receive loop would.</summary>
    public void Deliver(byte[] datagram)
    {
        var copy = (byte[])datagram.Clone();
        var reader = new DatagramReader(copy);
        while (reader.TryReadRecord(out var header, out var offset))
        {
            if (Connection.ProcessRecord(header, copy.AsSpan(offset, header.Length), _time.GetMonotonicMilliseconds()) == RecordResult.Stop)
            {
                break;
            }
        }
    }

    public void Tick() => Connection.OnTimer(_time.GetMonotonicMilliseconds());

    public bool Send(string text) => Connection.SendApplicationData(Encoding.UTF8.GetBytes(text));

    public void OnEstablished(DtlsConnection connection) => Established = true;

    public void OnPskLookup(DtlsConnection connection)
    {
    }

    public void OnPskStoreFailed(DtlsConnection connection, Exception exception)
    {
    }

    public void OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext)
        => Received.Add(Encoding.UTF8.GetString(plaintext));

    public void OnClosed(DtlsConnection connection, DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        ClosedReason = reason;
        ClosedAlert = alert;
        ClosedError = error;
    }

    public void OnDropped(DtlsConnection connection, DropReason reason) => Dropped++;

    public void Dispose() => Connection.Dispose();
}
