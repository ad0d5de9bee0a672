namespace HotDtls;

/// <summary>Why a session ended.</summary>
public enum DtlsCloseReason
{
    /// <summary>The peer sent close_notify.</summary>
    PeerClosed,
    /// <summary>The peer sent a fatal alert.</summary>
    PeerAlert,
    /// <summary>The handshake failed (a fatal alert was sent to the peer).</summary>
    HandshakeFailed,
    /// <summary>The handshake did not finish within <see cref="DtlsOptions.HandshakeTimeout"/>.</summary>
    HandshakeTimeout,
    /// <summary>Nothing arrived within <see cref="DtlsServerOptions.IdleTimeout"/>.</summary>
    IdleTimeout,
    /// <summary>A new handshake from the same address and port finished and took the session's place (RFC 6347 §4.2.8).</summary>
    Replaced,
    /// <summary>Evicted to make room for a newer handshake (<see cref="DtlsServerOptions.MaxHandshakesInProgress"/>).</summary>
    Evicted,
    /// <summary>The application closed it, or the server stopped.</summary>
    LocalClose,
    /// <summary>The record sequence numbers of the epoch ran out (2^48 records).</summary>
    SequenceExhausted,
    /// <summary>
    /// The peer broke the protocol after the handshake — an authentic record larger than the record size limit this
    /// side announced (RFC 8449, RFC 6066 §4) — and a fatal alert (record_overflow) was sent to it.
    /// </summary>
    ProtocolError,
    /// <summary>
    /// Client only: during the handshake the host reported, for two transmissions in a row, that nothing listens at
    /// the server's address and port (ICMP port unreachable), and nothing came from the server in between.
    /// </summary>
    PeerUnreachable,
}
