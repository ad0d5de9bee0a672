namespace HotDtls.Handshake;

/// <summary>
/// Where a handshake stands, named for what it expects next (rustls style). Only the connection's driver assigns it,
/// from a row of <see cref="HandshakeTable"/>. The server's states start after the cookie check: no state exists for
/// a peer before that (RFC 6347 §4.2.1).
/// </summary>
internal enum HandshakeState : byte
{
    // Server
    /// <summary>Created for a peer whose ClientHello carried a valid cookie; that ClientHello is handled next.</summary>
    ServerExpectClientHello,
    ServerExpectClientKeyExchange,
    /// <summary>The application's <see cref="IPskStore"/> is looking up the client's identity asynchronously.</summary>
    ServerAwaitingPsk,
    ServerExpectChangeCipherSpec,
    ServerExpectFinished,
    /// <summary>
    /// Resumption: the ClientHello named a cached session and the PSK store is asked whether its identity still
    /// resolves; the abbreviated flight (or the full handshake's flight 4) waits for the answer.
    /// </summary>
    ServerAwaitingSessionPsk,
    /// <summary>Resumption: our ServerHello, ChangeCipherSpec and Finished are out; the client's ChangeCipherSpec next.</summary>
    ServerResumeExpectChangeCipherSpec,
    /// <summary>Resumption: the client's Finished, the last message of the abbreviated handshake.</summary>
    ServerResumeExpectFinished,

    // Client
    /// <summary>Created; flight 1 goes out when the connection is started.</summary>
    ClientNotStarted,
    /// <summary>A HelloVerifyRequest or the ServerHello.</summary>
    ClientExpectServerHello,
    ClientExpectServerKeyExchange,
    ClientExpectServerHelloDone,
    ClientExpectChangeCipherSpec,
    ClientExpectFinished,
    /// <summary>The server's NewSessionTicket (RFC 5077) arrived; its ChangeCipherSpec next.</summary>
    ClientExpectChangeCipherSpecAfterTicket,
    /// <summary>Resumption: the ServerHello echoed our session_id; the server's ChangeCipherSpec next.</summary>
    ClientResumeExpectChangeCipherSpec,
    /// <summary>Resumption: the server's Finished, answered with our ChangeCipherSpec and Finished.</summary>
    ClientResumeExpectFinished,
    /// <summary>Resumption: the server's fresh NewSessionTicket arrived; its ChangeCipherSpec next.</summary>
    ClientResumeExpectChangeCipherSpecAfterTicket,

    // Both
    Established,
    Closed,
}
