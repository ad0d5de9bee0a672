using System.Net;
using HotDtls.Diagnostics;
using HotDtls.Tests.Support;
using static HotDtls.Diagnostics.MetricNames;

namespace HotDtls.Tests.Diagnostics;

/// <summary>
/// The pushed instruments, seen from the client's side: a <see cref="HotDtls.Client.ClientEngine"/> with instruments
/// runs an in-memory handshake against a server engine, and a listener on that client's meter hears what happened.
/// </summary>
public sealed class DtlsInstrumentsTests : IDisposable
{
    private readonly ServerHarness _server = new();
    private readonly DtlsInstruments _instruments;
    private readonly MetricRecorder _recorder;

    public DtlsInstrumentsTests()
    {
        _instruments = new DtlsInstruments(meterFactory: null, MetricNames.Client, new IPEndPoint(IPAddress.Loopback, 22334), _server.Time);
        _recorder = new MetricRecorder(_instruments.Meter);
    }

    public void Dispose()
    {
        _recorder.Dispose();
        _instruments.Dispose();
        _server.Dispose();
    }

    private TestClient StartClient(DtlsClientOptions? options = null)
    {
        var client = new TestClient(_server, Exchange.DefaultClient, options);
        client.Engine.Instruments = _instruments;
        client.Start();
        return client;
    }

    [Fact]
    public void A_client_handshake_counts_as_completed_with_the_client_role_and_its_duration()
    {
        using var client = StartClient();
        Exchange.Pump(_server, client, (datagram, toServer) =>
        {
            if (!toServer)
            {
                _server.Time.Advance(TimeSpan.FromMilliseconds(5));
            }
            return [datagram];
        });
        Assert.True(client.Established);

        var completed = Assert.Single(_recorder.Of(CompletedHandshakes));
        Assert.Equal(MetricNames.Client, completed[RoleTag]);
        Assert.Equal(22334, completed[ServerPortTag]);
        Assert.Equal(nameof(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256), completed[CipherSuiteTag]);
        // The client's handshake runs from its first ClientHello: three server flights arrive, 5 ms each.
        Assert.Equal(0.015, Assert.Single(_recorder.Of(HandshakeDuration)).Value, 6);
    }

    [Fact]
    public void A_client_with_the_wrong_key_counts_the_fatal_alert_it_received_and_a_failure_for_it()
    {
        var options = TestClient.PlainPskOptions(_server);
        options.PskKey = [9, 9, 9, 9, 9, 9];
        using var client = StartClient(options);
        Exchange.Pump(_server, client);
        Assert.False(client.Established);

        Assert.Equal("peer_alert", Assert.Single(_recorder.Of(FailedHandshakes))[ErrorTypeTag]);
        var alert = Assert.Single(_recorder.Of(Alerts));
        Assert.Equal(Receive, alert[DirectionTag]);
        Assert.Equal("fatal", alert[AlertLevelTag]);
        Assert.Equal("decrypt_error", alert[AlertDescriptionTag]);
    }

    [Fact]
    public void Closing_an_established_client_counts_the_close_notify_sent()
    {
        using var client = StartClient();
        Exchange.Pump(_server, client);

        client.Engine.Close();

        var sent = Assert.Single(_recorder.Of(Alerts), a => Equals(a[DirectionTag], Transmit));
        Assert.Equal("close_notify", sent[AlertDescriptionTag]);
        Assert.Equal("warning", sent[AlertLevelTag]);
        Assert.Empty(_recorder.Of(FailedHandshakes));
    }

    [Fact]
    public void Nothing_is_recorded_once_the_own_meter_is_disposed()
    {
        using var client = StartClient();
        _instruments.Dispose();

        Exchange.Pump(_server, client);

        Assert.True(client.Established);
        Assert.Empty(_recorder.Of(CompletedHandshakes));
        Assert.Empty(_recorder.Of(HandshakeDuration));
    }
}
