namespace HotDtls;

/// <summary>Why a <see cref="DtlsException"/> was thrown, for callers that act on it (never parse the message).</summary>
public enum DtlsExceptionReason
{
    /// <summary>No other reason applies; the message says what happened.</summary>
    Other,

    /// <summary>The handshake did not complete within <see cref="DtlsOptions.HandshakeTimeout"/>: no answer, or a peer that drops our records.</summary>
    HandshakeTimeout,

    /// <summary>
    /// The host reported that nothing listens at the peer's address and port (ICMP port unreachable). A client's
    /// handshake ends this way as soon as the first flight and its first retransmission are both refused, with nothing
    /// from the server in between (about <see cref="DtlsOptions.InitialRetransmitTimeout"/> after the start), rather
    /// than at <see cref="DtlsOptions.HandshakeTimeout"/>.
    /// </summary>
    Unreachable,

    /// <summary>
    /// The two sides hold different pre-shared keys (or the identity is unknown): a Finished or the first protected
    /// record did not verify, or the peer said so with decrypt_error, bad_record_mac or unknown_psk_identity.
    /// <see cref="DtlsException.Alert"/> holds the alert.
    /// </summary>
    WrongKey,

    /// <summary>The peer ended the handshake or session with a fatal alert; <see cref="DtlsException.Alert"/> says which.</summary>
    AlertReceived,

    /// <summary>This side refused the peer's handshake and sent the fatal alert in <see cref="DtlsException.Alert"/> (for example, no common cipher suite).</summary>
    HandshakeFailed,

    /// <summary>The peer closed the session with close_notify.</summary>
    PeerClosed,

    /// <summary>This side closed the session (disposed, closed, or the operation was cancelled).</summary>
    LocalClose,

    /// <summary>The session had ended (for any reason) before the operation.</summary>
    SessionClosed,

    /// <summary>The session cannot send yet: its handshake has not finished.</summary>
    NotEstablished,

    /// <summary>The local address and port are in use by another socket.</summary>
    AddressInUse,

    /// <summary>The local address cannot be bound for another reason (not this machine's, or no permission); see the inner exception.</summary>
    BindFailed,
}
