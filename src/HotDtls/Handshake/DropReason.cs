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
}
