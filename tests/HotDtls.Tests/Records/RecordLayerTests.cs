using System.Reflection;
using System.Runtime.CompilerServices;
using HotDtls.Crypto;
using HotDtls.Records;

namespace HotDtls.Tests.Records;

public sealed class RecordLayerTests
{
    [Fact]
    public void Epoch_0_record_is_written_in_clear_and_opened_as_a_slice_of_the_body()
    {
        using var writer = new RecordLayer();
        using var reader = new RecordLayer();
        var payload = "a handshake fragment"u8.ToArray();
        var record = new byte[RecordLayer.RecordSize(CipherSuiteInfo.Aes128GcmSha256, 0, payload.Length)];

        Assert.Equal(record.Length, writer.Write(ContentType.Handshake, 0, payload, record));

        Assert.True(RecordHeader.TryRead(record, out var header));
        Assert.Equal(ContentType.Handshake, header.Type);
        Assert.Equal(ProtocolVersion.Dtls12, header.Version);
        Assert.Equal(0, header.Epoch);
        Assert.Equal(0UL, header.SequenceNumber);
        Assert.Equal(payload.Length, header.Length);
        var body = record.AsSpan(RecordHeader.Size);
        Assert.Equal(payload, body.ToArray());

        Assert.Equal(OpenResult.Opened, reader.TryOpen(header, body, out var plaintext));
        Assert.Equal(payload, plaintext.ToArray());
        Assert.True(Unsafe.AreSame(ref body[0], ref plaintext[0]), "the plaintext must be the body itself, not a copy");
    }

    [Fact]
    public void Epoch_0_duplicate_is_replayed()
    {
        using var reader = new RecordLayer();
        var header = new RecordHeader(ContentType.Handshake, ProtocolVersion.Dtls12, 0, 5, 3);

        Assert.Equal(OpenResult.Opened, reader.TryOpen(header, new byte[3], out _));
        Assert.Equal(OpenResult.Replayed, reader.TryOpen(header, new byte[3], out _));
        // Older but inside the window and unseen: accepted (reordering is normal on UDP).
        Assert.Equal(OpenResult.Opened, reader.TryOpen(WithSequence(header, 4), new byte[3], out _));
    }

    [Fact]
    public void AcceptEpoch0_marks_a_sequence_number_as_seen()
    {
        using var reader = new RecordLayer();
        reader.AcceptEpoch0(7);

        Assert.Equal(OpenResult.Replayed,
            reader.TryOpen(new RecordHeader(ContentType.Handshake, ProtocolVersion.Dtls12, 0, 7, 1), new byte[1], out _));
    }

    [Fact]
    public void Epoch_0_body_over_the_plaintext_limit_is_too_long_and_not_marked_seen()
    {
        using var reader = new RecordLayer();
        var header = new RecordHeader(ContentType.Handshake, ProtocolVersion.Dtls12, 0, 1, DatagramReader.MaxPlaintextLength + 1);

        Assert.Equal(OpenResult.TooLong, reader.TryOpen(header, new byte[DatagramReader.MaxPlaintextLength + 1], out _));
        Assert.Equal(OpenResult.Opened, reader.TryOpen(WithSequence(header, 1, 4), new byte[4], out _));
    }

    [Theory]
    [InlineData("128", (byte)ContentType.ApplicationData)]
    [InlineData("256", (byte)ContentType.ApplicationData)]
    [InlineData("128", (byte)ContentType.Handshake)]
    [InlineData("256", (byte)ContentType.Alert)]
    public void Epoch_1_seal_and_open_round_trip_in_both_directions(string suiteName, byte typeValue)
    {
        var type = (ContentType)typeValue;
        using var pair = Pair.Create(Suite(suiteName));
        var fromClient = "ping from the client"u8.ToArray();
        var fromServer = "pong from the server"u8.ToArray();

        var record = Seal(pair.Client, type, fromClient);
        Assert.True(RecordHeader.TryRead(record, out var header));
        Assert.Equal(type, header.Type);
        Assert.Equal(1, header.Epoch);
        Assert.Equal(fromClient.Length + AeadRecordCipher.Overhead, header.Length);
        Assert.False(record.AsSpan().IndexOf(fromClient) >= 0, "epoch 1 payload went out in clear");
        var body = record.AsSpan(RecordHeader.Size);
        Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, body, out var plaintext));
        Assert.Equal(fromClient, plaintext.ToArray());
        Assert.True(Unsafe.AreSame(ref body[AeadRecordCipher.ExplicitNonceLength], ref plaintext[0]), "decrypted in place");

        record = Seal(pair.Server, type, fromServer);
        Assert.True(RecordHeader.TryRead(record, out header));
        Assert.Equal(OpenResult.Opened, pair.Client.TryOpen(header, record.AsSpan(RecordHeader.Size), out plaintext));
        Assert.Equal(fromServer, plaintext.ToArray());
    }

    [Fact]
    public void A_record_sealed_by_one_side_does_not_open_with_its_own_read_keys()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var record = Seal(pair.Client, ContentType.ApplicationData, "x"u8);
        Assert.True(RecordHeader.TryRead(record, out var header));

        Assert.Equal(OpenResult.AuthenticationFailed, pair.Client.TryOpen(header, record.AsSpan(RecordHeader.Size), out _));
    }

    [Fact]
    public void Epoch_1_replay_is_rejected()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var record = Seal(pair.Client, ContentType.ApplicationData, "once"u8);
        var copy = (byte[])record.Clone();
        Assert.True(RecordHeader.TryRead(record, out var header));

        Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, record.AsSpan(RecordHeader.Size), out _));
        Assert.Equal(OpenResult.Replayed, pair.Server.TryOpen(header, copy.AsSpan(RecordHeader.Size), out _));
    }

    [Fact]
    public void Epoch_1_records_out_of_order_within_the_window_open()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var records = new List<byte[]>();
        for (var i = 0; i < 5; i++)
        {
            records.Add(Seal(pair.Client, ContentType.ApplicationData, [(byte)i]));
        }
        records.Reverse();

        foreach (var record in records)
        {
            Assert.True(RecordHeader.TryRead(record, out var header));
            Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, record.AsSpan(RecordHeader.Size), out var plaintext));
            Assert.Equal((byte)header.SequenceNumber, plaintext[0]);
        }
    }

    [Fact]
    public void Epoch_1_without_keys_is_NoKeys()
    {
        using var layer = new RecordLayer();
        var header = new RecordHeader(ContentType.ApplicationData, ProtocolVersion.Dtls12, 1, 0, 40);

        Assert.Equal(OpenResult.NoKeys, layer.TryOpen(header, new byte[40], out _));
    }

    [Fact]
    public void Pending_read_keys_are_not_used_before_ActivateRead()
    {
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        using var client = new RecordLayer();
        AeadRecordCipher.CreatePair(suite, KeyBlock(suite), isServer: false, out var clientRead, out var clientWrite);
        client.SetPendingCiphers(clientRead, clientWrite);
        client.ActivateWrite();
        using var server = new RecordLayer();
        AeadRecordCipher.CreatePair(suite, KeyBlock(suite), isServer: true, out var serverRead, out var serverWrite);
        server.SetPendingCiphers(serverRead, serverWrite);
        var record = Seal(client, ContentType.Handshake, "finished"u8);
        Assert.True(RecordHeader.TryRead(record, out var header));

        Assert.True(server.HasPendingKeys);
        Assert.Equal(OpenResult.NoKeys, server.TryOpen(header, ((byte[])record.Clone()).AsSpan(RecordHeader.Size), out _));
        Assert.Equal(0, server.ReadEpoch);

        Assert.True(server.ActivateRead());
        Assert.Equal(1, server.ReadEpoch);
        Assert.Equal(OpenResult.Opened, server.TryOpen(header, record.AsSpan(RecordHeader.Size), out _));
        // A second ChangeCipherSpec never activates again (HOSTILE 32).
        Assert.False(server.ActivateRead());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(ushort.MaxValue)]
    public void Epochs_above_1_are_NoKeys_even_with_keys(int epoch)
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var header = new RecordHeader(ContentType.ApplicationData, ProtocolVersion.Dtls12, (ushort)epoch, 0, 40);

        Assert.Equal(OpenResult.NoKeys, pair.Server.TryOpen(header, new byte[40], out _));
    }

    [Fact]
    public void ActivateRead_without_pending_keys_fails()
    {
        using var layer = new RecordLayer();

        Assert.False(layer.ActivateRead());
        Assert.Equal(0, layer.ReadEpoch);
    }

    [Fact]
    public void Authentication_failure_does_not_advance_the_replay_window()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var genuine = Seal(pair.Client, ContentType.ApplicationData, "genuine"u8);
        Assert.True(RecordHeader.TryRead(genuine, out var header));

        // A forgery with the same sequence number: one flipped ciphertext bit.
        var forged = (byte[])genuine.Clone();
        forged[^1] ^= 0x01;
        Assert.Equal(OpenResult.AuthenticationFailed, pair.Server.TryOpen(header, forged.AsSpan(RecordHeader.Size), out _));
        // A forgery far ahead: had it slid the window, the genuine record would now be "too old".
        var ahead = (byte[])genuine.Clone();
        var aheadHeader = WithSequence(header, 10_000);
        Assert.Equal(OpenResult.AuthenticationFailed, pair.Server.TryOpen(aheadHeader, ahead.AsSpan(RecordHeader.Size), out _));

        Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, genuine.AsSpan(RecordHeader.Size), out var plaintext));
        Assert.Equal("genuine"u8.ToArray(), plaintext.ToArray());
    }

    [Fact]
    public void A_record_with_a_changed_header_does_not_authenticate()
    {
        // The header (type, epoch, sequence, length) is in the AEAD's additional data (RFC 5246 §6.2.3.3).
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var record = Seal(pair.Client, ContentType.ApplicationData, "typed"u8);
        Assert.True(RecordHeader.TryRead(record, out var header));
        var retyped = new RecordHeader(ContentType.Handshake, header.Version, header.Epoch, header.SequenceNumber, header.Length);

        Assert.Equal(OpenResult.AuthenticationFailed, pair.Server.TryOpen(retyped, record.AsSpan(RecordHeader.Size), out _));
    }

    [Fact]
    public void Write_sequence_numbers_count_per_epoch()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var layer = pair.Client;
        var buffer = new byte[256];
        var sequences = new List<(ushort Epoch, ulong Sequence)>();
        foreach (var epoch in new ushort[] { 0, 0, 1, 0, 1, 1, 0 })
        {
            Assert.True(layer.Write(ContentType.Handshake, epoch, "p"u8, buffer) > 0);
            Assert.True(RecordHeader.TryRead(buffer, out var header));
            sequences.Add((header.Epoch, header.SequenceNumber));
        }

        Assert.Equal([(0, 0UL), (0, 1UL), (1, 0UL), (0, 2UL), (1, 1UL), (1, 2UL), (0, 3UL)], sequences);
    }

    [Fact]
    public void SetNextWriteSequence0_sets_the_next_epoch_0_number_only()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var buffer = new byte[256];
        pair.Client.SetNextWriteSequence0(41);

        pair.Client.Write(ContentType.Handshake, 0, "p"u8, buffer);
        Assert.True(RecordHeader.TryRead(buffer, out var zero));
        pair.Client.Write(ContentType.Handshake, 1, "p"u8, buffer);
        Assert.True(RecordHeader.TryRead(buffer, out var one));

        Assert.Equal(41UL, zero.SequenceNumber);
        Assert.Equal(0UL, one.SequenceNumber);
    }

    [Fact]
    public void Epoch_0_sequence_numbers_never_wrap()
    {
        // RFC 6347 §4.1: past 2^48-1 the epoch is exhausted; Write refuses rather than wrapping to 0.
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var buffer = new byte[256];
        pair.Client.SetNextWriteSequence0(RecordHeader.MaxSequenceNumber);

        Assert.True(pair.Client.Write(ContentType.Handshake, 0, "p"u8, buffer) > 0);
        Assert.True(RecordHeader.TryRead(buffer, out var last));
        Assert.Equal(RecordHeader.MaxSequenceNumber, last.SequenceNumber);
        Assert.Equal(-1, pair.Client.Write(ContentType.Handshake, 0, "p"u8, buffer));
        Assert.Equal(-1, pair.Client.Write(ContentType.Handshake, 0, "p"u8, buffer));
        // Epoch 1 counts on its own.
        Assert.True(pair.Client.Write(ContentType.ApplicationData, 1, "p"u8, buffer) > 0);
    }

    [Fact]
    public void Writing_epoch_1_without_keys_is_misuse()
    {
        using var layer = new RecordLayer();

        Assert.Throws<InvalidOperationException>(() => layer.Write(ContentType.ApplicationData, 1, "p"u8, new byte[256]));
    }

    [Fact]
    public void Epochs_move_only_on_activation()
    {
        var suite = CipherSuiteInfo.Aes256GcmSha384;
        using var layer = new RecordLayer();
        Assert.Equal(0, layer.ReadEpoch);
        Assert.Equal(0, layer.WriteEpoch);
        Assert.False(layer.HasPendingKeys);

        AeadRecordCipher.CreatePair(suite, KeyBlock(suite), isServer: true, out var read, out var write);
        layer.SetPendingCiphers(read, write);
        Assert.True(layer.HasPendingKeys);
        Assert.Equal(0, layer.ReadEpoch);
        Assert.Equal(0, layer.WriteEpoch);

        layer.ActivateWrite();
        Assert.Equal(1, layer.WriteEpoch);
        Assert.Equal(0, layer.ReadEpoch);
        Assert.True(layer.HasPendingKeys);

        Assert.True(layer.ActivateRead());
        Assert.Equal(1, layer.ReadEpoch);
        Assert.False(layer.HasPendingKeys);
    }

    [Fact]
    public void Dispose_forgets_the_keys()
    {
        var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var record = Seal(pair.Client, ContentType.ApplicationData, "late"u8);
        Assert.True(RecordHeader.TryRead(record, out var header));

        pair.Dispose();

        Assert.Equal(OpenResult.NoKeys, pair.Server.TryOpen(header, record.AsSpan(RecordHeader.Size), out _));
    }

    [Theory]
    [InlineData("128")]
    [InlineData("256")]
    public void Idle_directions_are_parked_in_place_and_recreated_from_the_inline_keys(string suiteName)
    {
        using var pair = Pair.Create(Suite(suiteName));
        var record = Seal(pair.Client, ContentType.ApplicationData, "before"u8);
        Assert.True(RecordHeader.TryRead(record, out var header));
        Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, record.AsSpan(RecordHeader.Size), out _));
        Assert.Equal((true, false), pair.Server.CiphersActive);

        // Used since the last check: kept. Unused for a whole period: released.
        Assert.Equal(0, pair.Server.ParkIdleCiphers());
        Assert.Equal(1, pair.Server.ParkIdleCiphers());
        Assert.Equal((false, false), pair.Server.CiphersActive);
        Assert.Equal(0, pair.Server.ParkIdleCiphers());

        var after = Seal(pair.Client, ContentType.ApplicationData, "after"u8);
        Assert.True(RecordHeader.TryRead(after, out header));
        Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, after.AsSpan(RecordHeader.Size), out var plaintext));
        Assert.Equal("after"u8.ToArray(), plaintext.ToArray());
        Assert.Equal((true, false), pair.Server.CiphersActive);
    }

    [Fact]
    public void Pending_keys_are_not_parked()
    {
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        using var layer = new RecordLayer();
        AeadRecordCipher.CreatePair(suite, KeyBlock(suite), isServer: true, out var read, out var write);
        layer.SetPendingCiphers(read, write);

        Assert.Equal(0, layer.ParkIdleCiphers());
        Assert.Equal(0, layer.ParkIdleCiphers());
        Assert.True(layer.HasPendingKeys);
    }

    [Fact]
    public void SetPendingCiphers_takes_the_keys_out_of_the_ciphers()
    {
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        using var layer = new RecordLayer();
        AeadRecordCipher.CreatePair(suite, KeyBlock(suite), isServer: true, out var read, out var write);

        layer.SetPendingCiphers(read, write);

        // The layer owns the keys now; the cipher objects are left empty, as if disposed.
        Assert.Throws<ObjectDisposedException>(() => write.Seal(ContentType.ApplicationData, 1, 0, "p"u8, new byte[64]));
        Assert.Throws<ObjectDisposedException>(() => read.Seal(ContentType.ApplicationData, 1, 0, "p"u8, new byte[64]));
        layer.ActivateWrite();
        Assert.True(layer.Write(ContentType.ApplicationData, 1, "p"u8, new byte[64]) > 0);
    }

    [Fact]
    public void Keys_are_installed_once()
    {
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        using var pair = Pair.Create(suite);

        Assert.Throws<InvalidOperationException>(() => pair.Server.SetPendingKeys(suite, KeyBlock(suite), isServer: true));
    }

    [Fact]
    public void SetPendingKeys_matches_ciphers_made_from_the_same_key_block()
    {
        var suite = CipherSuiteInfo.Aes256GcmSha384;
        using var pair = Pair.Create(suite);
        using var direct = new RecordLayer();
        direct.SetPendingKeys(suite, KeyBlock(suite), isServer: false);
        direct.ActivateWrite();

        var fromDirect = Seal(direct, ContentType.ApplicationData, "same"u8);
        var fromPair = Seal(pair.Client, ContentType.ApplicationData, "same"u8);

        Assert.Equal(fromPair, fromDirect);
    }

    [Fact]
    public void AES_256_directions_move_to_libsodium_after_64_records_inside_the_layer()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes256GcmSha384);
        for (var i = 1; i <= 70; i++)
        {
            var record = Seal(pair.Client, ContentType.ApplicationData, "steady"u8);
            Assert.True(RecordHeader.TryRead(record, out var header));
            Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, record.AsSpan(RecordHeader.Size), out _));
            var moved = RecordDirection.UseLibsodiumForAes256 && i >= 64;
            Assert.Equal((false, moved), pair.Client.UsesLibsodium);
            Assert.Equal((moved, false), pair.Server.UsesLibsodium);
        }
    }

    [Fact]
    public void Dispose_zeroes_the_inline_keys()
    {
        var pair = Pair.Create(CipherSuiteInfo.Aes256GcmSha384);
        Assert.Contains(InlineKey(pair.Server, "_read"), b => b != 0);
        Assert.Contains(InlineKey(pair.Server, "_write"), b => b != 0);

        pair.Dispose();

        Assert.All(InlineKey(pair.Server, "_read"), b => Assert.Equal(0, b));
        Assert.All(InlineKey(pair.Server, "_write"), b => Assert.Equal(0, b));
    }

    private static byte[] InlineKey(RecordLayer layer, string direction)
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.NonPublic;
        var state = typeof(RecordLayer).GetField(direction, flags)!.GetValue(layer)!;
        var key = (DirectionKeyMaterial)typeof(RecordDirection).GetField("_material", flags)!.GetValue(state)!;
        return ((ReadOnlySpan<byte>)key).ToArray();
    }

    [Fact]
    public void Sizes_and_payload_offsets_match_the_record_format()
    {
        Assert.Equal(13 + 100, RecordLayer.RecordSize(CipherSuiteInfo.Aes128GcmSha256, 0, 100));
        Assert.Equal(13 + 100 + 8 + 16, RecordLayer.RecordSize(CipherSuiteInfo.Aes128GcmSha256, 1, 100));
        Assert.Equal(13, RecordLayer.PayloadOffset(CipherSuiteInfo.Aes128GcmSha256, 0));
        Assert.Equal(13 + 8, RecordLayer.PayloadOffset(CipherSuiteInfo.Aes128GcmSha256, 1));
    }

    [Fact]
    public void Epoch_1_payload_placed_at_the_payload_offset_is_sealed_in_place()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        var payload = "in place"u8.ToArray();
        var buffer = new byte[RecordLayer.RecordSize(CipherSuiteInfo.Aes128GcmSha256, 1, payload.Length)];
        payload.CopyTo(buffer, RecordLayer.PayloadOffset(CipherSuiteInfo.Aes128GcmSha256, 1));

        var written = pair.Client.Write(ContentType.ApplicationData, 1, buffer.AsSpan(RecordLayer.PayloadOffset(CipherSuiteInfo.Aes128GcmSha256, 1), payload.Length), buffer);

        Assert.Equal(buffer.Length, written);
        Assert.True(RecordHeader.TryRead(buffer, out var header));
        Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, buffer.AsSpan(RecordHeader.Size), out var plaintext));
        Assert.Equal(payload, plaintext.ToArray());
    }

    [Fact]
    public void A_record_at_the_announced_limit_opens_and_one_byte_more_is_an_overflow_that_keeps_the_window()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        pair.Server.SetPlaintextLimits(0, 100);

        var atLimit = Seal(pair.Client, ContentType.ApplicationData, new byte[100]);
        Assert.True(RecordHeader.TryRead(atLimit, out var header));
        Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, atLimit.AsSpan(RecordHeader.Size), out _));

        var over = Seal(pair.Client, ContentType.ApplicationData, new byte[101]);
        var copy = (byte[])over.Clone();
        Assert.True(RecordHeader.TryRead(over, out header));
        Assert.Equal(OpenResult.Overflow, pair.Server.TryOpen(header, over.AsSpan(RecordHeader.Size), out _));

        // Without a negotiated limit the same record is within 2^14 and opens.
        pair.Server.SetPlaintextLimits(0, 0);
        Assert.Equal(OpenResult.Opened, pair.Server.TryOpen(header, copy.AsSpan(RecordHeader.Size), out _));
    }

    [Fact]
    public void A_forged_record_over_the_limit_fails_authentication_not_the_limit()
    {
        using var pair = Pair.Create(CipherSuiteInfo.Aes128GcmSha256);
        pair.Server.SetPlaintextLimits(0, 64);
        var record = Seal(pair.Client, ContentType.ApplicationData, new byte[200]);
        record[^1] ^= 1;
        Assert.True(RecordHeader.TryRead(record, out var header));

        Assert.Equal(OpenResult.AuthenticationFailed, pair.Server.TryOpen(header, record.AsSpan(RecordHeader.Size), out _));
    }

    [Fact]
    public void MaxPayload_is_the_peers_limit_less_the_inner_type_byte_of_a_tls12_cid_record()
    {
        using var records = new RecordLayer();
        Assert.Equal(16384, records.MaxPayload(0));
        Assert.Equal(16384, records.SendPlaintextLimit);
        Assert.False(records.PeerLimitsRecordSize);

        records.SetPlaintextLimits(256, 1000);
        Assert.Equal(256, records.MaxPayload(0));
        Assert.Equal(256, records.MaxPayload(1));
        Assert.True(records.PeerLimitsRecordSize);
        Assert.Equal(1000, records.ReceivePlaintextLimit);

        records.SetConnectionIds([1, 2, 3], 0);
        Assert.Equal(256, records.MaxPayload(0)); // plaintext records carry no CID and no inner type
        Assert.Equal(255, records.MaxPayload(1));

        // At the protocol's own 2^14 nothing changes: a tls12_cid record carries 2^14 as it always did.
        records.SetPlaintextLimits(16384, 0);
        Assert.False(records.PeerLimitsRecordSize);
        Assert.Equal(16384, records.MaxPayload(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => records.SetPlaintextLimits(16385, 0));
    }

    public static TheoryData<string> AllSuiteNames()
    {
        var data = new TheoryData<string>();
        foreach (var info in CipherSuiteInfo.All)
        {
            data.Add(info.Suite.ToString());
        }
        return data;
    }

    private static (RecordLayer Client, RecordLayer Server) KeyedPair(CipherSuiteInfo suite, byte[] clientCid, byte[] serverCid)
    {
        var client = new RecordLayer();
        client.SetPendingKeys(suite, KeyBlock(suite), isServer: false);
        client.ActivateWrite();
        client.ActivateRead();
        client.SetConnectionIds(serverCid, clientCid.Length);
        var server = new RecordLayer();
        server.SetPendingKeys(suite, KeyBlock(suite), isServer: true);
        server.ActivateWrite();
        server.ActivateRead();
        server.SetConnectionIds(clientCid, serverCid.Length);
        return (client, server);
    }

    private static (RecordHeader Header, byte[] Cid, byte[] Body) ReadCidRecord(byte[] record, int cidLength)
    {
        var reader = new DatagramReader(record, cidLength);
        Assert.True(reader.TryReadRecord(out var header, out var offset));
        return (header, DatagramReader.ConnectionIdOf(record, header, offset).ToArray(), record.AsSpan(offset, header.Length).ToArray());
    }

    [Theory]
    [MemberData(nameof(AllSuiteNames))]
    public void A_tls12_cid_record_carries_the_CID_and_hides_the_real_type_in_every_suite(string suiteName)
    {
        var suite = CipherSuiteInfo.Get(Enum.Parse<CipherSuite>(suiteName));
        var (client, server) = KeyedPair(suite, clientCid: [9, 9], serverCid: [1, 2, 3, 4, 5, 6]);
        using var clientLayer = client;
        using var serverLayer = server;
        var payload = "inner plaintext"u8.ToArray();
        var record = new byte[client.RecordSize(1, payload.Length)];

        Assert.Equal(record.Length, client.Write(ContentType.Alert, 1, payload, record));

        Assert.Equal((byte)ContentType.Tls12Cid, record[0]);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6 }, record[11..17]);
        var (header, cid, body) = ReadCidRecord(record, 6);
        Assert.Equal(OpenResult.Opened, server.TryOpen(header, cid, body, out var plaintext, out var type));
        Assert.Equal(ContentType.Alert, type);
        Assert.Equal(payload, plaintext.ToArray());
        Assert.True(server.LastOpenedWasNewest);
    }

    [Fact]
    public void The_CID_is_authenticated_a_record_opened_under_another_CID_fails()
    {
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        var (client, server) = KeyedPair(suite, clientCid: [], serverCid: [1, 2, 3, 4]);
        using var clientLayer = client;
        using var serverLayer = server;
        var record = new byte[client.RecordSize(1, 5)];
        client.Write(ContentType.ApplicationData, 1, "hello"u8, record);
        var (header, cid, body) = ReadCidRecord(record, 4);
        cid[3] ^= 1;

        Assert.Equal(OpenResult.AuthenticationFailed, server.TryOpen(header, cid, body, out _, out _));
    }

    [Fact]
    public void Inner_plaintext_of_zeros_only_has_no_type_and_is_malformed()
    {
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        using var sender = new RecordLayer();
        sender.SetPendingKeys(suite, KeyBlock(suite), isServer: false);
        sender.ActivateWrite();
        var (unusedClient, server) = KeyedPair(suite, clientCid: [], serverCid: [7, 7, 7, 7]);
        unusedClient.Dispose();
        using var serverLayer = server;
        // Seal an all-zero inner plaintext with the CID by hand: no real_type byte anywhere.
        byte[] cid = [7, 7, 7, 7];
        var inner = new byte[4];
        var record = new byte[RecordHeader.Size + 4 + suite.SealedLength(inner.Length)];
        var direction = default(RecordDirection);
        RecordDirection.SplitKeyBlock(suite, KeyBlock(suite), isServer: false, out _, out var write);
        direction.SetKey(suite, write);
        var bodyLength = direction.Seal(ContentType.Tls12Cid, 1, 0, cid, inner, record.AsSpan(RecordHeader.Size + 4));
        direction.Dispose();
        new RecordHeader(ContentType.Tls12Cid, ProtocolVersion.Dtls12, 1, 0, (ushort)bodyLength, 4).Write(record, cid);
        var (header, readCid, body) = ReadCidRecord(record, 4);

        Assert.Equal(OpenResult.Malformed, server.TryOpen(header, readCid, body, out _, out _));
    }

    [Fact]
    public void A_plain_protected_record_where_a_CID_is_expected_and_a_CID_record_where_none_is_are_refused()
    {
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        var (withCid, expectsCid) = KeyedPair(suite, clientCid: [], serverCid: [1, 2, 3, 4]);
        using var withCidLayer = withCid;
        using var expectsCidLayer = expectsCid;
        using var plain = Pair.Create(suite);

        var record = Seal(plain.Client, ContentType.ApplicationData, "x"u8);
        Assert.True(RecordHeader.TryRead(record, out var header));
        Assert.Equal(OpenResult.ConnectionIdMismatch, expectsCid.TryOpen(header, default, record.AsSpan(RecordHeader.Size), out _, out _));

        var cidRecord = new byte[withCid.RecordSize(1, 1)];
        withCid.Write(ContentType.ApplicationData, 1, "x"u8, cidRecord);
        var (cidHeader, cid, body) = ReadCidRecord(cidRecord, 4);
        Assert.Equal(OpenResult.ConnectionIdMismatch, plain.Server.TryOpen(cidHeader, cid, body, out _, out _));
    }

    [Fact]
    public void A_tls12_cid_record_in_epoch_0_is_malformed()
    {
        using var layer = new RecordLayer();
        var header = new RecordHeader(ContentType.Tls12Cid, ProtocolVersion.Dtls12, 0, 1, 8, 4);

        Assert.Equal(OpenResult.Malformed, layer.TryOpen(header, new byte[] { 1, 2, 3, 4 }, new byte[8], out _, out _));
    }

    [Fact]
    public void Only_a_record_above_every_earlier_one_is_the_newest()
    {
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        var (client, server) = KeyedPair(suite, clientCid: [], serverCid: [1, 2, 3, 4]);
        using var clientLayer = client;
        using var serverLayer = server;
        var records = new List<byte[]>();
        for (var i = 0; i < 3; i++)
        {
            var record = new byte[client.RecordSize(1, 1)];
            client.Write(ContentType.ApplicationData, 1, "x"u8, record);
            records.Add(record);
        }

        bool Open(byte[] record)
        {
            var (header, cid, body) = ReadCidRecord(record, 4);
            Assert.Equal(OpenResult.Opened, server.TryOpen(header, cid, body, out _, out _));
            return server.LastOpenedWasNewest;
        }

        Assert.True(Open(records[0]));
        Assert.True(Open(records[2]));
        Assert.False(Open(records[1]));
    }

    private static RecordHeader WithSequence(in RecordHeader header, ulong sequence, int? length = null)
        => new(header.Type, header.Version, header.Epoch, sequence, (ushort)(length ?? header.Length));

    private static byte[] Seal(RecordLayer layer, ContentType type, ReadOnlySpan<byte> payload)
    {
        var record = new byte[RecordLayer.RecordSize(CipherSuiteInfo.Aes128GcmSha256, 1, payload.Length)];
        Assert.Equal(record.Length, layer.Write(type, 1, payload, record));
        return record;
    }

    private static CipherSuiteInfo Suite(string name) => name == "128" ? CipherSuiteInfo.Aes128GcmSha256 : CipherSuiteInfo.Aes256GcmSha384;

    private static byte[] KeyBlock(CipherSuiteInfo suite)
    {
        var block = new byte[suite.KeyBlockLength];
        for (var i = 0; i < block.Length; i++)
        {
            block[i] = (byte)(0xA5 ^ i);
        }
        return block;
    }

    /// <summary>A client and a server record layer keyed from one key block, both epochs active.</summary>
    private sealed class Pair : IDisposable
    {
        private Pair(RecordLayer client, RecordLayer server)
        {
            Client = client;
            Server = server;
        }

        public RecordLayer Client { get; }
        public RecordLayer Server { get; }

        public static Pair Create(CipherSuiteInfo suite)
        {
            var keyBlock = KeyBlock(suite);
            var client = new RecordLayer();
            AeadRecordCipher.CreatePair(suite, keyBlock, isServer: false, out var clientRead, out var clientWrite);
            client.SetPendingCiphers(clientRead, clientWrite);
            client.ActivateWrite();
            client.ActivateRead();
            var server = new RecordLayer();
            AeadRecordCipher.CreatePair(suite, keyBlock, isServer: true, out var serverRead, out var serverWrite);
            server.SetPendingCiphers(serverRead, serverWrite);
            server.ActivateWrite();
            server.ActivateRead();
            return new Pair(client, server);
        }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }
}
