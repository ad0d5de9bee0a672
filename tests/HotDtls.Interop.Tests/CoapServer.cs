using System.Collections.Concurrent;
using System.Net;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>
/// A real <see cref="DtlsServer"/> on a loopback socket acting as a minimal CoAP server for libcoap's clients: each
/// confirmable request is answered with a 2.05 Content piggybacked on its ACK (<see cref="CoapMessage.PiggybackedContent"/>),
/// payload <see cref="ResponseText"/>, so coap-client prints it and exits 0. Key and hint: <see cref="LibCoapTool.Credentials"/>.
/// </summary>
internal sealed class CoapServer : IAsyncDisposable
{
    /// <summary>The payload of every response.</summary>
    public const string ResponseText = "HotDtls says hello over CoAP";

    private CoapServer(DtlsServer server, Handler handler)
    {
        Server = server;
        Events = handler;
    }

    public DtlsServer Server { get; }
    public Handler Events { get; }
    public IPEndPoint EndPoint => Server.LocalEndPoint;

    public static async Task<CoapServer> StartAsync(Action<DtlsServerOptions>? configure = null)
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskIdentityHint = LibCoapTool.Credentials.Hint,
            PskStore = PskStore.Single(LibCoapTool.Credentials.GetKey()),
        };
        configure?.Invoke(options);
        var handler = new Handler();
        var server = new DtlsServer(options, handler);
        await server.StartAsync();
        return new CoapServer(server, handler);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();

    internal sealed class Handler : DtlsServerHandler
    {
        private readonly TaskCompletionSource<DtlsSession> _established = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Each decrypted datagram, parsed (null when it was not a CoAP message).</summary>
        public ConcurrentQueue<(byte[] Datagram, CoapMessage? Message)> Received { get; } = new();

        public Task<DtlsSession> FirstEstablished => _established.Task;

        public override void OnSessionEstablished(DtlsSession session) => _established.TrySetResult(session);

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            var parsed = CoapMessage.TryParse(plaintext, out var message);
            Received.Enqueue((plaintext.ToArray(), parsed ? message : null));
            // Requests have code class 0 and a non-zero code (0.00 is an empty message: a ping, or an ACK).
            if (message is { Type: CoapType.Confirmable, Code: > 0 and < 0x20 })
            {
                session.Send(message.PiggybackedContent(ResponseText).ToBytes());
            }
        }
    }
}
