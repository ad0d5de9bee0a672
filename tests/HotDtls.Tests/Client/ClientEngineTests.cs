using System.Net;
using HotDtls.Client;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Client;

/// <summary>The client engine without a socket: flights out, datagrams in, timers on a fake clock, events out.</summary>
public sealed class ClientEngineTests
{
    private static readonly IPEndPoint s_peer = new(IPAddress.Loopback, 40700);

    [Fact]
    public void Start_sends_one_ClientHello_without_a_cookie_and_arms_the_retransmission_timer()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        var now = server.Time.GetTimestamp() / TimeSpan.TicksPerMillisecond;

        client.Start();

        var (datagram, to) = Assert.Single(client.Sender.TakeAll());
        Assert.Equal(server.Address, to);
        var (header, body) = Assert.Single(Wire.Records(datagram));
        Assert.Equal((ContentType.Handshake, (ushort)0), (header.Type, header.Epoch));
        Assert.True(HandshakeHeader.TryRead(body, out var handshake));
        Assert.Equal(HandshakeType.ClientHello, handshake.MsgType);
        Assert.True(ClientHello.TryParse(body.AsSpan(HandshakeHeader.Size), out var hello));
        Assert.True(hello.Cookie.IsEmpty);
        Assert.Equal(now + 1000, client.Engine.NextTimerMs);
        Assert.Equal(HandshakeState.ClientExpectServerHello, client.Connection.State);
    }

    [Fact]
    public void The_handshake_completes_against_the_server_engine_and_reports_what_was_negotiated()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        Assert.False(client.Engine.TrySend([1]));

        client.Start();
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        Assert.True(client.Engine.IsEstablished);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, client.Engine.NegotiatedSuite);
        Assert.True(client.Engine.UsesExtendedMasterSecret);
        Assert.Equal("Qt DTLS example server"u8.ToArray(), client.Engine.IdentityHint);
        Assert.Equal(long.MaxValue, client.Engine.NextTimerMs);
        Assert.True(client.Send("hello"));
        Exchange.Pump(server, client);
        Assert.Equal(["hello"], server.Handler.TextsFrom(s_peer));
        Assert.Equal([$"to {s_peer}: ACK"], client.Received);
    }

    [Fact]
    public void Without_an_answer_the_flight_is_resent_with_doubling_timeouts_until_the_handshake_deadline()
    {
        using var server = new ServerHarness();
        var options = new DtlsClientOptions
        {
            PskIdentity = "device",
            PskKey = ServerHarness.Key,
            TimeProvider = server.Time,
            HandshakeTimeout = TimeSpan.FromSeconds(10),
        };
        using var client = new TestClient(server, s_peer, options);
        client.Start();
        client.Sender.TakeAll();
        var sentAt = new List<double>();
        for (var ms = 0; ms < 12_000; ms += 50)
        {
            server.Time.Advance(TimeSpan.FromMilliseconds(50));
            client.Tick();
            if (client.Sender.TakeAll().Count > 0)
            {
                sentAt.Add(ms + 50);
            }
        }

        // RFC 6347 §4.2.4.1: 1 s, then 2 s, then 4 s; the 10 s deadline ends the handshake before the next (15 s).
        Assert.Equal([1000, 3000, 7000], sentAt);
        Assert.Equal(DtlsCloseReason.HandshakeTimeout, client.ClosedReason);
        Assert.True(client.Engine.IsClosed);
    }

    [Fact]
    public void Close_after_the_handshake_sends_close_notify_and_the_server_forgets_the_session()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server, s_peer);

        client.Engine.Close();
        Exchange.Pump(server, client);

        Assert.Equal(DtlsCloseReason.LocalClose, client.ClosedReason);
        var (_, reason) = Assert.Single(server.Handler.Closed);
        Assert.Equal(DtlsCloseReason.PeerClosed, reason);
        Assert.Equal(0, server.Statistics.Sessions);
        Assert.False(client.Engine.TrySend([1]));
    }

    [Fact]
    public void Close_during_the_handshake_sends_nothing()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        client.Start();
        client.Sender.TakeAll();

        client.Engine.Close();

        Assert.Empty(client.Sender.TakeAll());
        Assert.Equal(DtlsCloseReason.LocalClose, client.ClosedReason);
    }

    [Fact]
    public void A_shared_scratch_buffer_too_small_for_a_record_is_refused()
    {
        var options = new DtlsClientOptions { PskKey = ServerHarness.Key };
        options.ValidateClient();
        var server = new IPEndPoint(IPAddress.Loopback, 22334).Serialize();

        var error = Assert.Throws<ArgumentException>(() =>
            new ClientEngine(options, server, new CapturingSender(), new NullEvents(), new SeededRandom(1), new byte[100]));

        Assert.Contains(ClientEngine.ScratchLength.ToString(System.Globalization.CultureInfo.InvariantCulture), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Datagrams_from_the_server_that_are_garbage_are_dropped_and_counted_without_closing()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        client.Start();

        client.Deliver(Wire.Record(ContentType.Handshake, 1, 5, new byte[40]));
        client.Deliver(Wire.Record(ContentType.ApplicationData, 1, 0, new byte[40]));

        Assert.Equal(2, client.Dropped);
        Assert.False(client.Engine.IsClosed);
        Exchange.Pump(server, client);
        Assert.True(client.Established);
    }

    private sealed class NullEvents : IClientEvents
    {
        public void OnEstablished()
        {
        }

        public void OnApplicationData(ReadOnlySpan<byte> plaintext)
        {
        }

        public void OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
        {
        }

        public void OnDropped(DropReason reason)
        {
        }
    }
}
