namespace HotDtls.Handshake;

/// <summary>
/// What can move a handshake: a handshake message, ChangeCipherSpec (a record type of its own in DTLS 1.2), or a
/// local event that arrives in no record (<see cref="Start"/>, <see cref="PskResolved"/>).
/// </summary>
internal enum HandshakeInput : byte
{
    ClientHello,
    HelloVerifyRequest,
    ServerHello,
    ServerKeyExchange,
    ServerHelloDone,
    ClientKeyExchange,
    ChangeCipherSpec,
    Finished,
    /// <summary>RFC 5077 §3.3: the server's ticket, before its ChangeCipherSpec.</summary>
    NewSessionTicket,

    /// <summary>Local: the client application starts the handshake.</summary>
    Start,

    /// <summary>Local: the asynchronous PSK lookup the server waited for has completed.</summary>
    PskResolved,
}
