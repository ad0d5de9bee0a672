using System.Net;
using HotDtls.Connection;
using HotDtls.Cookies;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Hostile;

/// <summary>Hostile cases 11–18 (docs/security.md §9): handshake fragments and reassembly, driven through the socket-less engine.</summary>
public sealed class FragmentHostileTests
{
    private static readonly IPEndPoint s_peer = new(IPAddress.Loopback, 40100);
    private static readonly IPEndPoint s_stranger = new(IPAddress.Loopback, 40200);

    /// <summary>A server, an honest client at <see cref="s_peer"/> whose flight 5 is held back, and the server's side of it.</summary>
    private sealed class Setup : IDisposable
    {
        public Setup(Action<DtlsServerOptions>? configure = null)
        {
            Server = new ServerHarness(configure);
            Client = new TestClient(Server, s_peer);
            Flight5 = FlightSteps.ToFlight5(Server, Client);
            (KeyExchange, ChangeCipherSpec, Finished) = FlightSteps.Split(Flight5);
            Connection = FlightSteps.ServerSide(Server, s_peer);
            KeyExchangeBody = FlightSteps.MessageBody(KeyExchange.Body);
            Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, Connection.State);
            Assert.Equal(0, Server.Sender.Count);
        }

        public ServerHarness Server { get; }
        public TestClient Client { get; }
        public List<byte[]> Flight5 { get; }
        public FlightSteps.Rec KeyExchange { get; }
        public FlightSteps.Rec ChangeCipherSpec { get; }
        public FlightSteps.Rec Finished { get; }
        public byte[] KeyExchangeBody { get; }
        public ServerConnection Connection { get; }
        public ushort KeyExchangeSeq => Connection.Reassembler.NextSequence;

        public void Deliver(params byte[][] records) => Server.Deliver(Client.Address, Wire.Concat(records));

        /// <summary>The honest rest of flight 5 (records as captured), then the pump; the handshake and an echo complete.</summary>
        public void CompleteHonestly(ulong? keyExchangeSeq = null, ulong? changeCipherSpecSeq = null)
            => FlightSteps.AssertCompletes(Server, Client, Wire.Concat(
                KeyExchange.Bytes(keyExchangeSeq), ChangeCipherSpec.Bytes(changeCipherSpecSeq), Finished.Bytes()));

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }

    private static byte[] HandshakeRecord(ulong sequence, params byte[][] fragments)
        => Wire.Record(ContentType.Handshake, 0, sequence, Wire.Concat(fragments));

    // ---- 11 -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(20, 8, 8)]             // offset + fragment_length > length (24)
    [InlineData(23, 2, 2)]             // one byte past the end
    [InlineData(0xFFFFF0, 1, 1)]       // offset far past the end
    [InlineData(0, 24, 10)]            // fragment_length 24, but the record holds only 10 bytes
    [InlineData(10, 14, 0)]            // fragment_length 14, nothing follows the header
    public void Case11_fragment_past_message_end_or_past_record_end_is_dropped(int offset, int fragmentLength, int present)
    {
        using var s = new Setup();
        var length = s.KeyExchangeBody.Length;
        Assert.Equal(24, length);
        // A genuine first fragment is buffered, so there is state that a lying fragment could corrupt.
        s.Deliver(HandshakeRecord(40, FlightSteps.Fragment(HandshakeType.ClientKeyExchange, s.KeyExchangeSeq, s.KeyExchangeBody, 0, 10)));
        Assert.Equal(length, s.Connection.Reassembler.BufferedBytes);
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        var lie = Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, s.KeyExchangeSeq, length, offset,
            new byte[present], fragmentLength);
        s.Deliver(HandshakeRecord(41, lie));

        FlightSteps.AssertDropped(s.Server, before, events, drops: 1);
        Assert.Equal(length, s.Connection.Reassembler.BufferedBytes);
        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, s.Connection.State);
        s.CompleteHonestly();
        FlightSteps.AssertOtherPeerFine(s.Server);
    }

    [Theory]
    [InlineData(false)]   // fragment_length claims the whole body, the record holds one byte
    [InlineData(true)]    // offset + fragment_length > length
    public void Case11_lying_ClientHello_fragment_from_a_stranger_gets_no_HelloVerifyRequest(bool pastMessageEnd)
    {
        using var server = new ServerHarness();
        var body = Wire.ClientHelloBody(new byte[32], []);
        var fragment = pastMessageEnd
            ? Wire.HandshakeFragment(HandshakeType.ClientHello, 0, body.Length - 50, 0, body)
            : Wire.HandshakeFragment(HandshakeType.ClientHello, 0, body.Length, 0, body.AsSpan(0, 1), body.Length);
        var before = server.Statistics;

        server.Deliver(s_stranger.Serialize(), HandshakeRecord(0, fragment));

        FlightSteps.AssertDropped(server, before, 0, drops: 1);
        FlightSteps.AssertOtherPeerFine(server);
    }

    // ---- 12 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case12_100000_zero_length_fragments_create_no_state_and_allocate_nothing()
    {
        using var s = new Setup();
        var length = s.KeyExchangeBody.Length;
        var next = s.KeyExchangeSeq;
        s.Deliver(HandshakeRecord(9, FlightSteps.Fragment(HandshakeType.ClientKeyExchange, next, s.KeyExchangeBody, 0, 10)));
        Assert.Equal(length, s.Connection.Reassembler.BufferedBytes);

        // 100 records of 1000 zero-length fragments each: for the message being reassembled and for the three
        // message_seq values after it, at every offset.
        const int records = 100;
        const int perRecord = 1000;
        var datagrams = new List<byte[]>();
        for (var r = 0; r < records; r++)
        {
            var fragments = new byte[perRecord][];
            for (var i = 0; i < perRecord; i++)
            {
                var seq = (ushort)(next + (i % 4));
                var messageLength = seq == next ? length : 100 + i;
                fragments[i] = Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, seq, messageLength, i % messageLength, []);
            }
            datagrams.Add(HandshakeRecord((ulong)(10 + r), fragments));
        }
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        foreach (var datagram in datagrams)
        {
            s.Server.Engine.ProcessDatagram(s.Client.Address, datagram);
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.True(allocated < 4096, $"{allocated} bytes allocated for {records * perRecord} empty fragments");
        // Zero-length fragments carry nothing: they are no-ops, neither state nor a counted drop.
        FlightSteps.AssertDropped(s.Server, before, events, drops: 0);
        Assert.Equal(length, s.Connection.Reassembler.BufferedBytes);
        Assert.Equal(next, s.Connection.Reassembler.NextSequence);
        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, s.Connection.State);
        // The replay window moved past the honest records' numbers: send them renumbered, as a real client would.
        s.CompleteHonestly(keyExchangeSeq: 200, changeCipherSpecSeq: 201);
        FlightSteps.AssertOtherPeerFine(s.Server);
    }

    [Fact]
    public void Case12_zero_length_ClientHello_fragments_from_a_stranger_are_dropped_statelessly()
    {
        using var server = new ServerHarness();
        var fragments = new byte[1000][];
        for (var i = 0; i < fragments.Length; i++)
        {
            fragments[i] = Wire.HandshakeFragment(HandshakeType.ClientHello, 0, 120, i % 120, []);
        }
        var before = server.Statistics;

        for (var r = 0; r < 100; r++)
        {
            server.Deliver(s_stranger.Serialize(), HandshakeRecord((ulong)r, fragments));
        }

        // One drop per record: the cookie path looks at the record's first fragment only and keeps nothing.
        FlightSteps.AssertDropped(server, before, 0, drops: 100);
        FlightSteps.AssertOtherPeerFine(server);
    }

    // ---- 13 -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void Case13_message_length_0xFFFFFF_is_rejected_before_any_allocation(int ahead)
    {
        using var s = new Setup();
        var seq = (ushort)(s.KeyExchangeSeq + ahead);
        var datagram = HandshakeRecord(40,
            Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, seq, HandshakeHeader.MaxUInt24, 0, new byte[100]));
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        var allocated = GC.GetAllocatedBytesForCurrentThread();
        s.Server.Engine.ProcessDatagram(s.Client.Address, datagram);
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;

        Assert.True(allocated < 1024, $"{allocated} bytes allocated");
        FlightSteps.AssertDropped(s.Server, before, events, drops: 1);
        Assert.Equal(0, s.Connection.Reassembler.BufferedBytes);
        s.CompleteHonestly();
    }

    [Fact]
    public void Case13_ClientHello_declaring_0xFFFFFF_bytes_gets_no_HelloVerifyRequest()
    {
        using var server = new ServerHarness();
        var body = Wire.ClientHelloBody(new byte[32], []);
        var before = server.Statistics;

        server.Deliver(s_stranger.Serialize(), HandshakeRecord(0,
            Wire.HandshakeFragment(HandshakeType.ClientHello, 0, HandshakeHeader.MaxUInt24, 0, body)));

        FlightSteps.AssertDropped(server, before, 0, drops: 1);
    }

    [Theory]
    [InlineData(0, false)]        // the default cap, 8 KiB
    [InlineData(0, true)]
    [InlineData(1024, false)]     // a configured cap
    [InlineData(1024, true)]
    public void Case13_message_at_the_cap_is_buffered_and_cap_plus_one_is_rejected(int configuredCap, bool overCap)
    {
        using var s = new Setup(o =>
        {
            if (configuredCap != 0)
            {
                o.MaxHandshakeMessageLength = configuredCap;
            }
        });
        var cap = s.Server.Options.MaxHandshakeMessageLength;
        Assert.Equal(configuredCap == 0 ? HandshakeReassembler.DefaultMaxMessageLength : configuredCap, cap);
        var length = overCap ? cap + 1 : cap;
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        s.Deliver(HandshakeRecord(40,
            Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, (ushort)(s.KeyExchangeSeq + 1), length, 0, new byte[100])));

        FlightSteps.AssertDropped(s.Server, before, events, drops: overCap ? 1 : 0);
        Assert.Equal(overCap ? 0 : cap, s.Connection.Reassembler.BufferedBytes);
    }

    // ---- 14 -------------------------------------------------------------------------------------------------

    /// <summary>
    /// 2-byte fragments, 3-byte fragments overlapping them at odd offsets, some sent twice, all in reverse order of
    /// offset so the message completes only with the last one.
    /// </summary>
    private static List<byte[]> Shredded(HandshakeType type, ushort messageSeq, byte[] body)
    {
        var pieces = new List<(int Offset, int Length)>();
        for (var offset = 0; offset < body.Length; offset += 2)
        {
            pieces.Add((offset, Math.Min(2, body.Length - offset)));
            if (offset % 6 == 4)
            {
                pieces.Add((offset, Math.Min(2, body.Length - offset)));                // duplicate
            }
        }
        for (var offset = 1; offset + 3 <= body.Length; offset += 6)
        {
            pieces.Add((offset, 3));                                                  // overlaps two 2-byte pieces
        }
        pieces.Sort((a, b) => b.Offset.CompareTo(a.Offset));
        Assert.Equal(0, pieces[^1].Offset);
        var fragments = new List<byte[]>();
        foreach (var (offset, length) in pieces)
        {
            fragments.Add(FlightSteps.Fragment(type, messageSeq, body, offset, length));
        }
        return fragments;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Case14_ClientKeyExchange_in_2_byte_reversed_duplicated_overlapping_fragments_completes(int fragmentsPerRecord)
    {
        using var s = new Setup();
        var fragments = Shredded(HandshakeType.ClientKeyExchange, s.KeyExchangeSeq, s.KeyExchangeBody);
        var records = FlightSteps.PackRecords(fragments, fragmentsPerRecord, firstSequence: 10);

        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, s.Connection.State);
            s.Deliver(records[i]);
            if (i < records.Count - 1)
            {
                Assert.Equal(s.KeyExchangeBody.Length, s.Connection.Reassembler.BufferedBytes);
            }
        }

        Assert.Equal(HandshakeState.ServerExpectChangeCipherSpec, s.Connection.State);
        Assert.Equal(0, s.Connection.Reassembler.BufferedBytes);
        Assert.Equal(0, s.Server.Sender.Count);
        // The Finished only verifies if the reassembled bytes equal the client's: the transcript proves it.
        FlightSteps.AssertCompletes(s.Server, s.Client, Wire.Concat(s.ChangeCipherSpec.Bytes(), s.Finished.Bytes()));
        FlightSteps.AssertOtherPeerFine(s.Server);
    }

    /// <summary>
    /// What HOSTILE 14 asks literally (RFC 6347 §4.2.3: every handshake message MUST be reassembled). Fragments of a
    /// ClientHello whose cookie cannot be seen yet wait in the engine's small cache bounded for all peers together.
    /// </summary>
    [Fact]
    public void Case14_ClientHello_with_cookie_in_2_byte_reversed_duplicated_overlapping_fragments_completes()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        client.Start();
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        FlightSteps.DeliverToClient(server, client);
        var flight3 = FlightSteps.Take(client);
        var (header, body) = Assert.Single(Wire.Records(Assert.Single(flight3)));
        Assert.True(HandshakeHeader.TryRead(body, out var hs) && hs.MsgType == HandshakeType.ClientHello);

        var fragments = Shredded(HandshakeType.ClientHello, hs.MessageSeq, FlightSteps.MessageBody(body));
        foreach (var record in FlightSteps.PackRecords(fragments, 1, header.SequenceNumber))
        {
            server.Deliver(client.Address, record);
        }

        // The fragments used record numbers the client does not know about; a real fragmenting client numbers its
        // later epoch-0 records after them, so this one's are renumbered to match.
        var sequence = 10_000UL;
        Exchange.Pump(server, client, (datagram, toServer) => toServer ? [Refragmenter.Renumber(datagram, ref sequence)] : [datagram]);
        Assert.True(client.Established);
        FlightSteps.AssertEcho(server, client);
    }

    // ---- 15 -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(1000, 3)]   // the lookahead window (4 message_seq values from next) is the limit
    [InlineData(8000, 2)]   // the per-peer byte cap (16 KiB) is the limit
    public void Case15_fragments_for_the_next_1000_messages_buffer_only_a_small_window_under_the_cap(int messageLength, int kept)
    {
        using var s = new Setup();
        var next = s.KeyExchangeSeq;
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        for (var batch = 0; batch < 100; batch++)
        {
            var records = new byte[10][];
            for (var i = 0; i < 10; i++)
            {
                var seq = (ushort)(next + 1 + batch * 10 + i);
                records[i] = HandshakeRecord((ulong)(10 + batch * 10 + i),
                    Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, seq, messageLength, 0, new byte[100]));
            }
            s.Deliver(records);
            Assert.True(s.Connection.Reassembler.BufferedBytes <= s.Server.Options.MaxReassemblyBytes);
        }

        FlightSteps.AssertDropped(s.Server, before, events, drops: 1000 - kept);
        Assert.Equal(kept * messageLength, s.Connection.Reassembler.BufferedBytes);
        Assert.Equal(next, s.Connection.Reassembler.NextSequence);
        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, s.Connection.State);
        FlightSteps.AssertOtherPeerFine(s.Server);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Case15_reassembly_bytes_at_the_cap_are_kept_and_cap_plus_one_is_rejected(bool overCap)
    {
        using var s = new Setup();
        var cap = s.Server.Options.MaxReassemblyBytes;
        var half = s.Server.Options.MaxHandshakeMessageLength;
        Assert.Equal(cap, 2 * half);
        var next = s.KeyExchangeSeq;
        s.Deliver(
            HandshakeRecord(10, Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, (ushort)(next + 1), half, 0, new byte[10])),
            HandshakeRecord(11, Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, (ushort)(next + 2), half - (overCap ? 0 : 1), 0, new byte[10])));
        var buffered = s.Connection.Reassembler.BufferedBytes;
        Assert.Equal(cap - (overCap ? 0 : 1), buffered);
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        // A one-byte message: the total becomes exactly the cap, or cap + 1.
        s.Deliver(HandshakeRecord(12, Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, (ushort)(next + 3), 1, 0, new byte[1])));

        FlightSteps.AssertDropped(s.Server, before, events, drops: overCap ? 1 : 0);
        Assert.Equal(cap, s.Connection.Reassembler.BufferedBytes);
    }

    [Fact]
    public void Case15_message_beyond_the_lookahead_window_is_rejected()
    {
        using var s = new Setup();
        var next = s.KeyExchangeSeq;
        s.Deliver(HandshakeRecord(10, Wire.HandshakeFragment(HandshakeType.ClientKeyExchange,
            (ushort)(next + HandshakeReassembler.DefaultMaxLookahead - 1), 50, 0, new byte[10])));
        Assert.Equal(50, s.Connection.Reassembler.BufferedBytes);
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        s.Deliver(HandshakeRecord(11, Wire.HandshakeFragment(HandshakeType.ClientKeyExchange,
            (ushort)(next + HandshakeReassembler.DefaultMaxLookahead), 50, 0, new byte[10])));

        FlightSteps.AssertDropped(s.Server, before, events, drops: 1);
        Assert.Equal(50, s.Connection.Reassembler.BufferedBytes);
        s.CompleteHonestly();
    }

    // ---- 16 -------------------------------------------------------------------------------------------------

    /// <summary>Buffers partial messages two and three ahead of next (not the Finished's message_seq): 1000 bytes.</summary>
    private static void BufferLeftovers(Setup s)
    {
        var next = s.KeyExchangeSeq;
        s.Deliver(
            HandshakeRecord(20, Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, (ushort)(next + 2), 500, 0, new byte[100])),
            HandshakeRecord(21, Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, (ushort)(next + 3), 500, 100, new byte[100])));
        Assert.Equal(1000, s.Connection.Reassembler.BufferedBytes);
    }

    [Fact]
    public void Case16_leftover_fragments_are_freed_when_the_handshake_completes()
    {
        using var s = new Setup();
        BufferLeftovers(s);
        var reassembler = s.Connection.Reassembler;

        s.CompleteHonestly();

        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.Equal(0, s.Connection.BufferedHandshakeBytes);
        Assert.True(s.Connection.HandshakeStateReleased);
    }

    [Fact]
    public void Case16_leftover_fragments_are_freed_when_the_handshake_fails()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        client.Connection.VerifyDataHookForTests = verifyData => verifyData[0] ^= 1;
        var flight5 = FlightSteps.ToFlight5(server, client);
        var connection = FlightSteps.ServerSide(server, s_peer);
        var next = connection.Reassembler.NextSequence;
        server.Deliver(client.Address, HandshakeRecord(20,
            Wire.HandshakeFragment(HandshakeType.ClientKeyExchange, (ushort)(next + 2), 500, 0, new byte[100])));
        var reassembler = connection.Reassembler;
        Assert.Equal(500, reassembler.BufferedBytes);

        FlightSteps.Deliver(server, client, flight5);

        Assert.True(connection.IsClosed);
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.True(connection.HandshakeStateReleased);
        Assert.Equal(0, server.Statistics.Sessions);
    }

    [Fact]
    public void Case16_leftover_fragments_are_freed_when_the_handshake_times_out()
    {
        using var s = new Setup();
        BufferLeftovers(s);
        var reassembler = s.Connection.Reassembler;

        s.Server.Advance(s.Server.Options.HandshakeTimeout + TimeSpan.FromSeconds(1));

        Assert.True(s.Connection.IsClosed);
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.True(s.Connection.HandshakeStateReleased);
        Assert.Equal(0, s.Server.Statistics.Sessions);
        Assert.Equal(0, s.Server.Statistics.HandshakesInProgress);
    }

    // ---- 17 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case17_late_first_ClientHello_is_discarded_without_a_resend_or_a_state_change()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        var flights = FlightSteps.Run(server, client);
        var connection = FlightSteps.ServerSide(server, s_peer);
        var before = server.Statistics;
        var events = FlightSteps.HandlerEvents(server);

        // Flight 1 (message_seq 0, no cookie, same random) arrives late, after flight 3 started the handshake.
        FlightSteps.Deliver(server, client, flights.Flight1);

        FlightSteps.AssertDropped(server, before, events, drops: 1);
        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, connection.State);
        Assert.Same(connection, FlightSteps.ServerSide(server, s_peer));
        FlightSteps.AssertCompletes(server, client, [.. flights.Flight5]);
    }

    [Theory]
    [InlineData(0, 1)]      // ClientHello, older than the previous flight
    [InlineData(0, 16)]     // ClientKeyExchange
    [InlineData(1, 16)]     // the previous flight's message_seq, but not its message
    [InlineData(1, 2)]      // ServerHello
    public void Case17_old_message_seq_that_is_not_a_retransmission_is_discarded(ushort messageSeq, byte typeCode)
    {
        using var s = new Setup();
        Assert.Equal(2, s.KeyExchangeSeq);
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        s.Deliver(HandshakeRecord(40, Wire.Handshake((HandshakeType)typeCode, messageSeq, new byte[40])));

        FlightSteps.AssertDropped(s.Server, before, events, drops: 1);
        Assert.Equal(HandshakeState.ServerExpectClientKeyExchange, s.Connection.State);
        Assert.Equal(0, s.Connection.Reassembler.BufferedBytes);
        s.CompleteHonestly();
    }

    [Fact]
    public void Case17_old_message_after_the_handshake_is_discarded_and_the_association_keeps_working()
    {
        using var s = new Setup();
        s.CompleteHonestly();
        var before = s.Server.Statistics;
        var events = FlightSteps.HandlerEvents(s.Server);

        // The client's ClientKeyExchange again, renumbered past the replay window: old (message_seq 2 < 4), not the
        // last message of the client's last flight (the Finished).
        s.Deliver(s.KeyExchange.Bytes(sequence: 500));

        FlightSteps.AssertDropped(s.Server, before, events, drops: 1);
        Assert.True(s.Connection.IsEstablished);
        FlightSteps.AssertEcho(s.Server, s.Client, "still here");
    }

    [Fact]
    public void Case17_control_a_retransmitted_flight_3_ClientHello_repeats_flight_4()
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, s_peer);
        client.Start();
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        FlightSteps.DeliverToClient(server, client);
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));
        var flight4 = server.Sender.TakeFor(client.Address);
        Assert.NotEmpty(flight4);

        // Flight 4 is lost; the client's timer repeats flight 3 (same message, new record sequence number). Only the
        // clock moves: the server's own timer does not run.
        server.Time.Advance(client.Options.InitialRetransmitTimeout);
        client.Tick();
        FlightSteps.Deliver(server, client, FlightSteps.Take(client));

        Assert.Equal(flight4.Count, server.Sender.TakeFor(client.Address).Count);
        Assert.Equal(1, server.Statistics.HandshakesStarted);
        Assert.Equal(1, server.Statistics.Sessions);
    }

    // ---- 18 -------------------------------------------------------------------------------------------------

    [Fact]
    public void Case18_fragments_of_a_cookieless_ClientHello_keep_no_state()
    {
        using var server = new ServerHarness();
        var from = s_stranger.Serialize();
        var body = Wire.ClientHelloBody(new byte[32], []);
        var half = 40; // client_version, random, session_id and the cookie all fall in the first fragment
        var before = server.Statistics;

        // The first fragment shows the (empty) cookie: judged at once, dropped, nothing kept.
        server.Deliver(from, HandshakeRecord(0, FlightSteps.Fragment(HandshakeType.ClientHello, 0, body, 0, half)));
        FlightSteps.AssertDropped(server, before, 0, drops: 1);
        Assert.Equal(0, server.Engine.PendingHelloFragments);

        // A later fragment cannot be judged: it waits in the bounded shared cache, never as per-peer state, and
        // nothing is sent. It would complete the message only if the first fragment had been kept: it was not.
        server.Deliver(from, HandshakeRecord(1, FlightSteps.Fragment(HandshakeType.ClientHello, 0, body, half, body.Length - half)));
        FlightSteps.AssertDropped(server, before, 0, drops: 1);
        Assert.Equal(1, server.Engine.PendingHelloFragments);

        // A partial hello nobody completes is forgotten.
        server.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(0, server.Engine.PendingHelloFragments);

        // Control: the same ClientHello whole gets its HelloVerifyRequest.
        server.Deliver(from, HandshakeRecord(2, Wire.Handshake(HandshakeType.ClientHello, 0, body)));
        Assert.NotNull(Wire.CookieOf(Assert.Single(server.Sender.TakeFor(from))));
        Assert.Equal(0, server.Statistics.Sessions);
    }

    [Fact]
    public void Case18_a_flood_of_unjudgeable_ClientHello_fragments_stays_within_the_shared_cache()
    {
        using var server = new ServerHarness();
        var body = Wire.ClientHelloBody(new byte[32], []);
        for (var port = 0; port < 5000; port++)
        {
            var from = new IPEndPoint(IPAddress.Loopback, 20000 + port).Serialize();
            server.Deliver(from, HandshakeRecord(0, FlightSteps.Fragment(HandshakeType.ClientHello, 0, body, 10, 20)));
        }
        Assert.Equal(0, server.Sender.Count);
        Assert.Equal(0, server.Statistics.Sessions);
        Assert.Equal(HelloFragmentCache.DefaultCapacity, server.Engine.PendingHelloFragments);
        FlightSteps.AssertOtherPeerFine(server);
    }

    [Fact]
    public void Case18_fragmented_ClientHello_with_a_valid_cookie_starts_the_handshake_once_complete()
    {
        using var server = new ServerHarness();
        var from = s_stranger.Serialize();
        var random = new byte[32];
        random[0] = 7;
        var cookie = Wire.FetchCookie(server, from, random);
        var body = Wire.ClientHelloBody(random, cookie);
        var half = body.Length / 2;

        server.Deliver(from, HandshakeRecord(1, FlightSteps.Fragment(HandshakeType.ClientHello, 1, body, 0, half)));
        Assert.Equal(0, server.Statistics.Sessions);
        Assert.Equal(0, server.Sender.Count);

        server.Deliver(from, HandshakeRecord(2, FlightSteps.Fragment(HandshakeType.ClientHello, 1, body, half, body.Length - half)));
        Assert.Equal(1, server.Statistics.HandshakesStarted);
        Assert.Equal(0, server.Engine.PendingHelloFragments);
        Assert.NotEmpty(server.Sender.TakeFor(from));
    }
}
