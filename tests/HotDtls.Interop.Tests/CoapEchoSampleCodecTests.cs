using HotDtls.Samples.CoapEcho;

namespace HotDtls.Interop.Tests;

/// <summary>The CoapEcho sample's CoAP reading and writing (RFC 7252 §3), byte for byte.</summary>
public sealed class CoapEchoSampleCodecTests
{
    [Fact]
    public void Reads_a_confirmable_GET_with_token_and_path()
    {
        // Ver 1, CON, TKL 1 | GET | MID 0x1234 | token AA | Uri-Path (delta 11, length 4) "echo".
        byte[] datagram = [0x41, 0x01, 0x12, 0x34, 0xAA, 0xB4, .. "echo"u8];

        Assert.True(CoapRequest.TryRead(datagram, out var request));

        Assert.Equal(CoapType.Confirmable, request.Type);
        Assert.Equal(0x01, request.Code);
        Assert.Equal(0x1234, request.MessageId);
        Assert.Equal([0xAA], request.Token.ToArray());
        Assert.True(request.Payload.IsEmpty);
        var path = new byte[32];
        Assert.Equal("echo"u8.ToArray(), path[..request.WriteUriPath(path)]);
    }

    [Fact]
    public void Reads_extended_option_lengths_several_path_segments_and_the_payload()
    {
        var segment = "abcdefghijklmn"u8.ToArray(); // 14 bytes: length nibble 13, then 14 - 13.
        byte[] datagram = [0x50, 0x02, 0x00, 0x01, 0xBD, 0x01, .. segment, 0x03, .. "xyz"u8, 0xFF, .. "body"u8];

        Assert.True(CoapRequest.TryRead(datagram, out var request));

        Assert.Equal(CoapType.NonConfirmable, request.Type);
        Assert.Equal("body"u8.ToArray(), request.Payload.ToArray());
        var path = new byte[64];
        Assert.Equal("abcdefghijklmn/xyz"u8.ToArray(), path[..request.WriteUriPath(path)]);
    }

    [Fact]
    public void An_empty_confirmable_message_is_a_ping()
    {
        Assert.True(CoapRequest.TryRead([0x40, 0x00, 0x00, 0x07], out var request));
        Assert.True(request.IsPing);
    }

    [Theory]
    [InlineData(new byte[] { 0x60, 0x45, 0x00, 0x01 })] // An ACK (a response), not a request.
    [InlineData(new byte[] { 0x40, 0x45, 0x00, 0x01 })] // CON with a response code (2.05).
    [InlineData(new byte[] { 0x49, 0x01, 0x00, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 9 })] // TKL 9: a format error.
    [InlineData(new byte[] { 0x40, 0x01, 0x00, 0x01, 0xFF })] // Payload marker with no payload.
    [InlineData(new byte[] { 0x40, 0x01, 0x00, 0x01, 0xB4, 0x65 })] // Option longer than the datagram.
    [InlineData(new byte[] { 0x40, 0x01, 0x00, 0x01, 0xF1, 0x00 })] // Reserved delta 15.
    [InlineData(new byte[] { 0x80, 0x01, 0x00, 0x01 })] // Version 2.
    [InlineData(new byte[] { 0x40, 0x01, 0x00 })] // Shorter than a header.
    [InlineData(new byte[] { 0x41, 0x00, 0x00, 0x01, 0xAA })] // An empty message with a token.
    public void Anything_but_a_well_formed_request_is_not_read(byte[] datagram)
        => Assert.False(CoapRequest.TryRead(datagram, out _));

    [Fact]
    public void Writes_a_piggybacked_2_05_with_the_token_and_a_text_payload()
    {
        var buffer = new byte[32];
        var length = CoapWriter.WriteResponse(buffer, CoapType.Acknowledgement, 0x1234, [0xAA], "hi"u8);

        // Ver 1, ACK, TKL 1 | 2.05 | MID | token | Content-Format 0 (delta 12, empty) | marker | "hi".
        Assert.Equal([0x61, 0x45, 0x12, 0x34, 0xAA, 0xC0, 0xFF, (byte)'h', (byte)'i'], buffer[..length]);
    }

    [Fact]
    public void Writes_the_reset_that_answers_a_ping()
    {
        var buffer = new byte[8];
        Assert.Equal([0x70, 0x00, 0x00, 0x07], buffer[..CoapWriter.WriteReset(buffer, 0x0007)]);
    }
}
