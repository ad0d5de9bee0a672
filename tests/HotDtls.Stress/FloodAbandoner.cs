using System.Net;
using System.Net.Sockets;

namespace HotDtls.Stress;

/// <summary>
/// Flood (b): handshakes that pass the cookie check and are then abandoned. Each one, from its own fresh
/// 127.x.y.z source: ClientHello, read the HelloVerifyRequest, ClientHello with the cookie, read the first datagram of
/// the server's flight 4 (ServerHello...), close the socket. The server now holds a half-open handshake that will
/// never finish; it must keep at most MaxHandshakesInProgress of them, evicting the oldest.
/// </summary>
internal sealed class FloodAbandoner
{
    private const int Attempts = 4;
    private const int ReceiveTimeoutMs = 500;

    private long _next;
    private long _abandoned;
    private long _failed;

    // Interlocked: worker threads add, the report thread reads while they run.
    public long Abandoned => Interlocked.Read(ref _abandoned);

    /// <summary>Tries that got no HelloVerifyRequest or no flight 4 after <see cref="Attempts"/> sends.</summary>
    public long Failed => Interlocked.Read(ref _failed);

    public Task RunAsync(IPEndPoint server, long count, int workers, int seed)
    {
        var tasks = new Task[workers];
        for (var i = 0; i < workers; i++)
        {
            var workerSeed = seed + i;
            tasks[i] = Task.Factory.StartNew(() => Work(server, count, workerSeed), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        return Task.WhenAll(tasks);
    }

    private void Work(IPEndPoint server, long count, int seed)
    {
        var random = new Random(seed);
        var datagram = new byte[512];
        var reply = new byte[4096];
        var clientRandom = new byte[32];
        while (Interlocked.Increment(ref _next) <= count)
        {
            random.NextBytes(clientRandom);
            if (TryAbandonOne(server, random, clientRandom, datagram, reply))
            {
                Interlocked.Increment(ref _abandoned);
            }
            else
            {
                Interlocked.Increment(ref _failed);
            }
        }
    }

    private static bool TryAbandonOne(IPEndPoint server, Random random, byte[] clientRandom, byte[] datagram, byte[] reply)
    {
        using var socket = FloodSources.Open(random);
        // Connected: the kernel filters out anything not from the server.
        socket.Connect(server);
        socket.ReceiveTimeout = ReceiveTimeoutMs;
        var length = StressWire.WriteClientHello(datagram, clientRandom, [], messageSeq: 0, recordSequence: 0);
        Span<byte> cookie = stackalloc byte[255];
        var cookieLength = -1;
        for (var attempt = 0; attempt < Attempts && cookieLength < 0; attempt++)
        {
            socket.Send(datagram.AsSpan(0, length), SocketFlags.None);
            if (TryReceive(socket, reply, out var received) && StressWire.TryReadCookie(reply.AsSpan(0, received), out var found))
            {
                found.CopyTo(cookie);
                cookieLength = found.Length;
            }
        }
        if (cookieLength < 0)
        {
            return false;
        }
        // RFC 6347 §4.2.2: the second ClientHello is message_seq 1; its record takes the next sequence number.
        length = StressWire.WriteClientHello(datagram, clientRandom, cookie[..cookieLength], messageSeq: 1, recordSequence: 1);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            socket.Send(datagram.AsSpan(0, length), SocketFlags.None);
            if (TryReceive(socket, reply, out var received) && StressWire.IsServerHelloFlight(reply.AsSpan(0, received)))
            {
                return true; // ...and go silent: the socket closes here.
            }
        }
        return false;
    }

    private static bool TryReceive(Socket socket, byte[] buffer, out int received)
    {
        try
        {
            received = socket.Receive(buffer, SocketFlags.None);
            return true;
        }
        catch (SocketException)
        {
            received = 0;
            return false;
        }
    }
}
