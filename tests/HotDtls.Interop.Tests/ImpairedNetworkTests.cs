using System.Diagnostics;
using System.Text;
using HotDtls.Interop.Tests.Peers;
using Xunit.Abstractions;

namespace HotDtls.Interop.Tests;

/// <summary>
/// Real peers through the impairment relay at 30 % loss each way (issue 3): OpenSSL's s_client and the HotDtls
/// client against the HotDtls server, with the default 1 200-byte MTU and with a 256-byte path MTU. The handshake
/// must complete and application data must get through. Application data is not retransmitted by DTLS, so each
/// test sends pings until a few answers come back; the full table of rates and times is
/// <c>tests/HotDtls.Stress/impair.sh</c>.
/// </summary>
public sealed class ImpairedNetworkTests(ITestOutputHelper output)
{
    private const double Loss = 0.3;
    private const int AnswersWanted = 3;
    private const int MaxPings = 40;

    // s_client's own timer starts at 1 s and doubles (no option changes it); at 30 % loss a round trip gets through
    // about half the time, so handshake times have a long tail: 5 lost round trips in a row cost 1+2+4+8+16 s. The
    // seeds are fixed, and so are the relay's decisions by datagram index; these seeds take 1–8 s. Of seeds 1–10,
    // s_client needed over 20 s on two (seed 2 lost six ClientHello/HelloVerifyRequest round trips in a row) and 15 s
    // on one; the table in tests/HotDtls.Stress shows the distribution. The timeout is only a backstop.
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan s_pingWait = TimeSpan.FromMilliseconds(500);

    // HotDtls runs with a shorter first timeout than the RFC's 1 s to keep CI quick; the table runs the defaults.
    private static readonly TimeSpan s_retransmit = TimeSpan.FromMilliseconds(250);

    [ToolTheory("openssl")]
    [InlineData(1, 1200)]
    [InlineData(3, 1200)]
    [InlineData(8, 1200)]
    [InlineData(1, 256)]
    [InlineData(8, 256)]
    public async Task OpenSsl_client_completes_and_gets_answers_at_30_percent_loss(int seed, int mtu)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync(o =>
        {
            o.InitialRetransmitTimeout = s_retransmit;
            o.Mtu = mtu;
        });
        // No duplication: OpenSSL 3.0's s_client stops sending application data after it receives a duplicated
        // datagram (docs/interop.md); loss alone is what this test is about.
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions
        {
            DropProbability = Loss,
            MaxDatagramSize = mtu,
            Seed = seed,
            Trace = line => output.WriteLine(line),
        });
        IReadOnlyList<string>? mtuArguments = mtu < DtlsOptions.DefaultMtu ? ["-mtu", mtu.ToString(System.Globalization.CultureInfo.InvariantCulture)] : null;
        await using var client = OpenSslClientPeer.Start(relay.EndPoint, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
            extraArguments: mtuArguments);

        var started = Stopwatch.GetTimestamp();
        await client.WaitForHandshakeAsync(cts.Token);
        var handshake = Stopwatch.GetElapsedTime(started);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);

        var ack = AckServer.AckFor(session.RemoteEndPoint);
        var answers = 0;
        var pings = 0;
        var reply = client.ReceiveTextAsync(ack.Length, cts.Token);
        while (answers < AnswersWanted && pings < MaxPings)
        {
            await client.SendLineAsync($"ping {pings++}", cts.Token);
            await Task.WhenAny(reply, Task.Delay(s_pingWait, cts.Token));
            while (reply.IsCompleted)
            {
                Assert.Equal(ack, await reply);
                answers++;
                reply = client.ReceiveTextAsync(ack.Length, cts.Token);
            }
        }

        var what = $"seed {seed}, MTU {mtu}: handshake {handshake.TotalSeconds:F1} s, {answers} answers to {pings} pings; {relay}";
        output.WriteLine(what);
        Assert.True(answers >= AnswersWanted, what);
        Assert.InRange(server.Events.Received.Count, answers, pings);
        Assert.True(relay.ClientToServer.Dropped + relay.ServerToClient.Dropped > 0, $"the relay should have dropped datagrams; {what}");
        Assert.True(relay.ClientToServer.TooLarge + relay.ServerToClient.TooLarge == 0, $"no peer may exceed the MTU; {what}");
    }

    [Theory]
    [InlineData(1, 1200)]
    [InlineData(3, 1200)]
    [InlineData(8, 1200)]
    [InlineData(1, 256)]
    [InlineData(8, 256)]
    public async Task HotDtls_client_completes_and_gets_answers_at_30_percent_loss(int seed, int mtu)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await AckServer.StartAsync(o =>
        {
            o.InitialRetransmitTimeout = s_retransmit;
            o.Mtu = mtu;
        });
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions
        {
            DropProbability = Loss,
            MaxDatagramSize = mtu,
            Seed = seed,
            Trace = line => output.WriteLine(line),
        });
        var options = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
            InitialRetransmitTimeout = s_retransmit,
            Mtu = mtu,
        };

        var started = Stopwatch.GetTimestamp();
        await using var client = await DtlsClient.ConnectAsync(relay.EndPoint, options, cts.Token);
        var handshake = Stopwatch.GetElapsedTime(started);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);

        var ack = AckServer.AckFor(session.RemoteEndPoint);
        var buffer = new byte[client.MaxReceiveSize];
        var answers = 0;
        var pings = 0;
        while (answers < AnswersWanted && pings < MaxPings)
        {
            client.Send(Encoding.UTF8.GetBytes($"ping {pings++}"));
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            wait.CancelAfter(s_pingWait);
            try
            {
                var length = await client.ReceiveAsync(buffer, wait.Token);
                Assert.Equal(ack, Encoding.UTF8.GetString(buffer, 0, length));
                answers++;
            }
            catch (OperationCanceledException) when (!cts.IsCancellationRequested)
            {
                // This ping or its answer was lost.
            }
        }

        var what = $"seed {seed}, MTU {mtu}: handshake {handshake.TotalSeconds:F1} s, {answers} answers to {pings} pings; {relay}";
        output.WriteLine(what);
        Assert.True(answers >= AnswersWanted, what);
        Assert.InRange(server.Events.Received.Count, answers, pings);
        Assert.True(relay.ClientToServer.Dropped + relay.ServerToClient.Dropped > 0, $"the relay should have dropped datagrams; {what}");
        Assert.True(relay.ClientToServer.TooLarge + relay.ServerToClient.TooLarge == 0, $"no peer may exceed the MTU; {what}");
    }
}
