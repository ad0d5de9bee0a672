using HotDtls.Records;

namespace HotDtls.Tests.Records;

public sealed class RecordHeaderTests
{
    // handshake(22), DTLS 1.2, epoch 1, sequence 0x0000_0102_0304, length 0x0120
    private static readonly byte[] s_golden = [0x16, 0xFE, 0xFD, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x01, 0x20];

    [Fact]
    public void Golden_bytes_read_to_fields_and_write_back_to_the_same_bytes()
    {
        Assert.True(RecordHeader.TryRead(s_golden, out RecordHeader header));

        Assert.Equal(ContentType.Handshake, header.Type);
        Assert.Equal(ProtocolVersion.Dtls12, header.Version);
        Assert.Equal((ushort)1, header.Epoch);
        Assert.Equal(0x0102_0304UL, header.SequenceNumber);
        Assert.Equal((ushort)0x0120, header.Length);

        var written = new byte[RecordHeader.Size];
        header.Write(written);
        Assert.Equal(s_golden, written);
    }

    [Fact]
    public void Fields_write_to_golden_bytes()
    {
        var header = new RecordHeader(ContentType.Handshake, ProtocolVersion.Dtls12, 1, 0x0102_0304, 0x0120);
        var written = new byte[RecordHeader.Size];
        header.Write(written);
        Assert.Equal(s_golden, written);
    }

    [Theory]
    [InlineData(0UL, new byte[] { 0x17, 0xFE, 0xFD, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00 })]
    [InlineData(RecordHeader.MaxSequenceNumber, new byte[] { 0x17, 0xFE, 0xFD, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x40, 0x00 })]
    [InlineData(0x8000_0000_0001UL, new byte[] { 0x17, 0xFE, 0xFD, 0xFF, 0xFF, 0x80, 0x00, 0x00, 0x00, 0x00, 0x01, 0x40, 0x00 })]
    public void Sequence_number_edges_round_trip(ulong sequenceNumber, byte[] bytes)
    {
        Assert.True(RecordHeader.TryRead(bytes, out RecordHeader header));
        Assert.Equal(sequenceNumber, header.SequenceNumber);
        Assert.Equal(ContentType.ApplicationData, header.Type);
        Assert.Equal(ushort.MaxValue, header.Epoch);
        Assert.Equal((ushort)0x4000, header.Length);

        var written = new byte[RecordHeader.Size];
        new RecordHeader(ContentType.ApplicationData, ProtocolVersion.Dtls12, ushort.MaxValue, sequenceNumber, 0x4000).Write(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void Max_sequence_number_is_two_to_the_48_minus_one()
    {
        Assert.Equal(281_474_976_710_655UL, RecordHeader.MaxSequenceNumber);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(12)]
    public void Fewer_than_13_bytes_is_not_a_header(int length)
    {
        Assert.False(RecordHeader.TryRead(s_golden.AsSpan(0, length), out RecordHeader header));
        Assert.Equal(default, header.SequenceNumber);
    }

    [Fact]
    public void Bytes_after_the_header_are_ignored()
    {
        byte[] longer = [.. s_golden, 0xAA, 0xBB];
        Assert.True(RecordHeader.TryRead(longer, out RecordHeader header));
        Assert.Equal((ushort)0x0120, header.Length);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(24)]
    [InlineData(25)]
    [InlineData(255)]
    public void Unknown_content_type_keeps_its_raw_byte(byte type)
    {
        byte[] bytes = [.. s_golden];
        bytes[0] = type;

        Assert.True(RecordHeader.TryRead(bytes, out RecordHeader header));
        Assert.Equal(type, (byte)header.Type);

        var written = new byte[RecordHeader.Size];
        header.Write(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void Dtls10_version_is_kept()
    {
        byte[] bytes = [.. s_golden];
        bytes[1] = 0xFE;
        bytes[2] = 0xFF;
        Assert.True(RecordHeader.TryRead(bytes, out RecordHeader header));
        Assert.Equal(ProtocolVersion.Dtls10, header.Version);
    }

    [Fact]
    public void Sequence_number_above_48_bits_is_misuse()
    {
        Assert.Throws<ArgumentOutOfRangeException>(
            () => new RecordHeader(ContentType.Alert, ProtocolVersion.Dtls12, 0, RecordHeader.MaxSequenceNumber + 1, 0));
    }

    [Fact]
    public void Write_to_a_short_destination_is_misuse()
    {
        var header = new RecordHeader(ContentType.Alert, ProtocolVersion.Dtls12, 0, 0, 2);
        Assert.Throws<ArgumentException>(() => header.Write(new byte[RecordHeader.Size - 1]));
    }

    [Fact]
    public void A_tls12_cid_header_round_trips_with_its_CID_between_sequence_number_and_length()
    {
        byte[] cid = [0xC0, 0xFF, 0xEE];
        var header = new RecordHeader(ContentType.Tls12Cid, ProtocolVersion.Dtls12, 1, 0x010203040506, 0x0708, 3);
        var bytes = new byte[header.WireSize];

        header.Write(bytes, cid);

        Assert.Equal("19" + "fefd" + "0001" + "010203040506" + "c0ffee" + "0708", Convert.ToHexString(bytes).ToLowerInvariant());
        Assert.True(RecordHeader.TryRead(bytes, 3, out var read));
        Assert.Equal(ContentType.Tls12Cid, read.Type);
        Assert.Equal(1, read.Epoch);
        Assert.Equal(0x010203040506UL, read.SequenceNumber);
        Assert.Equal(0x0708, read.Length);
        Assert.Equal(3, read.ConnectionIdLength);
        Assert.Equal(RecordHeader.Size + 3, read.WireSize);
    }

    [Fact]
    public void Any_other_type_reads_as_a_plain_header_whatever_CID_length_the_receiver_issued()
    {
        var bytes = Convert.FromHexString("17fefd0001000000000009000a");

        Assert.True(RecordHeader.TryRead(bytes, 6, out var read));

        Assert.Equal(ContentType.ApplicationData, read.Type);
        Assert.Equal(0, read.ConnectionIdLength);
        Assert.Equal(10, read.Length);
    }

    [Fact]
    public void A_tls12_cid_header_needs_a_receiver_that_issued_a_CID()
    {
        var bytes = Convert.FromHexString("19fefd0001000000000009c0ffee000a");

        Assert.False(RecordHeader.TryRead(bytes, 0, out _));
        Assert.False(RecordHeader.TryRead(bytes.AsSpan(0, 15), 3, out _));
        Assert.True(RecordHeader.TryRead(bytes, 3, out _));
    }
}
