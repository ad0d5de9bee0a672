using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Records;

public sealed class DatagramReaderTests
{
    private static byte[] Record(ContentType type, ulong sequenceNumber, int bodyLength, byte fill = 0xAB)
    {
        var record = new byte[RecordHeader.Size + bodyLength];
        new RecordHeader(type, ProtocolVersion.Dtls12, 0, sequenceNumber, checked((ushort)bodyLength)).Write(record);
        record.AsSpan(RecordHeader.Size).Fill(fill);
        return record;
    }

    [Fact]
    public void Empty_datagram_is_a_clean_end()
    {
        var reader = new DatagramReader([]);
        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.False(reader.Malformed);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    [InlineData(11)]
    [InlineData(12)]
    public void Datagram_of_1_to_12_bytes_has_no_record_and_is_malformed(int length)
    {
        byte[] datagram = Record(ContentType.Handshake, 0, 0).AsSpan(0, length).ToArray();
        var reader = new DatagramReader(datagram);

        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.True(reader.Malformed);
    }

    [Fact]
    public void Single_record_fills_the_datagram()
    {
        byte[] datagram = Record(ContentType.ApplicationData, 7, 5, fill: 0x42);
        var reader = new DatagramReader(datagram);

        Assert.True(reader.TryReadRecord(out RecordHeader header, out int bodyOffset));
        Assert.Equal(ContentType.ApplicationData, header.Type);
        Assert.Equal(7UL, header.SequenceNumber);
        Assert.Equal(RecordHeader.Size, bodyOffset);
        Assert.Equal(new byte[] { 0x42, 0x42, 0x42, 0x42, 0x42 }, datagram.AsSpan(bodyOffset, header.Length).ToArray());

        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.False(reader.Malformed);
    }

    [Fact]
    public void Two_valid_records_then_garbage_returns_both_then_stops_malformed()
    {
        byte[] datagram = [.. Record(ContentType.Handshake, 1, 3, 0x11), .. Record(ContentType.Handshake, 2, 4, 0x22), 0xDE, 0xAD, 0xBE, 0xEF, 0x00];
        var reader = new DatagramReader(datagram);

        Assert.True(reader.TryReadRecord(out RecordHeader first, out int firstOffset));
        Assert.Equal(1UL, first.SequenceNumber);
        Assert.Equal(13, firstOffset);
        Assert.True(reader.TryReadRecord(out RecordHeader second, out int secondOffset));
        Assert.Equal(2UL, second.SequenceNumber);
        Assert.Equal(13 + 3 + 13, secondOffset);
        Assert.Equal((ushort)4, second.Length);
        Assert.Equal(0x22, datagram[secondOffset]);

        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.True(reader.Malformed);
        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.True(reader.Malformed);
    }

    [Fact]
    public void Length_past_the_end_stops_after_the_earlier_records()
    {
        byte[] truncated = Record(ContentType.ApplicationData, 9, 20);
        byte[] datagram = [.. Record(ContentType.Handshake, 1, 3), .. truncated.AsSpan(0, truncated.Length - 1)];
        var reader = new DatagramReader(datagram);

        Assert.True(reader.TryReadRecord(out RecordHeader first, out _));
        Assert.Equal(1UL, first.SequenceNumber);
        Assert.False(reader.TryReadRecord(out RecordHeader header, out int bodyOffset));
        Assert.Equal(0, bodyOffset);
        Assert.Equal(0UL, header.SequenceNumber);
        Assert.True(reader.Malformed);
    }

    [Fact]
    public void Length_at_MaxCiphertextLength_is_accepted()
    {
        byte[] datagram = Record(ContentType.ApplicationData, 1, DatagramReader.MaxCiphertextLength);
        var reader = new DatagramReader(datagram);

        Assert.True(reader.TryReadRecord(out RecordHeader header, out _));
        Assert.Equal(DatagramReader.MaxCiphertextLength, header.Length);
        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.False(reader.Malformed);
    }

    [Fact]
    public void Length_above_MaxCiphertextLength_is_malformed_even_when_the_bytes_are_there()
    {
        byte[] datagram = Record(ContentType.ApplicationData, 1, DatagramReader.MaxCiphertextLength + 1);
        var reader = new DatagramReader(datagram);

        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.True(reader.Malformed);
    }

    [Fact]
    public void Caps_match_the_rfcs()
    {
        Assert.Equal(1 << 14, DatagramReader.MaxPlaintextLength);
        Assert.Equal((1 << 14) + 2048, DatagramReader.MaxCiphertextLength);
    }

    [Fact]
    public void Empty_body_record_is_valid()
    {
        byte[] datagram = [.. Record(ContentType.ApplicationData, 1, 0), .. Record(ContentType.Alert, 2, 2)];
        var reader = new DatagramReader(datagram);

        Assert.True(reader.TryReadRecord(out RecordHeader empty, out int emptyOffset));
        Assert.Equal((ushort)0, empty.Length);
        Assert.Equal(RecordHeader.Size, emptyOffset);
        Assert.True(reader.TryReadRecord(out RecordHeader alert, out int alertOffset));
        Assert.Equal(ContentType.Alert, alert.Type);
        Assert.Equal(2 * RecordHeader.Size, alertOffset);
        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.False(reader.Malformed);
    }

    [Fact]
    public void Unknown_content_type_is_framed_not_judged()
    {
        byte[] datagram = Record((ContentType)24, 1, 3);
        var reader = new DatagramReader(datagram);

        Assert.True(reader.TryReadRecord(out RecordHeader header, out _));
        Assert.Equal(24, (byte)header.Type);
    }

    [Fact]
    public void Body_offset_lets_the_caller_write_the_body_in_place()
    {
        byte[] datagram = [.. Record(ContentType.Handshake, 1, 2, 0x00), .. Record(ContentType.Handshake, 2, 2, 0x00)];
        var reader = new DatagramReader(datagram);
        Span<byte> buffer = datagram;

        while (reader.TryReadRecord(out RecordHeader header, out int bodyOffset))
        {
            buffer.Slice(bodyOffset, header.Length).Fill((byte)header.SequenceNumber);
        }

        Assert.Equal(new byte[] { 1, 1 }, datagram.AsSpan(13, 2).ToArray());
        Assert.Equal(new byte[] { 2, 2 }, datagram.AsSpan(28, 2).ToArray());
    }

    [Fact]
    public void Reading_does_not_allocate()
    {
        byte[] datagram = [.. Record(ContentType.Handshake, 1, 3), .. Record(ContentType.Handshake, 2, 4), 0x01];
        CountRecords(datagram);

        int records = 0;
        long allocated = Allocations.Least(_ =>
        {
            records = 0;
            for (int i = 0; i < 100; i++)
            {
                records += CountRecords(datagram);
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(200, records);
    }

    private static int CountRecords(ReadOnlySpan<byte> datagram)
    {
        var reader = new DatagramReader(datagram);
        int count = 0;
        while (reader.TryReadRecord(out _, out _))
        {
            count++;
        }

        return count;
    }

    private static byte[] CidRecord(byte[] connectionId, int bodyLength)
    {
        var record = new byte[RecordHeader.Size + connectionId.Length + bodyLength];
        new RecordHeader(ContentType.Tls12Cid, ProtocolVersion.Dtls12, 1, 9, checked((ushort)bodyLength), (byte)connectionId.Length)
            .Write(record, connectionId);
        record.AsSpan(RecordHeader.Size + connectionId.Length).Fill(0xCD);
        return record;
    }

    [Fact]
    public void A_tls12_cid_record_is_framed_with_the_receivers_CID_length_and_its_CID_found()
    {
        byte[] cid = [1, 2, 3, 4, 5, 6];
        var datagram = CidRecord(cid, 30).Concat(Record(ContentType.ApplicationData, 3, 5)).ToArray();
        var reader = new DatagramReader(datagram, 6);

        Assert.True(reader.TryReadRecord(out var header, out var offset));
        Assert.Equal(ContentType.Tls12Cid, header.Type);
        Assert.Equal(6, header.ConnectionIdLength);
        Assert.Equal(30, header.Length);
        Assert.Equal(RecordHeader.Size + 6, offset);
        Assert.Equal(cid, DatagramReader.ConnectionIdOf(datagram, header, offset).ToArray());
        Assert.True(reader.TryReadRecord(out var second, out _));
        Assert.Equal(ContentType.ApplicationData, second.Type);
        Assert.Equal(0, second.ConnectionIdLength);
        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.False(reader.Malformed);
    }

    [Fact]
    public void A_tls12_cid_record_where_no_CID_was_issued_cannot_be_framed_and_is_malformed()
    {
        var datagram = CidRecord([1, 2, 3, 4], 20);

        var reader = new DatagramReader(datagram);

        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.True(reader.Malformed);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(18)]
    public void A_tls12_cid_record_cut_inside_its_header_is_malformed(int length)
    {
        var datagram = CidRecord([1, 2, 3, 4, 5, 6], 20).AsSpan(0, length).ToArray();

        var reader = new DatagramReader(datagram, 6);

        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.True(reader.Malformed);
    }

    [Fact]
    public void A_tls12_cid_record_whose_length_runs_past_the_datagram_is_malformed()
    {
        var datagram = CidRecord([1, 2, 3, 4], 20)[..^1];

        var reader = new DatagramReader(datagram, 4);

        Assert.False(reader.TryReadRecord(out _, out _));
        Assert.True(reader.Malformed);
    }
}
