namespace HotDtls.Handshake;

/// <summary>Why a record or handshake fragment was discarded; each has its own counter.</summary>
internal enum DropReason : byte
{
    MalformedRecord,
    BadVersion,
    UnknownEpoch,
    Replayed,
    AuthenticationFailed,
    RecordTooLong,
    UnknownContentType,
    MalformedHandshake,
    WrongEpoch,
    FragmentRejected,
    UnexpectedChangeCipherSpec,
    UnexpectedApplicationData,
    UnauthenticatedAlert,
    MalformedAlert,
    NotAllowedAfterHandshake,
    OldMessage,
    /// <summary>A protected Finished after the handshake whose verify_data differs from the verified one: no retransmission.</summary>
    AlteredFinished,
    NoSession,
    BadCookie,
    TooManySessions,
    /// <summary>A tls12_cid record whose CID no session here was issued, or a protected record without the CID its session expects (RFC 9146 §6).</summary>
    UnknownConnectionId,
    /// <summary>A return_routability_check outside an established session that negotiated rrc, malformed, or of an unknown type.</summary>
    UnexpectedReturnRoutabilityCheck,
    /// <summary>
    /// Cluster: a tls12_cid record of a session another node owns that cannot be forwarded (no node-to-node channel, the
    /// node is down or unknown), or one forwarded here that this node does not own (never forwarded twice).
    /// </summary>
    ClusterNodeUnavailable,
}
