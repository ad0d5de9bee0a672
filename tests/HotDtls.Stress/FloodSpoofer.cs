using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace HotDtls.Stress;

/// <summary>
/// Flood (a): cookieless ClientHellos as fast as blocking sends go, from <c>senders</c> threads, each moving to a
/// fresh socket on a random 127.x.y.z address every <see cref="DatagramsPerSource"/> datagrams. Every hello has its
/// own client random. Nothing is read: the HelloVerifyRequests pile up in the sockets and vanish with them.
/// </summary>
internal sealed class FloodSpoofer
{
    public const int DatagramsPerSource = 16;

    private long _sent;
    private long _sendErrors;
    private long _sources;
    private long _sentBytes;

    // Interlocked: the sender threads add, the report thread reads while they run.
    public long Sent => Interlocked.Read(ref _sent);

    public long SendErrors => Interlocked.Read(ref _sendErrors);

    public long Sources => Interlocked.Read(ref _sources);

    public long SentBytes => Interlocked.Read(ref _sentBytes);

    /// <summary>Sends <paramref name="count"/> datagrams in all; returns when the last is sent.</summary>
    public Task RunAsync(IPEndPoint server, long count, int senders, int seed)
    {
        var tasks = new Task[senders];
        for (var i = 0; i < senders; i++)
        {
            var share = count / senders + (i < count % senders ? 1 : 0);
            var threadSeed = seed + i;
            tasks[i] = Task.Factory.StartNew(() => Send(server, share, threadSeed), CancellationToken.None,
                TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
        return Task.WhenAll(tasks);
    }

    private void Send(IPEndPoint server, long count, int seed)
    {
        var random = new Random(seed);
        var target = server.Serialize();
        var datagram = new byte[256];
        var clientRandom = new byte[32];
        random.NextBytes(clientRandom);
        var length = StressWire.WriteClientHello(datagram, clientRandom, [], messageSeq: 0, recordSequence: 0);
        Socket? socket = null;
        long bytes = 0;
        try
        {
            for (long i = 0; i < count; i++)
            {
                if (i % DatagramsPerSource == 0)
                {
                    socket?.Dispose();
                    socket = FloodSources.Open(random);
                    Interlocked.Increment(ref _sources);
                }
                // A distinct random per hello, as distinct clients would send: no two hellos are the same bytes.
                BinaryPrimitives.WriteInt64BigEndian(datagram.AsSpan(StressWire.RandomOffset), (seed * 1_000_000_000_000L) + i);
                try
                {
                    socket!.SendTo(datagram.AsSpan(0, length), SocketFlags.None, target);
                    bytes += length;
                    Interlocked.Increment(ref _sent);
                }
                catch (SocketException)
                {
                    Interlocked.Increment(ref _sendErrors);
                }
            }
        }
        finally
        {
            socket?.Dispose();
            Interlocked.Add(ref _sentBytes, bytes);
        }
    }
}
