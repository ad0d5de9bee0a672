using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed class HandshakeHeaderTests
{
    [Fact]
    public void Golden_header_of_the_second_client_hello_reads_and_writes_back()
    {
        byte[] message = OpenSslCapture.ClientHelloWithCookie;

        Assert.True(HandshakeHeader.TryRead(message, out HandshakeHeader header));

        Assert.Equal(HandshakeType.ClientHello, header.MsgType);
        Assert.Equal(0x7C, header.Length);
        Assert.Equal(1, header.MessageSeq);
        Assert.Equal(0, header.FragmentOffset);
        Assert.Equal(0x7C, header.FragmentLength);
        Assert.True(header.IsComplete);
        Assert.Equal(message.Length - HandshakeHeader.Size, header.Length);

        var written = new byte[HandshakeHeader.Size];
        header.Write(written);
        Assert.Equal(message.AsSpan(0, HandshakeHeader.Size).ToArray(), written);
    }

    [Fact]
    public void Every_captured_message_header_round_trips_and_is_unfragmented()
    {
        byte[][] messages =
        [
            OpenSslCapture.ClientHelloWithoutCookie, OpenSslCapture.HelloVerifyRequest, OpenSslCapture.ClientHelloWithCookie,
            OpenSslCapture.ServerHello, OpenSslCapture.ServerKeyExchange, OpenSslCapture.ServerHelloDone,
            OpenSslCapture.ClientKeyExchange, OpenSslCapture.ClientFinished, OpenSslCapture.ServerFinished,
        ];
        foreach (byte[] message in messages)
        {
            Assert.True(HandshakeHeader.TryRead(message, out HandshakeHeader header));
            Assert.True(header.IsComplete);
            Assert.Equal(message.Length - HandshakeHeader.Size, header.Length);
            var written = new byte[HandshakeHeader.Size];
            header.Write(written);
            Assert.Equal(message[..HandshakeHeader.Size], written);
        }
    }

    [Fact]
    public void Fragment_fields_take_all_24_bits_and_the_raw_type_byte_is_kept()
    {
        byte[] bytes = Convert.FromHexString("FFFFFFFF1234ABCDEF543210");

        Assert.True(HandshakeHeader.TryRead(bytes, out HandshakeHeader header));

        Assert.Equal((HandshakeType)0xFF, header.MsgType);
        Assert.Equal(0xFFFFFF, header.Length);
        Assert.Equal(0x1234, header.MessageSeq);
        Assert.Equal(0xABCDEF, header.FragmentOffset);
        Assert.Equal(0x543210, header.FragmentLength);
        Assert.False(header.IsComplete);
        var written = new byte[HandshakeHeader.Size];
        header.Write(written);
        Assert.Equal(bytes, written);
    }

    [Fact]
    public void Only_the_twelve_header_bytes_are_needed_and_anything_after_is_ignored()
    {
        // The header does not check the fragment against the record: that is the reassembler's job.
        byte[] bytes = Convert.FromHexString("0100FFFF000000000000FFFF");
        Assert.True(HandshakeHeader.TryRead(bytes, out HandshakeHeader header));
        Assert.Equal(0xFFFF, header.FragmentLength);

        Assert.True(HandshakeHeader.TryRead(OpenSslCapture.ServerHello, out _));
    }

    [Theory]
    [InlineData("010000010000000000000002")] // 2 bytes of a 1-byte message
    [InlineData("010000100000000010000001")] // offset 16, length 1, message of 16
    [InlineData("01FFFFFF0000FFFFFF000001")] // offset + length past 2^24 - 1
    public void A_fragment_reaching_past_its_message_is_refused(string hex)
    {
        // Found by the records fuzz target: every consumer had to repeat this check, so the parser does it (RFC 6347 §4.2.3).
        Assert.False(HandshakeHeader.TryRead(Convert.FromHexString(hex), out _));
    }

    [Fact]
    public void Every_truncation_fails()
    {
        byte[] bytes = OpenSslCapture.ServerHelloDone;
        for (int n = 0; n < HandshakeHeader.Size; n++)
        {
            Assert.False(HandshakeHeader.TryRead(bytes.AsSpan(0, n), out _));
        }
    }

    [Fact]
    public void Constructor_and_writer_refuse_misuse()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeHeader(HandshakeType.Finished, 0x1000000, 0, 0, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeHeader(HandshakeType.Finished, 12, 0, -1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeHeader(HandshakeType.Finished, 12, 0, 0, 0x1000000));
        Assert.Throws<ArgumentException>(() => new HandshakeHeader(HandshakeType.Finished, 12, 3, 0, 12).Write(new byte[11]));
    }

    [Fact]
    public void Writer_output_reads_back()
    {
        var header = new HandshakeHeader(HandshakeType.ClientKeyExchange, 300, 7, 100, 150);
        var bytes = new byte[HandshakeHeader.Size];
        header.Write(bytes);

        Assert.Equal(Convert.FromHexString("1000012C0007000064000096"), bytes);
        Assert.True(HandshakeHeader.TryRead(bytes, out HandshakeHeader read));
        Assert.Equal(header.MsgType, read.MsgType);
        Assert.Equal(header.Length, read.Length);
        Assert.Equal(header.MessageSeq, read.MessageSeq);
        Assert.Equal(header.FragmentOffset, read.FragmentOffset);
        Assert.Equal(header.FragmentLength, read.FragmentLength);
    }
}
