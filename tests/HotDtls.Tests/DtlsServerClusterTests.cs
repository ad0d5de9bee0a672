using System.Net;
using System.Text;
using HotDtls.Crypto;
using HotDtls.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HotDtls.Tests;

/// <summary>
/// Cluster nodes as whole servers on loopback: a ticket from one node resumes at another, and the shared keys rotate
/// without a restart — from <see cref="DtlsServer.UpdateClusterKeys"/> or from a changed key file at the next heartbeat.
/// </summary>
public sealed class DtlsServerClusterTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private static readonly byte[] s_key = Convert.FromHexString("1a2b3c4d5e6f");
    private static readonly byte[] s_ticketA = TestBytes.Filled(48, 0xA0);
    private static readonly byte[] s_ticketB = TestBytes.Filled(48, 0xB0);
    private readonly string _keyFile = Path.Combine(Path.GetTempPath(), $"hotdtls-cluster-{Guid.NewGuid():N}.keys");

    public void Dispose() => File.Delete(_keyFile);

    private static DtlsClusterKeys Keys(params byte[][] ticketKeys)
        => new([TestBytes.Filled(32, 1)], ticketKeys, [TestBytes.Filled(32, 0xC0)]);

    private static DtlsServerOptions Node(byte id, DtlsClusterOptions? cluster = null, TimeProvider? time = null)
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            PskIdentityHint = "Qt DTLS example server",
            PskStore = PskStore.Single(s_key),
            EnableSessionTickets = true,
            ReceiveLoops = 1,
            Cluster = cluster ?? new DtlsClusterOptions { NodeId = id, Keys = Keys(s_ticketA) },
        };
        if (time is not null)
        {
            options.TimeProvider = time;
        }
        return options;
    }

    private sealed class Echo : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext) => session.Send(plaintext);
    }

    private static DtlsClientOptions ClientOptions() => new() { PskIdentity = "sensor", PskKey = s_key };

    private static byte[] KeyNameSealedBy(SessionTicketProtector tickets)
    {
        var ticket = new byte[SessionTicketProtector.GetTicketLength(1)];
        Assert.True(tickets.TrySeal(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, true, new byte[48], "x"u8, 0, ticket, out _));
        return ticket[..SessionTicketProtector.KeyNameLength];
    }

    [Fact]
    public async Task A_ticket_from_one_node_resumes_at_another_over_loopback()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var a = new DtlsServer(Node(1), new Echo());
        await using var b = new DtlsServer(Node(2), new Echo());
        await a.StartAsync(cts.Token);
        await b.StartAsync(cts.Token);

        DtlsSavedSession saved;
        await using (var first = await DtlsClient.ConnectAsync(a.LocalEndPoint, ClientOptions(), cts.Token))
        {
            saved = Assert.IsType<DtlsSavedSession>(first.SaveSession());
        }
        using (saved)
        {
            var resuming = ClientOptions();
            resuming.Session = saved;
            await using var second = await DtlsClient.ConnectAsync(b.LocalEndPoint, resuming, cts.Token);
            Assert.True(second.IsResumed);
            // The client's Finished ends an abbreviated handshake: an answered echo shows the server has it too.
            second.Send("resumed"u8);
            var buffer = new byte[second.MaxReceiveSize];
            var length = await second.ReceiveAsync(buffer, cts.Token);
            Assert.Equal("resumed", Encoding.UTF8.GetString(buffer, 0, length));
        }
        Assert.Equal(1, b.Statistics.HandshakesResumed);
        Assert.Equal(0, a.Statistics.HandshakesResumed);
    }

    [Fact]
    public async Task UpdateClusterKeys_seals_with_the_new_ticket_key_at_once()
    {
        await using var server = new DtlsServer(Node(1), new Echo());
        await server.StartAsync();
        Assert.Equal(s_ticketA[..16], KeyNameSealedBy(server.Tickets!));
        var version = server.ClusterKeys!.Version;

        server.UpdateClusterKeys(Keys(s_ticketB, s_ticketA));

        Assert.Equal(version + 1, server.ClusterKeys.Version);
        Assert.Equal(s_ticketB[..16], KeyNameSealedBy(server.Tickets!));
    }

    [Fact]
    public async Task UpdateClusterKeys_says_what_is_wrong_on_a_server_that_cannot_take_them()
    {
        var alone = Node(1);
        alone.Cluster = null;
        await using var standalone = new DtlsServer(alone, new Echo());
        await standalone.StartAsync();
        var notCluster = Assert.Throws<InvalidOperationException>(() => standalone.UpdateClusterKeys(Keys(s_ticketA)));
        Assert.Contains("not a cluster node", notCluster.Message, StringComparison.Ordinal);

        await using var notStarted = new DtlsServer(Node(1), new Echo());
        var stopped = Assert.Throws<InvalidOperationException>(() => notStarted.UpdateClusterKeys(Keys(s_ticketA)));
        Assert.Contains("not running", stopped.Message, StringComparison.Ordinal);
    }

    private void WriteKeyFile(byte[][] ticketKeys, DateTime writeTime)
    {
        var lines = new List<string> { $"cookie-secret {Convert.ToHexString(TestBytes.Filled(32, 1))}" };
        foreach (var key in ticketKeys)
        {
            lines.Add($"ticket-key {Convert.ToHexString(key)}");
        }
        lines.Add($"channel-key {Convert.ToHexString(TestBytes.Filled(32, 0xC0))}");
        File.WriteAllLines(_keyFile, lines);
        File.SetLastWriteTimeUtc(_keyFile, writeTime);
    }

    [Fact]
    public async Task A_changed_key_file_is_read_at_the_next_heartbeat_and_a_broken_one_is_ignored()
    {
        var written = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        WriteKeyFile([s_ticketA], written);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var cluster = new DtlsClusterOptions { NodeId = 1, KeyFile = _keyFile, HeartbeatInterval = TimeSpan.FromSeconds(1) };
        await using var server = new DtlsServer(Node(1, cluster, time), new Echo());
        await server.StartAsync();
        var version = server.ClusterKeys!.Version;

        WriteKeyFile([s_ticketB, s_ticketA], written.AddSeconds(1));
        Assert.Equal(s_ticketA[..16], KeyNameSealedBy(server.Tickets!));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(version + 1, server.ClusterKeys.Version);
        Assert.Equal(s_ticketB[..16], KeyNameSealedBy(server.Tickets!));

        File.WriteAllText(_keyFile, "ticket-key 00\n");
        File.SetLastWriteTimeUtc(_keyFile, written.AddSeconds(2));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(version + 1, server.ClusterKeys.Version);
        Assert.Equal(s_ticketB[..16], KeyNameSealedBy(server.Tickets!));
    }

    [Fact]
    public async Task A_missing_key_file_stops_the_start_with_its_name()
    {
        var cluster = new DtlsClusterOptions { NodeId = 1, KeyFile = _keyFile };
        await using var server = new DtlsServer(Node(1, cluster), new Echo());

        var exception = await Assert.ThrowsAsync<DtlsException>(() => server.StartAsync());
        Assert.Contains(Path.GetFileName(_keyFile), exception.Message, StringComparison.Ordinal);
    }
}
