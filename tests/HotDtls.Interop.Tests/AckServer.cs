using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace HotDtls.Interop.Tests;

/// <summary>
/// A real <see cref="DtlsServer"/> on a loopback socket with the Qt example's settings (hint "Qt DTLS example
/// server", key 1a2b3c4d5e6f, any identity), answering each datagram with "to (&lt;address&gt;:&lt;port&gt;): ACK" as `hotdtls serve` (and the Qt example) does.
/// </summary>
internal sealed class AckServer : IAsyncDisposable
{
    private AckServer(DtlsServer server, Handler handler)
    {
        Server = server;
        Events = handler;
    }

    public DtlsServer Server { get; }
    public Handler Events { get; }
    public IPEndPoint EndPoint => Server.LocalEndPoint;

    public static async Task<AckServer> StartAsync(Action<DtlsServerOptions>? configure = null)
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskIdentityHint = "Qt DTLS example server",
            PskStore = PskStore.Single(Convert.FromHexString("1a2b3c4d5e6f")),
        };
        configure?.Invoke(options);
        var handler = new Handler();
        var server = new DtlsServer(options, handler);
        await server.StartAsync();
        return new AckServer(server, handler);
    }

    public static string AckFor(IPEndPoint peer) => $"to ({peer.Address}:{peer.Port}): ACK";

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    internal sealed class Handler : DtlsServerHandler
    {
        private readonly TaskCompletionSource<DtlsSession> _established = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<string> Received { get; } = new();
        public ConcurrentQueue<(DtlsSession Session, DtlsCloseReason Reason)> Closed { get; } = new();
        public Task<DtlsSession> FirstEstablished => _established.Task;

        public override void OnSessionEstablished(DtlsSession session) => _established.TrySetResult(session);

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            Received.Enqueue(Encoding.UTF8.GetString(plaintext));
            session.Send(Encoding.UTF8.GetBytes(AckFor(session.RemoteEndPoint)));
        }

        public override void OnSessionClosed(DtlsSession session, DtlsCloseReason reason) => Closed.Enqueue((session, reason));
    }
}
