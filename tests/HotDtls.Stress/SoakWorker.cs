using System.Net;
using System.Net.Sockets;

namespace HotDtls.Stress;

/// <summary>
/// One soak client slot, looping until the deadline over three lives a client can lead:
/// <list type="bullet">
/// <item>polite (50%): <see cref="DtlsClient"/> connects, echoes 1–5 datagrams, disposes (close_notify);</item>
/// <item>abandon (25%): a <see cref="StressPeer"/> connects, echoes, crashes (no close_notify): idle expiry's job;</item>
/// <item>reboot (25%): a <see cref="StressPeer"/> connects from this worker's own address, echoes and crashes; a new
/// <see cref="DtlsClient"/> binds the same address and port (<see cref="DtlsClientOptions.LocalEndPoint"/>),
/// handshakes, echoes and leaves politely. The server must replace the old session (RFC 6347 §4.2.8).</item>
/// </list>
/// </summary>
internal sealed class SoakWorker
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(5);
    private static long s_abandons;
    private readonly IPEndPoint _server;
    private readonly SoakTally _tally;
    private readonly Random _random;
    private readonly IPAddress _rebootAddress;
    private readonly byte[] _payload = new byte[48];
    // A DTLS datagram carries at most 2^14 bytes of plaintext (DtlsClient.MaxReceiveSize).
    private readonly byte[] _buffer = new byte[16384];

    public SoakWorker(IPEndPoint server, SoakTally tally, int index, int seed)
    {
        _server = server;
        _tally = tally;
        _random = new Random(seed);
        // Each worker reboots from its own loopback address, so no two workers ever want the same (address, port).
        _rebootAddress = new IPAddress(new byte[] { 127, 2, (byte)(index / 250), (byte)(1 + (index % 250)) });
        _random.NextBytes(_payload);
    }

    public async Task RunAsync(DateTime deadline)
    {
        while (DateTime.UtcNow < deadline)
        {
            await RunOnceAsync(_random.Next(4)).ConfigureAwait(false);
        }
    }

    /// <summary>0–1 polite, 2 abandon, 3 reboot.</summary>
    public Task RunOnceAsync(int life) => life switch
    {
        2 => AbandonAsync(),
        3 => RebootAsync(),
        _ => PoliteAsync(null),
    };

    private async Task<bool> PoliteAsync(IPEndPoint? local)
    {
        var options = StressServer.ClientOptions("soak polite");
        options.LocalEndPoint = local;
        DtlsClient client;
        using (var timeout = new CancellationTokenSource(s_timeout * 4))
        {
            try
            {
                client = await DtlsClient.ConnectAsync(_server, options, timeout.Token).ConfigureAwait(false);
            }
            catch (DtlsException exception) when (local is not null && exception.InnerException is SocketException
                { SocketErrorCode: SocketError.AddressAlreadyInUse })
            {
                _tally.RebootBindConflict();
                return false;
            }
            catch (Exception exception) when (exception is DtlsException or OperationCanceledException)
            {
                _tally.HandshakeFailed($"polite client: {exception.Message}");
                return false;
            }
        }
        _tally.Handshake();
        await using (client.ConfigureAwait(false))
        {
            for (var i = _random.Next(1, 6); i > 0; i--)
            {
                _tally.Echo(await EchoAsync(client).ConfigureAwait(false));
            }
        }
        _tally.CloseNotify();
        return true;
    }

    private async Task<bool> EchoAsync(DtlsClient client)
    {
        using var timeout = new CancellationTokenSource(s_timeout);
        try
        {
            client.Send(_payload);
            return await client.ReceiveAsync(_buffer, timeout.Token).ConfigureAwait(false) == _payload.Length;
        }
        catch (Exception exception) when (exception is DtlsException or OperationCanceledException)
        {
            return false;
        }
    }

    private async Task AbandonAsync()
    {
        // A fresh address per vanished client (127.64.0.0/10, 4M of them): were it to reuse an ephemeral port of
        // 127.0.0.1, the next client to get that port would be a reboot to the server and replace the session before
        // idle expiry could; that happened ~10% of the time at 1400 handshakes/s. Interlocked: workers share it.
        var n = Interlocked.Increment(ref s_abandons);
        var address = new IPAddress(new byte[] { 127, (byte)(64 + ((n >> 16) & 0x3F)), (byte)(n >> 8), (byte)n });
        using var peer = new StressPeer(new IPEndPoint(address, 0), _server, StressServer.ClientOptions("soak abandon"));
        if (await ConnectAndEchoAsync(peer, "abandoning client").ConfigureAwait(false))
        {
            await peer.CrashAsync().ConfigureAwait(false);
            _tally.Abandon();
        }
    }

    private async Task RebootAsync()
    {
        IPEndPoint local;
        using (var peer = new StressPeer(new IPEndPoint(_rebootAddress, 0), _server, StressServer.ClientOptions("soak reboot")))
        {
            if (!await ConnectAndEchoAsync(peer, "client before reboot").ConfigureAwait(false))
            {
                return;
            }
            local = peer.LocalEndPoint;
            await peer.CrashAsync().ConfigureAwait(false);
        }
        // Back at once from the same address and port, while the server still holds the old session.
        if (await PoliteAsync(local).ConfigureAwait(false))
        {
            _tally.Reboot();
        }
    }

    private async Task<bool> ConnectAndEchoAsync(StressPeer peer, string who)
    {
        if (!await peer.ConnectAsync(s_timeout * 4).ConfigureAwait(false))
        {
            _tally.HandshakeFailed($"{who}: no handshake within {(s_timeout * 4).TotalSeconds} s");
            return false;
        }
        _tally.Handshake();
        for (var i = _random.Next(1, 6); i > 0; i--)
        {
            _tally.Echo(await peer.EchoAsync(_payload, s_timeout).ConfigureAwait(false));
        }
        return true;
    }
}
