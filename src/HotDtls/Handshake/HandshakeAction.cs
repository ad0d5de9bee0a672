namespace HotDtls.Handshake;

/// <summary>
/// The handler a row of <see cref="HandshakeTable"/> names. A role implements the actions of its own rows, the
/// connection the shared ones; each returns a <see cref="HandshakeStep"/> and never assigns a state itself.
/// </summary>
internal enum HandshakeAction : byte
{
    // Shared
    /// <summary>ChangeCipherSpec: the peer's next records use the pending keys (RFC 6347 §4.1).</summary>
    ActivateReadEpoch,

    // Server
    /// <summary>The cookie-verified ClientHello (flight 3): choose the suite, send flight 4.</summary>
    ReadClientHello,
    /// <summary>ClientKeyExchange: take the identity and ask the PSK store; wait if it answers later.</summary>
    ReadClientKeyExchange,
    /// <summary>The PSK store answered: derive the keys.</summary>
    UseResolvedPsk,
    /// <summary>The client's Finished (flight 5): verify it, send flight 6.</summary>
    ReadClientFinished,
    /// <summary>Resumption: the PSK store answered for a cached session's identity: send the abbreviated flight or flight 4.</summary>
    UseResolvedSessionPsk,
    /// <summary>Resumption: the client's Finished ends the abbreviated handshake (our flight went first).</summary>
    ReadResumedClientFinished,

    // Client
    /// <summary>Send flight 1, a ClientHello without a cookie.</summary>
    SendClientHello,
    /// <summary>HelloVerifyRequest (flight 2): send the ClientHello again with the cookie (flight 3).</summary>
    ReadHelloVerifyRequest,
    ReadServerHello,
    /// <summary>ServerKeyExchange: the psk_identity_hint (RFC 4279 §2).</summary>
    ReadServerKeyExchange,
    /// <summary>ServerHelloDone ends flight 4: derive the keys, send flight 5.</summary>
    ReadServerHelloDone,
    /// <summary>The server's Finished (flight 6): verify it.</summary>
    ReadServerFinished,
    /// <summary>RFC 5077 §3.3: keep the ticket for a later resumption (only if the ServerHello announced it).</summary>
    ReadNewSessionTicket,
    /// <summary>Resumption: the server's Finished (its flight went first): verify it, send our ChangeCipherSpec and Finished.</summary>
    ReadResumedServerFinished,
}
