using HotDtls.Handshake;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// Every handshake message parser, both roles: the input is one handshake message (12-byte DTLS header and
/// body) and msg_type picks the parser, as the state machines do after reassembly.
/// </summary>
internal static class HandshakeTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (!HandshakeHeader.TryRead(input, out var header))
        {
            return;
        }
        var body = input[HandshakeHeader.Size..];
        if (body.Length > header.FragmentLength)
        {
            body = body[..header.FragmentLength];
        }
        switch (header.MsgType)
        {
            case HandshakeType.ClientHello:
                ClientHelloTarget.Run(body);
                break;
            case HandshakeType.ServerHello:
                if (ServerHello.TryParse(body, out var serverHello) && serverHello.Random.Length != ClientHello.RandomLength)
                {
                    throw new FuzzOracleException("ServerHello.TryParse accepted a random of the wrong size");
                }
                break;
            case HandshakeType.HelloVerifyRequest:
                if (HelloVerifyRequest.TryParse(body, out _, out var cookie) && cookie.Length > ClientHello.MaxCookieLength)
                {
                    throw new FuzzOracleException("HelloVerifyRequest.TryParse accepted an oversized cookie");
                }
                break;
            case HandshakeType.ServerKeyExchange:
                _ = ServerKeyExchangePsk.TryParse(body, out _);
                break;
            case HandshakeType.ClientKeyExchange:
                if (ClientKeyExchangePsk.TryParse(body, out var identity) && identity.Length > body.Length)
                {
                    throw new FuzzOracleException("ClientKeyExchange identity longer than its message");
                }
                break;
            case HandshakeType.Finished:
                if (Finished.TryParse(body, out var verifyData) && verifyData.Length != Finished.VerifyDataLength)
                {
                    throw new FuzzOracleException("Finished.TryParse accepted verify_data of the wrong size");
                }
                break;
            case HandshakeType.ServerHelloDone:
                _ = ServerHelloDone.IsValid(body);
                break;
        }
    }
}
