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

    // Client
    /// <summary>Created; flight 1 goes out when the connection is started.</summary>
    ClientNotStarted,
    /// <summary>A HelloVerifyRequest or the ServerHello.</summary>
    ClientExpectServerHello,
    ClientExpectServerKeyExchange,
    ClientExpectServerHelloDone,
    ClientExpectChangeCipherSpec,
    ClientExpectFinished,

    // Both
    Established,
    Closed,
}
