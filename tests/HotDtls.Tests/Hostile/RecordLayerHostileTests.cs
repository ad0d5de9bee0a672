using System.Buffers.Binary;
using System.Net;
using System.Reflection;
using System.Text;
using HotDtls.Connection;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Hostile;

/// <summary>
/// Hostile cases 1–10 (docs/security.md §9): the record layer. "Drop" is checked as: nothing sent by the server, no per-peer state
/// created or changed (sessions, handshakes, handler events), and the drop counted in RecordsDropped.
/// </summary>
public sealed class RecordLayerHostileTests
{
    private static readonly IPEndPoint Stranger = new(IPAddress.Parse("198.51.100.7"), 6666);
    private static readonly IPEndPoint Bystander = new(IPAddress.Parse("192.0.2.99"), 50999);

    // ---- Case 1: datagrams of 1–12 bytes, and record lengths past the end of the datagram ----

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(12)]
    public void Case01_datagram_shorter_than_a_record_header_from_a_stranger_is_dropped(int length)
    {
        using var server = new ServerHarness();
        var before = Observed.Of(server);

        server.Deliver(Stranger.Serialize(), TestBytes.Filled(length, 0x16));

        Observed.AssertDropped(server, before);
        Assert.Equal(0, server.Statistics.Sessions);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    public void Case01_datagram_shorter_than_a_record_header_from_an_established_peer_is_dropped(int length)
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var before = Observed.Of(server);

        // The first bytes of a real application-data record: a truncated header.
        var record = Kit.Protect(client, ContentType.ApplicationData, "cut"u8);
        server.Deliver(client.Address, record.AsSpan(0, length));

        Observed.AssertDropped(server, before);
        Kit.AssertEcho(server, client, "after the runt");
    }

    [Fact]
    public void Case01_short_datagram_from_a_stranger_allocates_nothing()
    {
        using var server = new ServerHarness();
        var from = Stranger.Serialize();
        var datagram = TestBytes.Filled(12, 0x17);
        server.Engine.ProcessDatagram(from, datagram); // warm up (JIT, statics)
        var dropped = server.Statistics.RecordsDropped;

        var runs = 0;
        var allocated = Allocations.Least(_ =>
        {
            runs++;
            for (var i = 0; i < 100; i++)
            {
                server.Engine.ProcessDatagram(from, datagram);
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(dropped + (100 * runs), server.Statistics.RecordsDropped);
        Assert.Equal(0, server.Sender.Count);
    }

    [Fact]
    public void Case01_record_length_past_the_end_drops_the_rest_but_an_earlier_client_hello_is_answered()
    {
        using var server = new ServerHarness();
        var hello = Wire.ClientHelloDatagram(TestBytes.RandomBytes(1), []);
        // A second header claiming 100 bytes with only 10 behind it.
        var liar = Wire.Record(ContentType.Handshake, 0, 1, TestBytes.Filled(10, 0xAA), length: 100);
        var before = Observed.Of(server);

        server.Deliver(Stranger.Serialize(), Wire.Concat(hello, liar));

        var replies = server.Sender.TakeAll();
        Assert.Single(replies);
        Assert.NotNull(Wire.CookieOf(replies[0].Datagram));
        var after = server.Statistics;
        Assert.Equal(before.Stats.RecordsDropped + 1, after.RecordsDropped);
        Assert.Equal(0, after.Sessions);
        Assert.Equal(0, after.HandshakesInProgress);
    }

    [Fact]
    public void Case01_record_length_past_the_end_after_application_data_delivers_the_first_record_once()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var good = Kit.Protect(client, ContentType.ApplicationData, "first"u8);
        var cut = Kit.Protect(client, ContentType.ApplicationData, "second, cut short"u8);
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Concat(good, cut.AsSpan(0, cut.Length - 5).ToArray()));

        Assert.Equal(["first"], server.Handler.TextsFrom(client.EndPoint));
        Assert.Equal(before.Stats.RecordsDropped + 1, server.Statistics.RecordsDropped);
        Kit.AssertOnlyApplicationData(server.Sender.TakeFor(client.Address), expected: 1);
        Assert.Equal(1, server.Statistics.Sessions);
    }

    // ---- Case 2: unknown content types ----

    [Theory]
    [InlineData(0)]
    [InlineData(24)] // heartbeat
    [InlineData(25)] // tls12_cid, never negotiated
    [InlineData(255)]
    public void Case02_unknown_content_type_from_a_stranger_is_dropped(byte type)
    {
        using var server = new ServerHarness();
        var before = Observed.Of(server);

        // A heartbeat_request asking for 16 KiB back: never answered.
        server.Deliver(Stranger.Serialize(), Wire.Record((ContentType)type, 0, 0, [1, 0x40, 0x00, 0xDE, 0xAD]));

        Observed.AssertDropped(server, before);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(24)]
    [InlineData(25)]
    [InlineData(255)]
    public void Case02_unknown_content_type_from_an_established_peer_is_dropped_in_both_epochs(byte type)
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        using var other = Exchange.Handshake(server, Bystander, seed: 11);

        var before = Observed.Of(server);
        server.Deliver(client.Address, Wire.Record((ContentType)type, 0, 90, [1, 0x40, 0x00, 0xDE, 0xAD]));
        Observed.AssertDropped(server, before);

        // The same, authenticated under the session's keys: still never answered, never delivered.
        before = Observed.Of(server);
        server.Deliver(client.Address, Kit.Protect(client, (ContentType)type, [1, 0x40, 0x00, 0xDE, 0xAD]));
        Observed.AssertDropped(server, before);

        Kit.AssertEcho(server, client, "still here");
        Kit.AssertEcho(server, other, "me too");
    }

    [Fact]
    public void Case02_unauthenticated_unknown_type_records_do_not_keep_an_idle_session_alive()
    {
        using var server = new ServerHarness(o => o.IdleTimeout = TimeSpan.FromSeconds(10));
        using var client = Exchange.Handshake(server);

        // A spoofer sends a plaintext heartbeat "from" the client every 4 s; the client itself is silent.
        for (var i = 0; i < 4; i++)
        {
            server.Advance(TimeSpan.FromSeconds(4));
            server.Deliver(client.Address, Wire.Record((ContentType)24, 0, 100 + (ulong)i, [1, 0x40, 0x00]));
        }

        Assert.Equal(0, server.Sender.Count);
        var (_, reason) = Assert.Single(server.Handler.Closed);
        Assert.Equal(DtlsCloseReason.IdleTimeout, reason);
        Assert.Equal(0, server.Statistics.Sessions);
    }

    // ---- Case 3: record versions ----

    [Theory]
    [InlineData((ushort)0x0303)] // TLS 1.2
    [InlineData((ushort)0xFEFC)] // DTLS 1.3's number
    [InlineData((ushort)0x0000)]
    [InlineData((ushort)0xFFFF)]
    public void Case03_client_hello_in_a_record_of_another_version_is_dropped(ushort version)
    {
        using var server = new ServerHarness();
        var before = Observed.Of(server);

        server.Deliver(Stranger.Serialize(), Wire.ClientHelloDatagram(TestBytes.RandomBytes(2), [], recordVersion: version));

        Observed.AssertDropped(server, before);
        Assert.Equal(0, server.Statistics.HelloVerifyRequestsSent);
    }

    [Fact]
    public void Case03_dtls10_record_is_accepted_on_a_first_client_hello()
    {
        using var server = new ServerHarness();

        server.Deliver(Stranger.Serialize(),
            Wire.ClientHelloDatagram(TestBytes.RandomBytes(3), [], recordVersion: ProtocolVersion.Dtls10));

        var replies = server.Sender.TakeAll();
        Assert.Single(replies);
        Assert.NotNull(Wire.CookieOf(replies[0].Datagram));
    }

    [Theory]
    [InlineData(ProtocolVersion.Dtls10)]
    [InlineData((ushort)0x0303)]
    [InlineData((ushort)0xFEFC)]
    public void Case03_application_data_in_another_record_version_is_not_delivered(ushort version)
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var record = Kit.Protect(client, ContentType.ApplicationData, "versioned"u8);
        var before = Observed.Of(server);

        // Only the version bytes change; the AEAD would still authenticate the record.
        server.Deliver(client.Address, Kit.WithVersion(record, version));

        Observed.AssertDropped(server, before);
        server.Deliver(client.Address, record);
        Assert.Equal(["versioned"], server.Handler.TextsFrom(client.EndPoint));
    }

    [Fact]
    public void Case03_dtls10_record_is_refused_for_a_client_key_exchange()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        var flight5 = Kit.RunToFlightFive(server, client);
        var records = flight5.SelectMany(Wire.Records).ToList();
        Assert.Equal(HandshakeType.ClientKeyExchange, (HandshakeType)records[0].Body[0]);
        var before = Observed.Of(server);

        // ClientKeyExchange in a DTLS 1.0 record; ChangeCipherSpec and Finished as sent.
        server.Deliver(client.Address, Wire.Concat(
            Kit.WithVersion(Kit.Rebuild(records[0]), ProtocolVersion.Dtls10),
            Kit.Rebuild(records[1]),
            Kit.Rebuild(records[2])));

        Assert.Empty(server.Sender.TakeFor(client.Address));
        Assert.Equal(0, server.Statistics.HandshakesCompleted);
        Assert.True(server.Statistics.RecordsDropped > before.Stats.RecordsDropped);

        // The honest retransmission of flight 5 still completes the handshake.
        server.Advance(TimeSpan.FromMilliseconds(1100));
        client.Tick();
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Kit.AssertEcho(server, client, "after the old version");
    }

    // ---- Case 4: record lengths above the caps ----

    [Fact]
    public void Case04_epoch0_record_longer_than_2_to_14_from_an_established_peer_is_dropped()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Record(ContentType.Handshake, 0, 77, new byte[DatagramReader.MaxPlaintextLength + 1]));

        Observed.AssertDropped(server, before);
        Kit.AssertEcho(server, client, "fine");
    }

    [Fact]
    public void Case04_client_hello_in_an_epoch0_record_longer_than_2_to_14_gets_no_hello_verify_request()
    {
        using var server = new ServerHarness();
        var random = TestBytes.RandomBytes(4);
        var body = Kit.WithExtension(Wire.ClientHelloBody(random, []), 0xFFAA, new byte[16400]);
        var record = Wire.Record(ContentType.Handshake, 0, 0, Wire.Handshake(HandshakeType.ClientHello, 0, body));
        Assert.True(record.Length - RecordHeader.Size > DatagramReader.MaxPlaintextLength);
        Assert.True(record.Length - RecordHeader.Size <= DatagramReader.MaxCiphertextLength);
        var before = Observed.Of(server);

        server.Deliver(Stranger.Serialize(), record);

        Observed.AssertDropped(server, before);
        Assert.Equal(0, server.Statistics.HelloVerifyRequestsSent);
    }

    [Theory]
    [InlineData(DatagramReader.MaxCiphertextLength + 1)]
    [InlineData(ushort.MaxValue)]
    public void Case04_epoch1_record_longer_than_2_to_14_plus_2048_is_dropped(int length)
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var before = Observed.Of(server);

        // The bytes are really there: only the length field decides.
        server.Deliver(client.Address, Wire.Record(ContentType.ApplicationData, 1, 5, new byte[length]));

        Observed.AssertDropped(server, before);
        Kit.AssertEcho(server, client, "fine");
    }

    [Fact]
    public void Case04_authentic_epoch1_record_whose_plaintext_exceeds_2_to_14_is_not_delivered()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var record = Kit.Protect(client, ContentType.ApplicationData, new byte[DatagramReader.MaxPlaintextLength + 1]);
        Assert.True(record.Length - RecordHeader.Size <= DatagramReader.MaxCiphertextLength);
        var before = Observed.Of(server);

        server.Deliver(client.Address, record);

        Observed.AssertDropped(server, before);
        Kit.AssertEcho(server, client, "fine");
    }

    // ---- Case 5: protected records shorter than nonce + tag ----

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(AeadRecordCipher.ExplicitNonceLength)]
    [InlineData(AeadRecordCipher.Overhead - 1)]
    public void Case05_protected_record_shorter_than_nonce_and_tag_is_dropped_by_an_established_session(int length)
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Record(ContentType.ApplicationData, 1, 9, TestBytes.Filled(length, 0x42)));

        Observed.AssertDropped(server, before);
        Kit.AssertEcho(server, client, "fine");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(AeadRecordCipher.Overhead - 1)]
    public void Case05_protected_record_shorter_than_nonce_and_tag_does_not_end_a_handshake_awaiting_finished(int length)
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        var flight5 = Kit.RunToFlightFive(server, client).SelectMany(Wire.Records).ToList();
        Assert.Equal(3, flight5.Count);

        // ClientKeyExchange and ChangeCipherSpec: the server now expects an epoch-1 Finished.
        server.Deliver(client.Address, Wire.Concat(Kit.Rebuild(flight5[0]), Kit.Rebuild(flight5[1])));
        Assert.Empty(server.Sender.TakeFor(client.Address));
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Record(ContentType.Handshake, 1, 0, TestBytes.Filled(length, 0x14)));

        Observed.AssertDropped(server, before);
        server.Deliver(client.Address, Kit.Rebuild(flight5[2]));
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Kit.AssertEcho(server, client, "fine");
    }

    // ---- Case 6: a valid record followed by garbage ----

    [Fact]
    public void Case06_valid_record_then_unauthentic_record_delivers_the_first_and_sends_no_alert()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var good = Kit.Protect(client, ContentType.ApplicationData, "real"u8);
        var forged = Wire.Record(ContentType.ApplicationData, 1, 500, TestBytes.Filled(40, 0x5A));
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Concat(good, forged));

        Assert.Equal(["real"], server.Handler.TextsFrom(client.EndPoint));
        Assert.True(server.Statistics.RecordsDropped > before.Stats.RecordsDropped);
        Kit.AssertOnlyApplicationData(server.Sender.TakeFor(client.Address), expected: 1);
        Assert.Empty(server.Handler.Closed);
        Kit.AssertEcho(server, client, "fine");
    }

    [Fact]
    public void Case06_valid_record_then_unframed_garbage_delivers_the_first_and_sends_no_alert()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var good = Kit.Protect(client, ContentType.ApplicationData, "real"u8);
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Concat(good, TestBytes.Filled(29, 0xFF)));

        Assert.Equal(["real"], server.Handler.TextsFrom(client.EndPoint));
        Assert.Equal(before.Stats.RecordsDropped + 1, server.Statistics.RecordsDropped);
        Kit.AssertOnlyApplicationData(server.Sender.TakeFor(client.Address), expected: 1);
        Assert.Empty(server.Handler.Closed);
    }

    [Fact]
    public void Case06_flight_five_followed_by_garbage_still_completes_the_handshake()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        var flight5 = Kit.RunToFlightFive(server, client);
        Assert.Single(flight5);
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Concat(flight5[0],
            Wire.Record(ContentType.ApplicationData, 1, 99, TestBytes.Filled(48, 0x33)), TestBytes.Filled(7, 0x16)));

        Assert.True(server.Statistics.RecordsDropped >= before.Stats.RecordsDropped + 2);
        Exchange.Pump(server, client);
        Assert.True(client.Established);
        Assert.Equal(1, server.Statistics.HandshakesCompleted);
        Kit.AssertEcho(server, client, "fine");
    }

    // ---- Case 7: replayed application data ----

    [Fact]
    public void Case07_replayed_application_record_is_delivered_once()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        Assert.True(client.Send("once"));
        var datagram = Assert.Single(client.Sender.TakeAll()).Datagram;

        server.Deliver(client.Address, datagram);
        Assert.Single(server.Sender.TakeFor(client.Address));
        var before = Observed.Of(server);

        server.Deliver(client.Address, datagram);
        server.Deliver(client.Address, Wire.Concat(datagram, datagram));

        Observed.AssertDropped(server, before);
        Assert.Equal(before.Stats.RecordsDropped + 3, server.Statistics.RecordsDropped);
        Assert.Equal(["once"], server.Handler.TextsFrom(client.EndPoint));
        Assert.Equal(1, server.Statistics.DatagramsDelivered);
    }

    [Fact]
    public void Case07_record_duplicated_inside_one_datagram_is_delivered_once()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        var record = Kit.Protect(client, ContentType.ApplicationData, "twice in one"u8);

        server.Deliver(client.Address, Wire.Concat(record, record));

        Assert.Equal(["twice in one"], server.Handler.TextsFrom(client.EndPoint));
    }

    // ---- Case 8: honest jumps and reordering within the window ----

    [Fact]
    public void Case08_sequence_jumps_and_reordering_within_the_window_are_accepted_duplicates_and_stale_ones_not()
    {
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        server.Handler.Acknowledge = false;
        // Epoch-1 records 1..3000 (0 was the client's Finished), captured and never delivered in order.
        var bySequence = new Dictionary<ulong, byte[]>();
        for (var i = 1; i <= 3000; i++)
        {
            Assert.True(client.Send($"#{i}"));
        }
        foreach (var (datagram, _) in client.Sender.TakeAll())
        {
            var (header, _) = Assert.Single(Wire.Records(datagram));
            bySequence.Add(header.SequenceNumber, datagram);
        }
        Assert.True(bySequence.ContainsKey(3000));

        void Send(ulong sequence) => server.Deliver(client.Address, bySequence[sequence]);

        Send(3);
        Send(3000);         // ×1000
        Send(2999);         // out of order, in the window
        Send(2950);
        Send(2990);
        Send(2937);         // 63 left of the highest: the window's last slot
        var dropped = server.Statistics.RecordsDropped;
        Send(2990);         // duplicate
        Send(2936);         // 64 left of the highest: outside the window
        Send(3);            // long gone
        Assert.Equal(dropped + 3, server.Statistics.RecordsDropped);

        // A ×1000 jump again, written with the client's real keys at sequence 3 000 000.
        Kit.SetNextWriteSequence1(client, 3_000_000);
        Assert.True(client.Send("#3000000"));
        Assert.True(client.Send("#3000001"));
        var late = client.Sender.TakeAll();
        server.Deliver(client.Address, late[1].Datagram);
        server.Deliver(client.Address, late[0].Datagram);

        Assert.Equal(["#3", "#3000", "#2999", "#2950", "#2990", "#2937", "#3000001", "#3000000"],
            server.Handler.TextsFrom(client.EndPoint));
        Assert.Empty(server.Sender.TakeFor(client.Address));
        server.Handler.Acknowledge = true;
        Kit.AssertEcho(server, client, "fine");
    }

    // ---- Case 9: epochs without keys ----

    [Theory]
    [InlineData((ushort)2, (byte)23)] // application_data
    [InlineData((ushort)2, (byte)22)] // handshake
    [InlineData((ushort)3, (byte)21)] // alert
    [InlineData(ushort.MaxValue, (byte)23)]
    public void Case09_record_in_epoch_2_or_higher_is_dropped_without_an_alert(ushort epoch, byte contentType)
    {
        var type = (ContentType)contentType;
        using var server = new ServerHarness();
        using var client = Exchange.Handshake(server);
        using var other = Exchange.Handshake(server, Bystander, seed: 12);
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Record(type, epoch, 1, TestBytes.Filled(48, 0x77)));
        server.Deliver(Stranger.Serialize(), Wire.Record(type, epoch, 1, TestBytes.Filled(48, 0x77)));

        Observed.AssertDropped(server, before);
        Kit.AssertEcho(server, client, "fine");
        Kit.AssertEcho(server, other, "fine too");
    }

    [Fact]
    public void Case09_record_in_epoch_2_does_not_end_a_handshake_awaiting_finished()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        var flight5 = Kit.RunToFlightFive(server, client).SelectMany(Wire.Records).ToList();
        server.Deliver(client.Address, Wire.Concat(Kit.Rebuild(flight5[0]), Kit.Rebuild(flight5[1])));
        var before = Observed.Of(server);

        server.Deliver(client.Address, Wire.Record(ContentType.Handshake, 2, 0, TestBytes.Filled(48, 0x14)));

        Observed.AssertDropped(server, before);
        server.Deliver(client.Address, Kit.Rebuild(flight5[2]));
        Exchange.Pump(server, client);
        Assert.True(client.Established);
    }

    // ---- Case 10: explicit nonces never repeat, retransmissions included ----

    [Fact]
    public void Case10_explicit_nonce_is_epoch_and_sequence_and_never_repeats_across_retransmissions()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, Exchange.DefaultClient);
        var fromServer = new List<byte[]>();
        var fromClient = new List<byte[]>();

        List<byte[]> TakeServer()
        {
            var taken = server.Sender.TakeFor(client.Address);
            fromServer.AddRange(taken);
            return taken;
        }
        List<byte[]> TakeClient()
        {
            var taken = client.Sender.TakeAll().Select(d => d.Datagram).ToList();
            fromClient.AddRange(taken);
            return taken;
        }

        client.Start();
        TakeClient().ForEach(d => server.Deliver(client.Address, d));      // ClientHello
        TakeServer().ForEach(client.Deliver);                                // HelloVerifyRequest
        TakeClient().ForEach(d => server.Deliver(client.Address, d));      // ClientHello + cookie
        Assert.NotEmpty(TakeServer());                                       // flight 4, lost
        server.Advance(TimeSpan.FromMilliseconds(1100));
        Assert.NotEmpty(TakeServer());                                       // flight 4 again, lost
        server.Advance(TimeSpan.FromMilliseconds(2100));
        var flight4 = TakeServer();                                          // and again: delivered
        Assert.NotEmpty(flight4);
        flight4.ForEach(client.Deliver);
        TakeClient().ForEach(d => server.Deliver(client.Address, d));      // flight 5
        Assert.NotEmpty(TakeServer());                                       // flight 6, lost
        for (var i = 0; i < 3; i++)
        {
            // The client times out and repeats flight 5; the server repeats flight 6 each time.
            server.Advance(TimeSpan.FromMilliseconds(1100 << i));
            client.Tick();
            var again = TakeClient();
            Assert.NotEmpty(again);
            again.ForEach(d => server.Deliver(client.Address, d));
            var flight6 = TakeServer();
            Assert.NotEmpty(flight6);
            if (i == 2)
            {
                flight6.ForEach(client.Deliver);
            }
        }
        Assert.True(client.Established);
        for (var i = 0; i < 5; i++)
        {
            client.Send($"#{i}");
            TakeClient().ForEach(d => server.Deliver(client.Address, d));
            TakeServer().ForEach(client.Deliver);
        }
        Assert.Equal(5, client.Received.Count);

        var serverEpoch1 = Kit.AssertNoncesAreEpochAndSequenceAndUnique(fromServer);
        var clientEpoch1 = Kit.AssertNoncesAreEpochAndSequenceAndUnique(fromClient);
        // 4 Finished (first + 3 retransmissions) + 5 ACKs; 4 Finished + 5 messages.
        Assert.Equal(9, serverEpoch1);
        Assert.Equal(9, clientEpoch1);

        // Epoch 0: every stateful record (all but the HelloVerifyRequest) has its own sequence number too.
        var serverEpoch0 = fromServer.Skip(1).SelectMany(Wire.Records).Where(r => r.Header.Epoch == 0)
            .Select(r => r.Header.SequenceNumber).ToList();
        Assert.Equal(serverEpoch0.Count, serverEpoch0.Distinct().Count());
    }

    /// <summary>What a drop must leave unchanged.</summary>
    private sealed record Observed(DtlsServerStatistics Stats, int Started, int Established, int Datagrams, int Closed)
    {
        public static Observed Of(ServerHarness server) => new(server.Statistics, server.Handler.Started.Count,
            server.Handler.Established.Count, server.Handler.Datagrams.Count, server.Handler.Closed.Count);

        /// <summary>HOSTILE "drop": no datagram sent, no per-peer state created or changed, the drop counted.</summary>
        public static void AssertDropped(ServerHarness server, Observed before)
        {
            Assert.Equal(0, server.Sender.Count);
            var after = Of(server);
            Assert.True(after.Stats.RecordsDropped > before.Stats.RecordsDropped, "the drop is counted");
            Assert.Equal(before.Stats.Sessions, after.Stats.Sessions);
            Assert.Equal(before.Stats.HandshakesInProgress, after.Stats.HandshakesInProgress);
            Assert.Equal(before.Stats.HandshakesStarted, after.Stats.HandshakesStarted);
            Assert.Equal(before.Stats.HandshakesCompleted, after.Stats.HandshakesCompleted);
            Assert.Equal(before.Stats.HandshakesFailed, after.Stats.HandshakesFailed);
            Assert.Equal(before.Stats.HelloVerifyRequestsSent, after.Stats.HelloVerifyRequestsSent);
            Assert.Equal(before.Stats.DatagramsDelivered, after.Stats.DatagramsDelivered);
            Assert.Equal(before.Started, after.Started);
            Assert.Equal(before.Established, after.Established);
            Assert.Equal(before.Datagrams, after.Datagrams);
            Assert.Equal(before.Closed, after.Closed);
        }
    }

    private static class Kit
    {
        private static readonly PropertyInfo s_records =
            typeof(DtlsConnection).GetProperty("Records", BindingFlags.Instance | BindingFlags.NonPublic)!;

        private static readonly FieldInfo s_writeSequence1 =
            typeof(RecordLayer).GetField("_writeSequence1", BindingFlags.Instance | BindingFlags.NonPublic)!;

        /// <summary>A record of any type protected with the client's real epoch-1 write keys (its next sequence number).</summary>
        public static byte[] Protect(TestClient client, ContentType type, ReadOnlySpan<byte> payload)
        {
            var records = (RecordLayer)s_records.GetValue(client.Connection)!;
            var buffer = new byte[RecordLayer.RecordSize(CipherSuiteInfo.Aes128GcmSha256, 1, payload.Length)];
            var written = records.Write(type, 1, payload, buffer);
            Assert.Equal(buffer.Length, written);
            return buffer;
        }

        public static void SetNextWriteSequence1(TestClient client, ulong sequence)
            => s_writeSequence1.SetValue(s_records.GetValue(client.Connection), sequence);

        public static byte[] WithVersion(byte[] record, ushort version)
        {
            var copy = (byte[])record.Clone();
            BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(1), version);
            return copy;
        }

        public static byte[] Rebuild((RecordHeader Header, byte[] Body) record)
            => Wire.Record(record.Header.Type, record.Header.Epoch, record.Header.SequenceNumber, record.Body, record.Header.Version);

        /// <summary>A ClientHello body with one more extension appended to its extension block.</summary>
        public static byte[] WithExtension(byte[] helloBody, ushort type, byte[] data)
        {
            Assert.True(ClientHello.TryParse(helloBody, out var hello));
            var blockStart = helloBody.Length - hello.Extensions.Length - 2;
            var extension = new byte[4 + data.Length];
            BinaryPrimitives.WriteUInt16BigEndian(extension, type);
            BinaryPrimitives.WriteUInt16BigEndian(extension.AsSpan(2), (ushort)data.Length);
            data.CopyTo(extension, 4);
            var result = Wire.Concat(helloBody, extension);
            BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(blockStart), (ushort)(hello.Extensions.Length + extension.Length));
            return result;
        }

        /// <summary>Runs the handshake until the client has sent flight 5; returns it undelivered.</summary>
        public static List<byte[]> RunToFlightFive(ServerHarness server, TestClient client)
        {
            client.Start();
            for (var round = 0; round < 10; round++)
            {
                var toServer = client.Sender.TakeAll().Select(d => d.Datagram).ToList();
                if (toServer.Exists(d => Wire.Records(d).Exists(r => r.Header.Epoch == 1)))
                {
                    return toServer;
                }
                toServer.ForEach(d => server.Deliver(client.Address, d));
                server.Sender.TakeFor(client.Address).ForEach(client.Deliver);
            }
            throw new InvalidOperationException("The client never sent flight 5.");
        }

        /// <summary>"Others fine": the client's echo still goes through and comes back once.</summary>
        public static void AssertEcho(ServerHarness server, TestClient client, string text)
        {
            var delivered = server.Handler.TextsFrom(client.EndPoint).Count();
            client.Received.Clear();
            Assert.True(client.Send(text));
            Exchange.Pump(server, client);
            Assert.Equal(delivered + 1, server.Handler.TextsFrom(client.EndPoint).Count());
            Assert.Equal(text, server.Handler.TextsFrom(client.EndPoint).Last());
            Assert.Equal([$"to {client.EndPoint}: ACK"], client.Received);
        }

        /// <summary>The server answered with <paramref name="expected"/> application-data records and nothing else (no alert).</summary>
        public static void AssertOnlyApplicationData(List<byte[]> datagrams, int expected)
        {
            var records = datagrams.SelectMany(Wire.Records).ToList();
            Assert.Equal(expected, records.Count);
            Assert.All(records, r => Assert.Equal(ContentType.ApplicationData, r.Header.Type));
        }

        /// <summary>
        /// RFC 5288 §3: nonce_explicit is epoch‖sequence_number and never repeats under one key. Returns how many
        /// protected records were checked.
        /// </summary>
        public static int AssertNoncesAreEpochAndSequenceAndUnique(List<byte[]> datagrams)
        {
            var seen = new HashSet<ulong>();
            foreach (var (header, body) in datagrams.SelectMany(Wire.Records))
            {
                if (header.Epoch == 0)
                {
                    continue;
                }
                var nonce = BinaryPrimitives.ReadUInt64BigEndian(body);
                Assert.Equal(((ulong)header.Epoch << 48) | header.SequenceNumber, nonce);
                Assert.True(seen.Add(nonce), $"explicit nonce {nonce:X16} sent twice");
            }
            return seen.Count;
        }
    }
}
