using System.Net;

namespace HotDtls.Stress;

/// <summary>
/// The server under test, in this process on 127.0.0.1 with the seed's PSK, echoing every datagram back. Its
/// handler counts how sessions end, which the server's own statistics do not break down.
/// </summary>
internal sealed class StressServer : IAsyncDisposable
{
    public const string IdentityHint = "Qt DTLS example server";
    public static readonly byte[] Key = Convert.FromHexString("1a2b3c4d5e6f");

    private readonly DtlsServer _server;

    private StressServer(DtlsServerOptions options)
    {
        Handler = new EchoHandler();
        _server = new DtlsServer(options, Handler);
    }

    public EchoHandler Handler { get; }

    public IPEndPoint EndPoint => _server.LocalEndPoint;

    public DtlsServerStatistics Statistics => _server.Statistics;

    public static async Task<StressServer> StartAsync(Action<DtlsServerOptions> configure)
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskIdentityHint = IdentityHint,
            PskStore = PskStore.Single(Key),
        };
        configure(options);
        var server = new StressServer(options);
        await server._server.StartAsync().ConfigureAwait(false);
        return server;
    }

    public static DtlsClientOptions ClientOptions(string identity) => new() { PskIdentity = identity, PskKey = Key };

    /// <summary>
    /// Waits until the server has received nothing new for <paramref name="quietMs"/> (the kernel's receive queue has
    /// drained), or <paramref name="limit"/> passes. A pacing wait of the stress run, not a synchronisation.
    /// </summary>
    public async Task WaitQuietAsync(int quietMs, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        var last = Statistics.DatagramsReceived;
        while (DateTime.UtcNow < deadline)
        {
            await Task.Delay(quietMs).ConfigureAwait(false);
            var now = Statistics.DatagramsReceived;
            if (now == last)
            {
                return;
            }
            last = now;
        }
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    /// <summary>
    /// Echoes; counts established sessions and closes by reason. The server calls it from one thread at a time;
    /// Interlocked is for the report, which reads the counts from another thread.
    /// </summary>
    internal sealed class EchoHandler : DtlsServerHandler
    {
        private readonly long[] _closed = new long[Enum.GetValues<DtlsCloseReason>().Length];
        private long _established;

        public long Established => Interlocked.Read(ref _established);

        public long Closed(DtlsCloseReason reason) => Interlocked.Read(ref _closed[(int)reason]);

        public override void OnSessionEstablished(DtlsSession session) => Interlocked.Increment(ref _established);

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
            => session.Send(plaintext);

        public override void OnSessionClosed(DtlsSession session, DtlsCloseReason reason)
            => Interlocked.Increment(ref _closed[(int)reason]);
    }
}
