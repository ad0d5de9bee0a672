using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;

namespace HotDtls.Stress;

/// <summary>
/// The honest client of a flood: a public <see cref="DtlsClient"/> that connects while the flood runs, then
/// echoes a numbered datagram every <c>interval</c> until told to stop, measuring handshake time, delivery and
/// round trips.
/// </summary>
internal sealed class StressHonestClient
{
    // Loopback answers in about a millisecond; a reply later than this is counted if it arrives while the next is awaited.
    private static readonly TimeSpan s_echoTimeout = TimeSpan.FromMilliseconds(250);
    private readonly List<double> _roundTripsMs = [];

    public double HandshakeMs { get; private set; }

    public bool Connected { get; private set; }

    public string? Error { get; private set; }

    private long _sent;

    // Interlocked (with _received): the flood reads them while the echo loop runs.
    public long Sent => Interlocked.Read(ref _sent);

    private long _received;

    /// <summary>Echoes that came back, in time or late (a late one is counted when it arrives).</summary>
    public long Received => Interlocked.Read(ref _received);

    public double Delivery => Sent == 0 ? 0 : (double)Received / Sent;

    public double RoundTripPercentileMs(double percentile)
    {
        if (_roundTripsMs.Count == 0)
        {
            return double.NaN;
        }
        _roundTripsMs.Sort();
        var index = (int)Math.Min(_roundTripsMs.Count - 1, Math.Ceiling(percentile / 100 * _roundTripsMs.Count) - 1);
        return _roundTripsMs[Math.Max(0, index)];
    }

    /// <summary>Connects (as soon as called) and echoes until <paramref name="stop"/>; never throws.</summary>
    public async Task RunAsync(IPEndPoint server, string identity, TimeSpan interval, CancellationToken stop)
    {
        var clock = Stopwatch.StartNew();
        DtlsClient client;
        try
        {
            // The handshake gets its own limit (the client's HandshakeTimeout), not the phase's end.
            client = await DtlsClient.ConnectAsync(server, StressServer.ClientOptions(identity), CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (DtlsException exception)
        {
            Error = exception.Message;
            return;
        }
        HandshakeMs = clock.Elapsed.TotalMilliseconds;
        Connected = true;
        await using (client.ConfigureAwait(false))
        {
            await EchoLoopAsync(client, interval, stop).ConfigureAwait(false);
        }
    }

    private async Task EchoLoopAsync(DtlsClient client, TimeSpan interval, CancellationToken stop)
    {
        var payload = new byte[32];
        var buffer = new byte[client.MaxReceiveSize];
        long sequence = 0;
        while (!stop.IsCancellationRequested)
        {
            sequence++;
            BinaryPrimitives.WriteInt64BigEndian(payload, sequence);
            var started = Stopwatch.GetTimestamp();
            try
            {
                client.Send(payload);
            }
            catch (DtlsException exception)
            {
                Error = exception.Message;
                return;
            }
            Interlocked.Increment(ref _sent);
            // The last echo is waited for even when the phase ends meanwhile: it was sent, so it counts.
            using (var timeout = new CancellationTokenSource(s_echoTimeout))
            {
                try
                {
                    while (true)
                    {
                        var length = await client.ReceiveAsync(buffer, timeout.Token).ConfigureAwait(false);
                        Interlocked.Increment(ref _received);
                        if (length == payload.Length && BinaryPrimitives.ReadInt64BigEndian(buffer) == sequence)
                        {
                            _roundTripsMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                            break;
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    // Lost (or late): counted by Sent - Received.
                }
                catch (DtlsException exception)
                {
                    Error = exception.Message;
                    return;
                }
            }
            try
            {
                await Task.Delay(interval, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }
}
