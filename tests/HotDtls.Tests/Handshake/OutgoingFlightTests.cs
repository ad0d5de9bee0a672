using System.Net;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Handshake;

public sealed class OutgoingFlightTests
{
    private static readonly SocketAddress s_peer = new IPEndPoint(IPAddress.Loopback, 5684).Serialize();

    [Fact]
    public void Small_flight_is_packed_into_one_datagram_in_order()
    {
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerHello, 1, 0, Body(70, 1));
        flight.AddHandshake(HandshakeType.ServerKeyExchange, 2, 0, Body(24, 2));
        flight.AddHandshake(HandshakeType.ServerHelloDone, 3, 0, []);
        using var records = new RecordLayer();
        var sender = new CapturingSender();

        Assert.True(flight.Send(records, 1200, new byte[4096], sender, s_peer));

        var (datagram, peer) = Assert.Single(sender.TakeAll());
        Assert.Equal(s_peer, peer);
        var parsed = Wire.Records(datagram);
        Assert.Equal(3, parsed.Count);
        Assert.Equal([0UL, 1UL, 2UL], parsed.Select(r => r.Header.SequenceNumber));
        AssertWhole(parsed[0].Body, HandshakeType.ServerHello, 1, Body(70, 1));
        AssertWhole(parsed[1].Body, HandshakeType.ServerKeyExchange, 2, Body(24, 2));
        AssertWhole(parsed[2].Body, HandshakeType.ServerHelloDone, 3, []);
        Assert.Equal(3 * (RecordHeader.Size + HandshakeHeader.Size) + 70 + 24, datagram.Length);
    }

    [Fact]
    public void SendFinished_writes_the_datagram_a_flight_of_ChangeCipherSpec_and_Finished_would()
    {
        // Two record layers keyed alike: the flight object and the inline final flight must put out the same bytes.
        var suite = CipherSuiteInfo.Get(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        var keyBlock = Body(suite.KeyBlockLength, 9);
        using var viaFlight = KeyedRecords(suite, keyBlock);
        using var viaFinished = KeyedRecords(suite, keyBlock);
        var verifyData = Body(Finished.VerifyDataLength, 5);
        var flight = new OutgoingFlight();
        flight.AddChangeCipherSpec();
        flight.AddHandshake(HandshakeType.Finished, 4, 1, verifyData);
        var expected = new CapturingSender();
        var actual = new CapturingSender();

        Assert.True(flight.Send(viaFlight, 256, new byte[4096], expected, s_peer));
        Assert.True(OutgoingFlight.SendFinished(viaFinished, new byte[4096], actual, s_peer, 4, verifyData));

        var (datagram, peer) = Assert.Single(actual.TakeAll());
        Assert.Equal(s_peer, peer);
        Assert.Equal(Assert.Single(expected.TakeAll()).Datagram, datagram);
        Assert.Equal([ContentType.ChangeCipherSpec, ContentType.Handshake], Wire.Records(datagram).Select(r => r.Header.Type));
    }

    private static RecordLayer KeyedRecords(CipherSuiteInfo suite, byte[] keyBlock)
    {
        var records = new RecordLayer();
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: true, out var read, out var write);
        records.SetPendingCiphers(read, write);
        records.ActivateWrite();
        return records;
    }

    [Fact]
    public void Records_that_do_not_fit_start_a_new_datagram_and_none_exceeds_the_mtu()
    {
        // Each record is 13 + 12 + 100 = 125 bytes: two fit in 256, the third goes into a second datagram.
        var flight = new OutgoingFlight();
        for (ushort i = 0; i < 3; i++)
        {
            flight.AddHandshake(HandshakeType.ServerHello, i, 0, Body(100, i));
        }
        using var records = new RecordLayer();
        var sender = new CapturingSender();

        Assert.True(flight.Send(records, 256, new byte[4096], sender, s_peer));

        var datagrams = sender.TakeAll().Select(d => d.Datagram).ToList();
        Assert.Equal(2, datagrams.Count);
        Assert.All(datagrams, d => Assert.InRange(d.Length, 1, 256));
        Assert.Equal(2, Wire.Records(datagrams[0]).Count);
        Assert.Single(Wire.Records(datagrams[1]));
        // Nothing was fragmented: each message is whole in its record.
        foreach (var datagram in datagrams)
        {
            foreach (var (_, body) in Wire.Records(datagram))
            {
                Assert.True(HandshakeHeader.TryRead(body, out var header));
                Assert.True(header.IsComplete);
            }
        }
    }

    [Theory]
    [InlineData(256, 1000)]
    [InlineData(256, 5000)]
    [InlineData(300, 276)] // one byte more than fits whole
    [InlineData(1200, 4000)]
    public void Large_message_is_fragmented_into_records_within_the_mtu_that_reassemble(int mtu, int length)
    {
        var body = Body(length, 7);
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ClientKeyExchange, 4, 0, body);
        using var records = new RecordLayer();
        var sender = new CapturingSender();

        Assert.True(flight.Send(records, mtu, new byte[20000], sender, s_peer));

        var datagrams = sender.TakeAll().Select(d => d.Datagram).ToList();
        Assert.True(datagrams.Count >= 2);
        Assert.All(datagrams, d => Assert.InRange(d.Length, 1, mtu));
        using var reassembler = new HandshakeReassembler { NextSequence = 4 };
        var expectedOffset = 0;
        var status = FragmentStatus.Rejected;
        foreach (var datagram in datagrams)
        {
            foreach (var (header, record) in Wire.Records(datagram))
            {
                Assert.Equal(ContentType.Handshake, header.Type);
                Assert.True(HandshakeHeader.TryRead(record, out var fragment));
                Assert.Equal(HandshakeType.ClientKeyExchange, fragment.MsgType);
                Assert.Equal(4, fragment.MessageSeq);
                Assert.Equal(length, fragment.Length);
                Assert.Equal(expectedOffset, fragment.FragmentOffset);
                Assert.True(fragment.FragmentLength > 0);
                Assert.Equal(HandshakeHeader.Size + fragment.FragmentLength, record.Length);
                expectedOffset += fragment.FragmentLength;
                status = reassembler.Add(fragment, record.AsSpan(HandshakeHeader.Size));
            }
        }
        Assert.Equal(length, expectedOffset);
        Assert.Equal(FragmentStatus.Complete, status);
        Assert.True(reassembler.TryGetNext(out var type, out var reassembled));
        Assert.Equal(HandshakeType.ClientKeyExchange, type);
        Assert.Equal(body, reassembled.ToArray());
    }

    [Theory]
    [InlineData(64)]
    [InlineData(100)]
    [InlineData(512)]
    public void The_peers_record_size_limit_caps_every_fragment_and_several_share_a_datagram(int limit)
    {
        var body = Body(3000, 3);
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerKeyExchange, 2, 0, body);
        using var records = new RecordLayer();
        records.SetPlaintextLimits(limit, 0);
        var sender = new CapturingSender();

        Assert.True(flight.Send(records, 1200, new byte[20000], sender, s_peer));

        var datagrams = sender.TakeAll().Select(d => d.Datagram).ToList();
        var all = datagrams.SelectMany(Wire.Records).ToList();
        Assert.All(all, r => Assert.InRange(r.Body.Length, HandshakeHeader.Size + 1, limit));
        Assert.Equal(body.Length, all.Sum(r => r.Body.Length - HandshakeHeader.Size));
        // The MTU still packs: several limited records to a datagram, none over 1200.
        Assert.All(datagrams, d => Assert.InRange(d.Length, 1, 1200));
        Assert.True(datagrams.Count < all.Count);
    }

    [Fact]
    public void A_message_after_a_partly_filled_datagram_uses_the_room_left_before_starting_another()
    {
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerHello, 1, 0, Body(60, 1));
        flight.AddHandshake(HandshakeType.ServerKeyExchange, 2, 0, Body(600, 2));
        using var records = new RecordLayer();
        var sender = new CapturingSender();

        Assert.True(flight.Send(records, 256, new byte[4096], sender, s_peer));

        var datagrams = sender.TakeAll().Select(d => d.Datagram).ToList();
        // The first datagram carries the ServerHello and the first fragment of the large message, filled to the MTU.
        var first = Wire.Records(datagrams[0]);
        Assert.Equal(2, first.Count);
        Assert.Equal(256, datagrams[0].Length);
        Assert.All(datagrams, d => Assert.InRange(d.Length, 1, 256));
        Assert.Equal(600, datagrams.SelectMany(Wire.Records).Skip(1)
            .Sum(r => r.Body.Length - HandshakeHeader.Size));
    }

    [Fact]
    public void Every_send_uses_fresh_record_sequence_numbers()
    {
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerHello, 1, 0, Body(50, 1));
        flight.AddHandshake(HandshakeType.ServerHelloDone, 2, 0, []);
        using var records = new RecordLayer();
        records.SetNextWriteSequence0(9);
        var sender = new CapturingSender();
        var scratch = new byte[4096];

        var seen = new List<ulong>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(flight.Send(records, 1200, scratch, sender, s_peer));
            var datagram = Assert.Single(sender.TakeAll()).Datagram;
            var parsed = Wire.Records(datagram);
            seen.AddRange(parsed.Select(r => r.Header.SequenceNumber));
            // The handshake content is the same on every send; only the record numbers change.
            AssertWhole(parsed[0].Body, HandshakeType.ServerHello, 1, Body(50, 1));
            AssertWhole(parsed[1].Body, HandshakeType.ServerHelloDone, 2, []);
        }

        Assert.Equal([9UL, 10UL, 11UL, 12UL, 13UL, 14UL], seen);
    }

    [Fact]
    public void Empty_body_message_is_written_as_a_header_only_record()
    {
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerHelloDone, 5, 0, []);
        using var records = new RecordLayer();
        var sender = new CapturingSender();

        Assert.True(flight.Send(records, 256, new byte[1024], sender, s_peer));

        var datagram = Assert.Single(sender.TakeAll()).Datagram;
        var (header, body) = Assert.Single(Wire.Records(datagram));
        Assert.Equal(ContentType.Handshake, header.Type);
        Assert.Equal(HandshakeHeader.Size, header.Length);
        AssertWhole(body, HandshakeType.ServerHelloDone, 5, []);
    }

    [Theory]
    [InlineData("128")]
    [InlineData("256")]
    public void Epoch_1_entries_are_sealed_and_open_with_the_peer_keys(string suiteName)
    {
        var suite = suiteName == "128" ? CipherSuiteInfo.Aes128GcmSha256 : CipherSuiteInfo.Aes256GcmSha384;
        var keyBlock = Body(suite.KeyBlockLength, 3);
        using var server = new RecordLayer();
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: true, out var serverRead, out var serverWrite);
        server.SetPendingCiphers(serverRead, serverWrite);
        using var client = new RecordLayer();
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: false, out var clientRead, out var clientWrite);
        client.SetPendingCiphers(clientRead, clientWrite);
        Assert.True(client.ActivateRead());

        var verifyData = Body(Finished.VerifyDataLength, 9);
        var flight = new OutgoingFlight();
        flight.AddChangeCipherSpec();
        server.ActivateWrite();
        flight.AddHandshake(HandshakeType.Finished, 5, 1, verifyData);
        var sender = new CapturingSender();

        Assert.True(flight.Send(server, 1200, new byte[4096], sender, s_peer));
        Assert.True(flight.Send(server, 1200, new byte[4096], sender, s_peer));

        var sends = sender.TakeAll();
        Assert.Equal(2, sends.Count);
        var ciphertexts = new List<byte[]>();
        var sequence = 0UL;
        foreach (var (datagram, _) in sends)
        {
            var parsed = Wire.Records(datagram);
            Assert.Equal(2, parsed.Count);
            // ChangeCipherSpec stays in clear in epoch 0.
            Assert.Equal(ContentType.ChangeCipherSpec, parsed[0].Header.Type);
            Assert.Equal(0, parsed[0].Header.Epoch);
            Assert.True(ChangeCipherSpec.IsValid(parsed[0].Body));
            // Finished is sealed in epoch 1: nonce and tag around an encrypted header + verify_data.
            var (header, body) = parsed[1];
            Assert.Equal(1, header.Epoch);
            Assert.Equal(sequence++, header.SequenceNumber);
            Assert.Equal(HandshakeHeader.Size + Finished.VerifyDataLength + AeadRecordCipher.Overhead, body.Length);
            Assert.False(body.AsSpan().IndexOf(verifyData) >= 0, "verify_data went out in clear");
            ciphertexts.Add(body.ToArray());
            Assert.Equal(OpenResult.Opened, client.TryOpen(header, body, out var plaintext));
            AssertWhole(plaintext.ToArray(), HandshakeType.Finished, 5, verifyData);
        }
        // A retransmission is sealed again under a new sequence number, so a new nonce.
        Assert.NotEqual(ciphertexts[0], ciphertexts[1]);
    }

    [Fact]
    public void Bodies_survive_the_internal_buffer_growing()
    {
        // The body buffer starts at 512 bytes: a later large message must not disturb an earlier one.
        var small = Body(100, 1);
        var large = Body(3000, 2);
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerHello, 0, 0, small);
        flight.AddHandshake(HandshakeType.ClientKeyExchange, 1, 0, large);
        using var records = new RecordLayer();
        var sender = new CapturingSender();

        Assert.True(flight.Send(records, 65507, new byte[20000], sender, s_peer));

        var parsed = Wire.Records(Assert.Single(sender.TakeAll()).Datagram);
        AssertWhole(parsed[0].Body, HandshakeType.ServerHello, 0, small);
        AssertWhole(parsed[1].Body, HandshakeType.ClientKeyExchange, 1, large);
    }

    [Fact]
    public void Clear_empties_the_flight()
    {
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerHello, 0, 0, Body(10, 1));
        flight.AddChangeCipherSpec();
        Assert.Equal(2, flight.Count);

        flight.Clear();

        Assert.Equal(0, flight.Count);
        using var records = new RecordLayer();
        var sender = new CapturingSender();
        Assert.True(flight.Send(records, 1200, new byte[1024], sender, s_peer));
        Assert.Equal(0, sender.Count);
    }

    [Fact]
    public void A_seventh_message_is_refused()
    {
        var flight = new OutgoingFlight();
        for (ushort i = 0; i < 6; i++)
        {
            flight.AddHandshake(HandshakeType.ServerHello, i, 0, Body(4, 1));
        }

        Assert.Throws<InvalidOperationException>(() => flight.AddHandshake(HandshakeType.ServerHello, 6, 0, Body(4, 1)));
        Assert.Equal(6, flight.Count);
    }

    [Fact]
    public void Exhausted_sequence_numbers_make_send_fail()
    {
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerHello, 0, 0, Body(10, 1));
        flight.AddHandshake(HandshakeType.ServerHelloDone, 1, 0, []);
        using var records = new RecordLayer();
        records.SetNextWriteSequence0(RecordHeader.MaxSequenceNumber);
        var sender = new CapturingSender();

        // The first record takes the last sequence number; the second has none left (RFC 6347 §4.1: no wrap).
        Assert.False(flight.Send(records, 1200, new byte[1024], sender, s_peer));
    }

    [Fact]
    public void An_mtu_too_small_for_any_fragment_fails_instead_of_looping()
    {
        var flight = new OutgoingFlight();
        flight.AddHandshake(HandshakeType.ServerHello, 0, 0, Body(10, 1));
        using var records = new RecordLayer();
        var sender = new CapturingSender();

        Assert.False(flight.Send(records, RecordHeader.Size + HandshakeHeader.Size, new byte[1024], sender, s_peer));
    }

    private static byte[] Body(int length, int seed)
    {
        var body = new byte[length];
        for (var i = 0; i < length; i++)
        {
            body[i] = (byte)(seed * 31 + i);
        }
        return body;
    }

    private static void AssertWhole(byte[] record, HandshakeType type, ushort messageSeq, byte[] body)
    {
        Assert.True(HandshakeHeader.TryRead(record, out var header));
        Assert.Equal(type, header.MsgType);
        Assert.Equal(messageSeq, header.MessageSeq);
        Assert.True(header.IsComplete);
        Assert.Equal(body.Length, header.Length);
        Assert.Equal(body, record.AsSpan(HandshakeHeader.Size).ToArray());
    }
}
