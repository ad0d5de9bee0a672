using System.Net;
using System.Text;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Hostile;

/// <summary>Hostile cases 29–38 (docs/security.md §9): the handshake state machine, driven through the socket-less engine.</summary>
public sealed class StateMachineHostileTests
{
    private static readonly IPEndPoint s_peer = new(IPAddress.Loopback, 40300);
    private static readonly IPEndPoint s_stranger = new(IPAddress.Loopback, 40400);

    /// <summary>A server, an honest client at <see cref="s_peer"/> whose flight 5 is held back, and the server's side of it.</summary>
    private sealed class Setup : IDisposable
    {
        public Setup(Action<TestClient>? prepare = null)
        {
            Server = new ServerHarness();
            Client = new TestClient(Server, s_peer);
            prepare?.Invoke(Client);
            Flight5 = FlightSteps.ToFlight5(Server, Client);
            (KeyExchange, ChangeCipherSpec, Finished) = FlightSteps.Split(Flight5);
            Connection = FlightSteps.ServerSide(Server, s_peer);
            Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, Connection.State);
        }

        public ServerHarness Server { get; }
        public TestClient Client { get; }
        public List<byte[]> Flight5 { get; }
        public FlightSteps.Rec KeyExchange { get; }
        public FlightSteps.Rec ChangeCipherSpec { get; }
        public FlightSteps.Rec Finished { get; }
        public ServerConnection Connection { get; }

        public void Deliver(params byte[][] records) => Server.Deliver(Client.Address, Wire.Concat(records));

        public void CompleteHonestly() => FlightSteps.AssertCompletes(Server, Client, [.. Flight5]);

        /// <summary>Records the server's counters and handler events, to check a drop against.</summary>
        public (DtlsServerStatistics Stats, int Events) Mark() => (Server.Statistics, FlightSteps.HandlerEvents(Server));

        public void AssertDropped((DtlsServerStatistics Stats, int Events) mark, int drops)
            => FlightSteps.AssertDropped(Server, mark.Stats, mark.Events, drops);

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }

    /// <summary>An epoch-0 Finished carrying <paramref name="verifyData"/>, as the client's message_seq 3.</summary>
    private static byte[] PlainFinished(byte[] verifyData, ulong sequence)
        => Wire.Record(ContentType.Handshake, 0, sequence, Wire.Handshake(HandshakeType.Finished, 3, verifyData));

    private static void AssertNothingDelivered(ServerHarness server)
    {
        Assert.Empty(server.Handler.Datagrams);
        Assert.Equal(0, server.Statistics.DatagramsDelivered);
    }

    // ---- 29 -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(ContentTypeCode.Handshake, 0, (byte)HandshakeType.ClientKeyExchange)]
    [InlineData(ContentTypeCode.Handshake, 0, (byte)HandshakeType.Finished)]
    [InlineData(ContentTypeCode.Handshake, 1, (byte)HandshakeType.Finished)]
    [InlineData(ContentTypeCode.Handshake, 0, (byte)HandshakeType.ServerHello)]
    [InlineData(ContentTypeCode.ChangeCipherSpec, 0, 1)]
    [InlineData(ContentTypeCode.ApplicationData, 1, 0)]
    [InlineData(ContentTypeCode.Alert, 0, 2)]
    public void Case29_non_ClientHello_first_datagram_from_an_unknown_peer_is_dropped(byte type, ushort epoch, byte first)
    {
        using var server = new ServerHarness();
        byte[] body = (ContentType)type switch
        {
            ContentType.Handshake when epoch == 0 => Wire.Handshake((HandshakeType)first, 2, new byte[24]),
            ContentType.ChangeCipherSpec => [1],
            ContentType.Alert => [2, 40],
            _ => new byte[40],
        };
        var before = server.Statistics;

        server.Deliver(s_stranger.Serialize(), Wire.Record((ContentType)type, epoch, 2, body));

        FlightSteps.AssertDropped(server, before, 0, drops: 1);
        Assert.Equal(0, server.Statistics.Sessions);
        FlightSteps.AssertOtherPeerFine(server);
    }

    [Fact]
    public void Case29_a_real_flight_5_replayed_from_another_address_is_dropped_and_the_owner_completes()
    {
        using var s = new Setup();
        var mark = s.Mark();

        foreach (var datagram in s.Flight5)
        {
            s.Server.Deliver(s_stranger.Serialize(), datagram);
        }

        s.AssertDropped(mark, drops: 3);
        Assert.Equal(1, s.Server.Statistics.Sessions);
        s.CompleteHonestly();
    }

    // ---- 30 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case30_epoch_0_Finished_with_the_genuine_verify_data_after_ChangeCipherSpec_does_not_complete()
    {
        byte[]? verifyData = null;
        using var s = new Setup(c => c.Connection.VerifyDataHookForTests = v => verifyData = v.ToArray());
        Assert.NotNull(verifyData);
        s.Deliver(s.KeyExchange.Bytes(), s.ChangeCipherSpec.Bytes());
        Assert.Equal(HandshakeState.ServerExpectFinished, s.Connection.State);
        var mark = s.Mark();

        s.Deliver(PlainFinished(verifyData, 40));

        s.AssertDropped(mark, drops: 1);
        Assert.Equal(HandshakeState.ServerExpectFinished, s.Connection.State);
        // Control: the same verify_data in the protected Finished completes the handshake.
        FlightSteps.AssertCompletes(s.Server, s.Client, s.Finished.Bytes());
    }

    [Fact]
    public void Case30_epoch_1_Finished_before_ChangeCipherSpec_does_not_complete()
    {
        using var s = new Setup();
        s.Deliver(s.KeyExchange.Bytes());
        Assert.Equal(HandshakeState.ServerExpectChangeCipherSpec, s.Connection.State);
        var mark = s.Mark();

        s.Deliver(s.Finished.Bytes());

        s.AssertDropped(mark, drops: 1);
        Assert.Equal(HandshakeState.ServerExpectChangeCipherSpec, s.Connection.State);

        // The ChangeCipherSpec arriving late does not resurrect the early Finished: it was not kept.
        s.Deliver(s.ChangeCipherSpec.Bytes());
        Assert.Equal(HandshakeState.ServerExpectFinished, s.Connection.State);
        Assert.Equal(0, s.Server.Sender.Count);
        Assert.Equal(0, s.Server.Statistics.HandshakesCompleted);

        // The client's retransmitted flight 5 (new record numbers) then completes it.
        s.Server.Time.Advance(s.Client.Options.InitialRetransmitTimeout);
        s.Client.Tick();
        Exchange.Pump(s.Server, s.Client);
        Assert.True(s.Client.Established);
        FlightSteps.AssertEcho(s.Server, s.Client);
    }

    // ---- 31 -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]   // the Finished in its own record
    [InlineData(true)]    // the Finished in the same record as the ClientKeyExchange
    public void Case31_epoch_0_Finished_before_ChangeCipherSpec_is_never_processed_as_protected(bool sameRecord)
    {
        byte[]? verifyData = null;
        using var s = new Setup(c => c.Connection.VerifyDataHookForTests = v => verifyData = v.ToArray());
        Assert.NotNull(verifyData);
        var finished = Wire.Handshake(HandshakeType.Finished, 3, verifyData);
        var mark = s.Mark();

        if (sameRecord)
        {
            s.Deliver(s.KeyExchange.Bytes(body: Wire.Concat(s.KeyExchange.Body, finished)));
        }
        else
        {
            s.Deliver(s.KeyExchange.Bytes(), PlainFinished(verifyData, 40));
        }

        Assert.Equal(mark.Stats.RecordsDropped + 1, s.Server.Statistics.RecordsDropped);
        Assert.Equal(HandshakeState.ServerExpectChangeCipherSpec, s.Connection.State);
        Assert.Equal(0, s.Connection.Reassembler.BufferedBytes);

        // Had it been buffered, the ChangeCipherSpec would now complete the handshake with it.
        s.Deliver(s.ChangeCipherSpec.Bytes());
        Assert.Equal(HandshakeState.ServerExpectFinished, s.Connection.State);
        Assert.Equal(0, s.Server.Sender.Count);
        Assert.Equal(0, s.Server.Statistics.HandshakesCompleted);
        FlightSteps.AssertCompletes(s.Server, s.Client, s.Finished.Bytes());
    }

    // ---- 32 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case32_second_ChangeCipherSpec_is_rejected_and_does_not_bump_the_epoch()
    {
        using var s = new Setup();
        s.Deliver(s.KeyExchange.Bytes(), s.ChangeCipherSpec.Bytes());
        Assert.Equal(1, s.Connection.Records.ReadEpoch);
        var mark = s.Mark();

        s.Deliver(s.ChangeCipherSpec.Bytes(sequence: 40));

        s.AssertDropped(mark, drops: 1);
        Assert.Equal(1, s.Connection.Records.ReadEpoch);
        Assert.Equal(HandshakeState.ServerExpectFinished, s.Connection.State);
        // Epoch 1 is still the one being read: the client's Finished opens and completes the handshake.
        FlightSteps.AssertCompletes(s.Server, s.Client, s.Finished.Bytes());
    }

    [Fact]
    public void Case32_ChangeCipherSpec_after_Finished_is_rejected_and_the_association_keeps_working()
    {
        using var s = new Setup();
        s.CompleteHonestly();
        var mark = s.Mark();

        s.Deliver(s.ChangeCipherSpec.Bytes(sequence: 40));

        s.AssertDropped(mark, drops: 1);
        Assert.Equal(1, s.Connection.Records.ReadEpoch);
        Assert.True(s.Connection.IsEstablished);
        FlightSteps.AssertEcho(s.Server, s.Client, "after the stray ChangeCipherSpec");
    }

    [Fact]
    public void Case32_ChangeCipherSpec_before_ClientKeyExchange_is_rejected()
    {
        using var s = new Setup();
        var mark = s.Mark();

        s.Deliver(s.ChangeCipherSpec.Bytes(sequence: 40));

        s.AssertDropped(mark, drops: 1);
        Assert.Equal(0, s.Connection.Records.ReadEpoch);
        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, s.Connection.State);
        s.CompleteHonestly();
    }

    // ---- 33 -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(47)]
    [InlineData(95)]
    public void Case33_flipped_verify_data_gets_decrypt_error_and_removes_association(int bit)
    {
        using var server = new ServerHarness();
        // Another peer is mid-handshake the whole time.
        using var other = new TestClient(server, new IPEndPoint(IPAddress.Loopback, 45100), seed: 31);
        var otherFlight5 = FlightSteps.ToFlight5(server, other);
        using var client = new TestClient(server, s_peer);
        client.Connection.VerifyDataHookForTests = v => v[bit / 8] ^= (byte)(1 << (bit % 8));
        var flight5 = FlightSteps.ToFlight5(server, client);
        var connection = FlightSteps.ServerSide(server, s_peer);

        FlightSteps.Deliver(server, client, flight5);

        var alert = Assert.Single(server.Sender.TakeFor(client.Address));
        var (header, body) = Assert.Single(Wire.Records(alert));
        Assert.Equal(ContentType.Alert, header.Type);
        Assert.Equal(0, header.Epoch);
        Assert.Equal([(byte)AlertLevel.Fatal, (byte)AlertDescription.DecryptError], body);
        Assert.True(connection.IsClosed);
        var stats = server.Statistics;
        Assert.Equal(1, stats.HandshakesFailed);
        Assert.Equal(0, stats.HandshakesCompleted);
        Assert.Equal(1, stats.Sessions);                 // the other peer's
        Assert.Equal(1, stats.HandshakesInProgress);
        Assert.Equal((s_peer, DtlsCloseReason.HandshakeFailed),
            (server.Handler.Closed.Single().Session.RemoteEndPoint, server.Handler.Closed.Single().Reason));
        Assert.DoesNotContain(server.Handler.Established, e => e.RemoteEndPoint.Equals(s_peer));

        client.Deliver(alert);
        Assert.Equal(AlertDescription.DecryptError, client.ClosedAlert);

        // The association is gone: the same flight again is a stranger's.
        var before = server.Statistics;
        FlightSteps.Deliver(server, client, flight5);
        FlightSteps.AssertDropped(server, before, FlightSteps.HandlerEvents(server), drops: 3);

        FlightSteps.AssertCompletes(server, other, [.. otherFlight5]);
    }

    // ---- 34 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case34_epoch_0_application_data_during_the_handshake_is_never_delivered()
    {
        using var s = new Setup();
        var mark = s.Mark();

        s.Deliver(Wire.Record(ContentType.ApplicationData, 0, 40, "plaintext"u8));

        s.AssertDropped(mark, drops: 1);
        s.CompleteHonestly();
        Assert.DoesNotContain("plaintext", s.Server.Handler.TextsFrom(s_peer));
    }

    [Fact]
    public void Case34_epoch_0_application_data_after_the_handshake_is_never_delivered()
    {
        using var s = new Setup();
        s.CompleteHonestly();
        var mark = s.Mark();

        s.Deliver(Wire.Record(ContentType.ApplicationData, 0, 40, "plaintext"u8));

        s.AssertDropped(mark, drops: 1);
        Assert.DoesNotContain("plaintext", s.Server.Handler.TextsFrom(s_peer));
        FlightSteps.AssertEcho(s.Server, s.Client, "protected");
    }

    [Theory]
    [InlineData(false)]   // after the ChangeCipherSpec, in a datagram of its own
    [InlineData(true)]    // in flight 5's datagram, between the ChangeCipherSpec and the Finished
    public void Case34_epoch_1_application_data_before_the_clients_Finished_is_never_delivered(bool insideFlight5)
    {
        using var s = new Setup();
        var early = FlightSteps.Seal(s.Client, ContentType.ApplicationData, "too early"u8);

        if (insideFlight5)
        {
            s.Deliver(s.KeyExchange.Bytes(), s.ChangeCipherSpec.Bytes(), early, s.Finished.Bytes());
            Assert.True(s.Connection.IsEstablished);
        }
        else
        {
            s.Deliver(s.KeyExchange.Bytes(), s.ChangeCipherSpec.Bytes());
            var mark = s.Mark();
            s.Deliver(early);
            s.AssertDropped(mark, drops: 1);
            Assert.Equal(HandshakeState.ServerExpectFinished, s.Connection.State);
            s.Deliver(s.Finished.Bytes());
        }

        AssertNothingDelivered(s.Server);
        Exchange.Pump(s.Server, s.Client);
        Assert.True(s.Client.Established);
        FlightSteps.AssertEcho(s.Server, s.Client, "on time");
        Assert.Equal(["on time"], s.Server.Handler.TextsFrom(s_peer));
    }

    // ---- 17 (after the handshake) ------------------------------------------------------------------------------

    /// <summary>The client's Finished (message_seq 3) carrying <paramref name="verifyData"/>, sealed under its epoch-1 keys.</summary>
    private static byte[] SealedFinished(TestClient client, byte[] verifyData)
        => FlightSteps.Seal(client, ContentType.Handshake, Wire.Handshake(HandshakeType.Finished, 3, verifyData));

    [Fact]
    public void Case17_after_the_handshake_the_same_protected_Finished_again_gets_flight_6_again()
    {
        byte[] verifyData = [];
        using var s = new Setup(client => client.Connection.VerifyDataHookForTests = data => verifyData = data.ToArray());
        s.CompleteHonestly();
        s.Server.Sender.TakeAll();
        var mark = s.Server.Statistics;

        s.Deliver(SealedFinished(s.Client, verifyData));

        // RFC 6347 §4.2.4: a retransmission of the peer's last flight gets our last flight (ChangeCipherSpec, Finished).
        var reply = Assert.Single(s.Server.Sender.TakeFor(s.Client.Address));
        var records = FlightSteps.Open(s.Client, reply);
        Assert.Equal([ContentType.ChangeCipherSpec, ContentType.Handshake], records.Select(r => r.Type));
        Assert.Equal(mark.RecordsDropped, s.Server.Statistics.RecordsDropped);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(95)]
    public void Case17_after_the_handshake_a_protected_Finished_with_other_verify_data_is_dropped_and_counted(int bit)
    {
        byte[] verifyData = [];
        using var s = new Setup(client => client.Connection.VerifyDataHookForTests = data => verifyData = data.ToArray());
        s.CompleteHonestly();
        s.Server.Sender.TakeAll();
        var altered = (byte[])verifyData.Clone();
        altered[bit / 8] ^= (byte)(1 << (bit % 8));
        var mark = s.Mark();

        s.Deliver(SealedFinished(s.Client, altered));

        // Not a retransmission of flight 5, however well protected: no flight 6, no state change, one drop.
        Assert.Empty(s.Server.Sender.TakeFor(s.Client.Address));
        s.AssertDropped(mark, drops: 1);
        Assert.True(s.Connection.IsEstablished);
        FlightSteps.AssertEcho(s.Server, s.Client, "after an altered Finished");
    }

    // ---- 35 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case35_ClientHello_in_epoch_1_after_the_handshake_gets_no_renegotiation_and_the_association_keeps_working()
    {
        using var s = new Setup();
        s.CompleteHonestly();
        var hello = Wire.Handshake(HandshakeType.ClientHello, 4, Wire.ClientHelloBody(new byte[32], []));
        var sealedHello = FlightSteps.Seal(s.Client, ContentType.Handshake, hello);
        var before = s.Server.Statistics;

        s.Deliver(sealedHello);

        var reply = Assert.Single(s.Server.Sender.TakeFor(s.Client.Address));
        var (type, epoch, plaintext) = Assert.Single(FlightSteps.Open(s.Client, reply));
        Assert.Equal((ContentType.Alert, (ushort)1), (type, epoch));
        Assert.Equal([(byte)AlertLevel.Warning, (byte)AlertDescription.NoRenegotiation], plaintext);
        var after = s.Server.Statistics;
        Assert.Equal(before.RecordsDropped + 1, after.RecordsDropped);
        Assert.Equal(before.HandshakesStarted, after.HandshakesStarted);
        Assert.Equal(before.HelloVerifyRequestsSent, after.HelloVerifyRequestsSent);
        Assert.Equal(1, after.Sessions);
        Assert.Equal(0, after.HandshakesInProgress);
        Assert.True(s.Connection.IsEstablished);
        Assert.Same(s.Connection, FlightSteps.ServerSide(s.Server, s_peer));
        FlightSteps.AssertEcho(s.Server, s.Client, "after renegotiation attempt");
    }

    [Fact]
    public void Case35_ClientHello_in_epoch_0_with_the_sessions_random_after_the_handshake_is_dropped()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        var flights = FlightSteps.Run(server, client);
        FlightSteps.AssertCompletes(server, client, [.. flights.Flight5]);
        var (_, helloRecord) = Assert.Single(Wire.Records(Assert.Single(flights.Flight3)));
        var body = FlightSteps.MessageBody(helloRecord);
        var before = server.Statistics;
        var events = FlightSteps.HandlerEvents(server);

        // The next message_seq (4) and a fresh record number: a renegotiating ClientHello in clear text.
        server.Deliver(client.Address, Wire.Record(ContentType.Handshake, 0, 40, Wire.Handshake(HandshakeType.ClientHello, 4, body)));

        FlightSteps.AssertDropped(server, before, events, drops: 1);
        FlightSteps.AssertEcho(server, client, "still here");
    }

    // ---- 36 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case36_ClientHello_in_epoch_1_then_ClientKeyExchange_in_epoch_0_never_starts_a_handshake()
    {
        using var server = new ServerHarness();
        var from = s_stranger.Serialize();
        var random = new byte[32];
        random[5] = 5;
        var cookie = Wire.FetchCookie(server, from, random);
        var before = server.Statistics;

        server.Deliver(from, Wire.Record(ContentType.Handshake, 1, 1,
            Wire.Handshake(HandshakeType.ClientHello, 1, Wire.ClientHelloBody(random, cookie))));
        server.Deliver(from, Wire.Record(ContentType.Handshake, 0, 2,
            Wire.Handshake(HandshakeType.ClientKeyExchange, 2, [0, 2, (byte)'i', (byte)'d'])));
        server.Deliver(from, Wire.Record(ContentType.ChangeCipherSpec, 0, 3, [1]));

        FlightSteps.AssertDropped(server, before, 0, drops: 3);
        Assert.Equal(0, server.Statistics.HandshakesStarted);
    }

    [Fact]
    public void Case36_ClientKeyExchange_in_epoch_1_never_completes()
    {
        using var s = new Setup();
        var sealedKeyExchange = FlightSteps.Seal(s.Client, ContentType.Handshake, s.KeyExchange.Body);
        var mark = s.Mark();

        // ChangeCipherSpec, the ClientKeyExchange under the new keys, Finished.
        s.Deliver(s.ChangeCipherSpec.Bytes(), sealedKeyExchange, s.Finished.Bytes());

        s.AssertDropped(mark, drops: 3);
        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, s.Connection.State);
        Assert.Equal(0, s.Connection.Records.ReadEpoch);

        // Nothing was poisoned: the flight as it should be (ChangeCipherSpec renumbered, its number is used) completes.
        FlightSteps.AssertCompletes(s.Server, s.Client,
            Wire.Concat(s.KeyExchange.Bytes(), s.ChangeCipherSpec.Bytes(sequence: 40), s.Finished.Bytes()));
    }

    [Fact]
    public void Case36_handshake_message_other_than_Finished_in_epoch_1_is_dropped_after_ChangeCipherSpec()
    {
        using var s = new Setup();
        s.Deliver(s.KeyExchange.Bytes(), s.ChangeCipherSpec.Bytes());
        // A ClientKeyExchange at the Finished's message_seq, under the new keys.
        var body = FlightSteps.MessageBody(s.KeyExchange.Body);
        var sealedKeyExchange = FlightSteps.Seal(s.Client, ContentType.Handshake,
            Wire.Handshake(HandshakeType.ClientKeyExchange, 3, body));
        var mark = s.Mark();

        s.Deliver(sealedKeyExchange);

        s.AssertDropped(mark, drops: 1);
        Assert.Equal(HandshakeState.ServerExpectFinished, s.Connection.State);
        Assert.Equal(0, s.Connection.Reassembler.BufferedBytes);
        FlightSteps.AssertCompletes(s.Server, s.Client, s.Finished.Bytes());
    }

    // ---- 37 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case37_after_close_notify_later_records_are_ignored_and_the_association_is_gone()
    {
        using var s = new Setup();
        s.CompleteHonestly();
        Assert.True(s.Client.Send("late"));
        var late = FlightSteps.Take(s.Client);
        s.Client.Connection.CloseGracefully(DtlsCloseReason.LocalClose);
        var closeNotify = FlightSteps.Take(s.Client);

        FlightSteps.Deliver(s.Server, s.Client, closeNotify);

        Assert.Single(s.Server.Sender.TakeFor(s.Client.Address));       // close_notify answered
        Assert.Equal(DtlsCloseReason.PeerClosed, s.Server.Handler.Closed.Single().Reason);
        Assert.Equal(0, s.Server.Statistics.Sessions);
        var before = s.Server.Statistics;

        FlightSteps.Deliver(s.Server, s.Client, late);

        FlightSteps.AssertDropped(s.Server, before, FlightSteps.HandlerEvents(s.Server), drops: 1);
        Assert.DoesNotContain("late", s.Server.Handler.TextsFrom(s_peer));
        FlightSteps.AssertOtherPeerFine(s.Server);
    }

    [Fact]
    public void Case37_after_a_fatal_alert_later_records_are_ignored_and_the_association_is_gone()
    {
        using var s = new Setup();
        s.CompleteHonestly();
        Assert.True(s.Client.Send("late"));
        var late = FlightSteps.Take(s.Client);
        var fatal = FlightSteps.Seal(s.Client, ContentType.Alert, [(byte)AlertLevel.Fatal, (byte)AlertDescription.InternalError]);

        s.Deliver(fatal);

        Assert.Equal(0, s.Server.Sender.Count);                              // a fatal alert is not answered
        Assert.Equal(DtlsCloseReason.PeerAlert, s.Server.Handler.Closed.Single().Reason);
        Assert.True(s.Connection.IsClosed);
        Assert.Equal(0, s.Server.Statistics.Sessions);
        var before = s.Server.Statistics;

        FlightSteps.Deliver(s.Server, s.Client, late);

        FlightSteps.AssertDropped(s.Server, before, FlightSteps.HandlerEvents(s.Server), drops: 1);
        Assert.DoesNotContain("late", s.Server.Handler.TextsFrom(s_peer));
        FlightSteps.AssertOtherPeerFine(s.Server);
    }

    [Fact]
    public void Case37_after_a_fatal_alert_mid_handshake_the_rest_of_the_flight_is_ignored()
    {
        using var s = new Setup();

        s.Deliver(Wire.Record(ContentType.Alert, 0, 40, [(byte)AlertLevel.Fatal, (byte)AlertDescription.HandshakeFailure]));

        Assert.Equal(0, s.Server.Sender.Count);
        Assert.True(s.Connection.IsClosed);
        Assert.Equal(0, s.Server.Statistics.Sessions);
        Assert.Equal(0, s.Server.Statistics.HandshakesInProgress);
        var before = s.Server.Statistics;

        FlightSteps.Deliver(s.Server, s.Client, s.Flight5);

        FlightSteps.AssertDropped(s.Server, before, FlightSteps.HandlerEvents(s.Server), drops: 3);
        Assert.Empty(s.Server.Handler.Established);
    }

    [Fact]
    public void Case37_control_an_unprotected_fatal_alert_does_not_end_an_established_association()
    {
        using var s = new Setup();
        s.CompleteHonestly();
        var mark = s.Mark();

        s.Deliver(Wire.Record(ContentType.Alert, 0, 40, [(byte)AlertLevel.Fatal, (byte)AlertDescription.HandshakeFailure]));

        s.AssertDropped(mark, drops: 1);
        FlightSteps.AssertEcho(s.Server, s.Client, "not fooled");
    }

    // ---- 38 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case38_wrong_PSK_then_the_right_one_from_the_same_address_and_port_succeeds()
    {
        using var server = new ServerHarness();
        var wrong = new DtlsClientOptions
        {
            PskIdentity = "Qt DTLS example client",
            PskKey = Convert.FromHexString("1a2b3c4d5e6e"),
            TimeProvider = server.Time,
        };
        using (var impostor = new TestClient(server, s_peer, wrong, seed: 11))
        {
            impostor.Start();
            Exchange.Pump(server, impostor);
            Assert.False(impostor.Established);
            Assert.Equal(AlertDescription.DecryptError, impostor.ClosedAlert);
        }
        var failed = server.Statistics;
        Assert.Equal(1, failed.HandshakesFailed);
        Assert.Equal(0, failed.Sessions);
        Assert.Equal(0, failed.HandshakesInProgress);

        using var client = Exchange.Handshake(server, s_peer, seed: 12);

        FlightSteps.AssertEcho(server, client, "right key");
        var stats = server.Statistics;
        Assert.Equal(1, stats.HandshakesCompleted);
        Assert.Equal(1, stats.HandshakesFailed);
        Assert.Equal(1, stats.Sessions);
        Assert.Equal("Qt DTLS example client", Encoding.UTF8.GetString(server.Handler.Established.Single().PskIdentityBytes.Span));
    }

    /// <summary>ContentType values as bytes, for [InlineData] (the enum itself is internal).</summary>
    public static class ContentTypeCode
    {
        public const byte ChangeCipherSpec = 20;
        public const byte Alert = 21;
        public const byte Handshake = 22;
        public const byte ApplicationData = 23;
    }
}
