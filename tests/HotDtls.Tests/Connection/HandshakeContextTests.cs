using System.Net;
using System.Reflection;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Tests.Hostile;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Connection;

/// <summary>
/// A server engine pools its handshake contexts: a context that served one peer must carry nothing of it into the
/// next handshake — keys, transcript, fragments, flight, deferred records, the PSK lookup and its key.
/// </summary>
public sealed class HandshakeContextTests
{
    private static readonly IPEndPoint s_first = new(IPAddress.Loopback, 40801);
    private static readonly IPEndPoint s_second = new(IPAddress.Loopback, 40802);

    private static DtlsServerOptions Options()
    {
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskStore = PskStore.Single(ServerHarness.Key),
        };
        options.ValidateServer();
        return options;
    }

    /// <summary>The bytes a component still holds in its private buffer (what a later peer could be shown).</summary>
    private static byte[] Buffer(object owner, string field)
        => (byte[]?)owner.GetType().GetField(field, BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(owner) ?? [];

    private static void AssertWiped(HandshakeContext context)
    {
        Assert.All(context.MasterSecret, b => Assert.Equal(0, b));
        Assert.All(context.ServerRandom, b => Assert.Equal(0, b));
        Assert.Equal(0, context.Transcript.Length);
        Assert.All(Buffer(context.Transcript, "_buffer"), b => Assert.Equal(0, b));
        Assert.Equal(0, context.Flight.Count);
        Assert.All(Buffer(context.Flight, "_bodies"), b => Assert.Equal(0, b));
        Assert.Equal(0, context.Reassembler.BufferedBytes);
        Assert.Equal((ushort)0, context.Reassembler.NextSequence);
        Assert.False(context.Reassembler.TryGetNext(out _, out _));
        Assert.Equal(0, context.DeferredLength);
        Assert.All(context.Deferred ?? [], b => Assert.Equal(0, b));
        Assert.Null(context.ResolvedPsk);
        Assert.False(context.PskLookupFailed);
        Assert.True(context.PendingPskLookup.IsCompleted);
        Assert.False(context.Retransmit.IsArmed);
        Assert.Null(context.List);
        Assert.Null(context.Owner);
        Assert.All(context.SessionId, b => Assert.Equal(0, b));
        Assert.Equal(0, context.SessionIdLength);
        Assert.Equal(default, context.FullChoice);
        Assert.Null(context.ResumptionCandidate);
        Assert.Equal(0, context.ResumedIssuedUnixMs);
        Assert.False(context.TicketAnnounced);
    }

    [Fact]
    public void Reset_forgets_everything_of_the_last_handshake_and_keeps_its_buffers()
    {
        // The shared pool hands out arrays as their last user left them: leave one full of another "peer's" bytes
        // where the transcript will rent its buffer.
        var stale = System.Buffers.ArrayPool<byte>.Shared.Rent(1024);
        stale.AsSpan().Fill(0xEE);
        System.Buffers.ArrayPool<byte>.Shared.Return(stale);
        var context = new HandshakeContext(Options());
        context.Begin(deadlineMs: 30_000);
        byte[] identity = [.. "device-secret-identity"u8];
        Assert.True(context.Transcript.TryAppend(identity));
        context.Flight.AddHandshake(HandshakeType.ServerHello, 1, 0, identity);
        context.MasterSecret.AsSpan().Fill(0xAA);
        context.ServerRandom.AsSpan().Fill(0xBB);
        Assert.Equal(FragmentStatus.Buffered, context.Reassembler.Add(new HandshakeHeader(HandshakeType.ClientKeyExchange, 40, 0, 0, 10), new byte[10]));
        context.Defer([1, 2, 3, 4]);
        context.ResolvedPsk = ServerHarness.Key;
        context.PskLookupFailed = true;
        context.Retransmit.Arm(0, 1000);
        context.SessionId.AsSpan().Fill(0xCC);
        context.SessionIdLength = 32;
        context.FullChoice = new FullHandshakeChoice(null, NamedGroup.X25519, true, true, true, true);
        context.ResumptionCandidate = new CachedSession(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, true, identity);
        context.ResumedIssuedUnixMs = 1;
        context.TicketAnnounced = true;
        var transcriptBuffer = Buffer(context.Transcript, "_buffer");

        context.Reset();

        AssertWiped(context);
        Assert.Same(transcriptBuffer, Buffer(context.Transcript, "_buffer"));
        Assert.NotNull(context.Deferred);
    }

    [Fact]
    public void A_cancelled_psk_lookup_source_is_not_reused()
    {
        var context = new HandshakeContext(Options());
        context.Begin(0);
        var first = context.StartPskLookup();
        context.PendingPskLookup = new ValueTask<byte[]?>(new TaskCompletionSource<byte[]?>().Task);
        context.CancelPskLookup();
        Assert.True(first.IsCancellationRequested);

        context.Reset();
        var second = context.StartPskLookup();

        Assert.False(second.IsCancellationRequested);
    }

    [Fact]
    public void The_engine_hands_the_next_peer_the_same_context_wiped_and_its_handshake_is_its_own()
    {
        using var server = new ServerHarness();
        using var first = new TestClient(server, s_first, new DtlsClientOptions
        {
            PskIdentity = "first-device",
            PskKey = ServerHarness.Key,
            TimeProvider = server.Time,
        });
        var flight5 = FlightSteps.ToFlight5(server, first);
        var firstConnection = FlightSteps.ServerSide(server, s_first);
        var context = firstConnection.HandshakeOrNull!;
        FlightSteps.AssertCompletes(server, first, [.. flight5]);
        Assert.Null(firstConnection.HandshakeOrNull);

        // Back in the pool: nothing of the first peer's handshake is left in it.
        AssertWiped(context);

        using var second = new TestClient(server, s_second, new DtlsClientOptions
        {
            PskIdentity = "second-device",
            PskKey = ServerHarness.Key,
            TimeProvider = server.Time,
        }, seed: 11);
        var secondFlight5 = FlightSteps.ToFlight5(server, second);
        var secondConnection = FlightSteps.ServerSide(server, s_second);
        Assert.Same(context, secondConnection.HandshakeOrNull);
        FlightSteps.AssertCompletes(server, second, [.. secondFlight5]);

        // Its transcript and keys were its own, or its Finished would not have verified.
        Assert.True(secondConnection.IsEstablished);
        Assert.Equal("second-device", secondConnection.Session!.PskIdentity);
        Assert.Equal("first-device", firstConnection.Session!.PskIdentity);
        FlightSteps.AssertEcho(server, second, "second");
        FlightSteps.AssertEcho(server, first, "first");
    }

    [Fact]
    public void Begin_keeps_the_start_stamp_each_handshake_gets_from_the_clock()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var options = Options();
        options.TimeProvider = time;
        var services = new ConnectionServices(options, new Lock(), new CapturingSender(), new byte[64],
            new NullObserver(), new SeededRandom(1));
        var first = services.RentHandshake(deadlineMs: 1000);
        time.Advance(TimeSpan.FromMilliseconds(3));
        var second = services.RentHandshake(deadlineMs: 1000);

        Assert.Equal(TimeSpan.FromMilliseconds(3), time.GetElapsedTime(first.StartedTimestamp, second.StartedTimestamp));
    }

    private sealed class NullObserver : IConnectionObserver
    {
        public void OnEstablished(DtlsConnection connection)
        {
        }

        public void OnPskLookup(DtlsConnection connection)
        {
        }

        public void OnPskStoreFailed(DtlsConnection connection, Exception exception)
        {
        }

        public void OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext)
        {
        }

        public void OnClosed(DtlsConnection connection, DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
        {
        }

        public void OnDropped(DtlsConnection connection, DropReason reason)
        {
        }
    }
}
