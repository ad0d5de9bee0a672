using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed class ServerHelloDoneTests
{
    [Fact]
    public void Golden_message_has_an_empty_body()
    {
        byte[] message = OpenSslCapture.ServerHelloDone;
        Assert.True(HandshakeHeader.TryRead(message, out HandshakeHeader header));
        Assert.Equal(HandshakeType.ServerHelloDone, header.MsgType);
        Assert.Equal(ServerHelloDone.Length, header.Length);
        Assert.True(ServerHelloDone.IsValid(OpenSslCapture.Body(message)));

        var written = new byte[HandshakeHeader.Size];
        new HandshakeHeader(HandshakeType.ServerHelloDone, ServerHelloDone.Length, 3, 0, 0).Write(written);
        Assert.Equal(message, written);
    }

    [Fact]
    public void Any_byte_is_trailing_data()
    {
        Assert.False(ServerHelloDone.IsValid([0]));
        Assert.False(ServerHelloDone.IsValid(OpenSslCapture.Body(OpenSslCapture.ServerKeyExchange)));
    }
}
