using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Stress;

/// <summary>
/// One trial: a fresh HotDtls echo server, a relay seeded for this trial, a fresh client; the handshake within the
/// timeout, then each ping sent once and its echo awaited for <see cref="ImpairTrialOptions.EchoWait"/> (DTLS does
/// not retransmit application data, so a lost ping or echo stays lost and is reported, not retried).
/// </summary>
internal static class ImpairTrial
{
    public static async Task<ImpairTrialResult> RunAsync(ImpairPair pair, ImpairSetting setting, int seed, ImpairTrialOptions options)
    {
        var handler = new EchoHandler();
        var serverOptions = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskIdentityHint = PeerCredentials.Default.Hint,
            PskStore = PskStore.Single(PeerCredentials.Default.GetKey()),
            Mtu = setting.Mtu,
            HandshakeTimeout = options.HandshakeTimeout,
        };
        await using var server = new DtlsServer(serverOptions, handler);
        await server.StartAsync().ConfigureAwait(false);
        await using var relay = new LossyUdpRelay(server.LocalEndPoint, setting.Relay with { Seed = seed });

        var result = pair switch
        {
            ImpairPair.OpenSslClient => await RunOpenSslAsync(relay, setting, options).ConfigureAwait(false),
            _ => await RunHotDtlsAsync(relay, setting, options).ConfigureAwait(false),
        };
        return result with { ServerDuplicatesDelivered = handler.Duplicates, Relay = RelayCounts.Of(relay) };
    }

    private static async Task<ImpairTrialResult> RunOpenSslAsync(LossyUdpRelay relay, ImpairSetting setting, ImpairTrialOptions options)
    {
        IReadOnlyList<string>? extra = setting.Mtu < DtlsOptions.DefaultMtu ? ["-mtu", setting.Mtu.ToString(CultureInfo.InvariantCulture)] : null;
        await using var client = OpenSslClientPeer.Start(relay.EndPoint, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, extraArguments: extra);
        using (var handshake = new CancellationTokenSource(options.HandshakeTimeout))
        {
            try
            {
                await client.WaitForHandshakeAsync(handshake.Token).ConfigureAwait(false);
            }
            catch (PeerException)
            {
                return Failed(client.HasExited ? "s_client gave up" : "timeout");
            }
        }
        var handshakeTime = Since(relay.ClientToServer.FirstReceivedTimestamp);

        var answered = new HashSet<string>(StringComparer.Ordinal);
        var notSent = 0;
        for (var i = 0; i < options.Echoes; i++)
        {
            var ping = Ping(i);
            var before = relay.ClientToServer.Received;
            using var wait = new CancellationTokenSource(options.EchoWait);
            try
            {
                await client.SendLineAsync(ping, wait.Token).ConfigureAwait(false);
                // Late echoes of earlier pings count as answered too; s_client prints what it receives back to back.
                while (!answered.Contains(ping))
                {
                    answered.Add(await client.ReceiveLineAsync(wait.Token).ConfigureAwait(false));
                }
            }
            catch (Exception e) when (e is PeerException or OperationCanceledException or IOException)
            {
                // Lost (or s_client exited); the relay's count tells whether s_client even sent it.
            }
            if (relay.ClientToServer.Received == before)
            {
                notSent++;
            }
        }
        return new ImpairTrialResult(handshakeTime, null, options.Echoes, CountPings(answered, options.Echoes), notSent, 0, default);
    }

    private static async Task<ImpairTrialResult> RunHotDtlsAsync(LossyUdpRelay relay, ImpairSetting setting, ImpairTrialOptions options)
    {
        var clientOptions = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
            Mtu = setting.Mtu,
            HandshakeTimeout = options.HandshakeTimeout,
        };
        DtlsClient client;
        try
        {
            client = await DtlsClient.ConnectAsync(relay.EndPoint, clientOptions).ConfigureAwait(false);
        }
        catch (DtlsException e)
        {
            return Failed(e.Alert is { } alert ? $"alert {alert}" : "timeout");
        }
        var handshakeTime = Since(relay.ClientToServer.FirstReceivedTimestamp);

        await using (client.ConfigureAwait(false))
        {
            var answered = new HashSet<string>(StringComparer.Ordinal);
            var buffer = new byte[client.MaxReceiveSize];
            for (var i = 0; i < options.Echoes; i++)
            {
                var ping = Ping(i);
                client.Send(Encoding.UTF8.GetBytes(ping));
                using var wait = new CancellationTokenSource(options.EchoWait);
                try
                {
                    while (!answered.Contains(ping))
                    {
                        var length = await client.ReceiveAsync(buffer, wait.Token).ConfigureAwait(false);
                        answered.Add(Encoding.UTF8.GetString(buffer, 0, length));
                    }
                }
                catch (Exception e) when (e is OperationCanceledException or DtlsException)
                {
                    // This ping or its echo was lost.
                }
            }
            return new ImpairTrialResult(handshakeTime, null, options.Echoes, CountPings(answered, options.Echoes), 0, 0, default);
        }
    }

    private static ImpairTrialResult Failed(string why) => new(null, why, 0, 0, 0, 0, default);

    private static string Ping(int i) => "ping " + i.ToString(CultureInfo.InvariantCulture);

    private static int CountPings(HashSet<string> answered, int echoes)
    {
        var count = 0;
        for (var i = 0; i < echoes; i++)
        {
            count += answered.Contains(Ping(i)) ? 1 : 0;
        }
        return count;
    }

    private static TimeSpan Since(long timestamp) => Stopwatch.GetElapsedTime(timestamp);

    /// <summary>Sends each datagram back as it came; counts datagrams the application saw twice.</summary>
    private sealed class EchoHandler : DtlsServerHandler
    {
        private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
        private readonly Lock _lock = new(); // Guards _seen: one session, but the receive loop and timers may differ in thread.
        private int _duplicates;

        public int Duplicates => Volatile.Read(ref _duplicates);

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            var text = Encoding.UTF8.GetString(plaintext);
            lock (_lock)
            {
                if (!_seen.Add(text))
                {
                    _duplicates++;
                }
            }
            session.Send(plaintext);
        }
    }
}
