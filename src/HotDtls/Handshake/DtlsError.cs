namespace HotDtls.Handshake;

/// <summary>Why a handshake failed, as a value; <see cref="DtlsErrors.ToAlert"/> is the one place that picks the alert.</summary>
internal enum DtlsError : byte
{
    None,
    UnexpectedMessage,
    DecodeError,
    IllegalParameter,
    NoCommonCipherSuite,
    ProtocolVersion,
    ExtendedMasterSecretRequired,
    UnsupportedExtension,
    FinishedMismatch,
    BadRecordMac,
    HandshakeMessageTooLarge,
    InternalError,
    UnknownPskIdentity,
    /// <summary>A resumed session and the new hello disagree about the extended master secret (RFC 7627 §5.3).</summary>
    ExtendedMasterSecretMismatch,
    /// <summary>An authentic record carried more plaintext than the limit this side announced (RFC 8449 §4, RFC 6066 §4).</summary>
    RecordOverflow,
}

internal static class DtlsErrors
{
    /// <summary>The fatal alert each error sends (RFC 5246 §7.2.2, RFC 7627 §5.3, RFC 4279 §2).</summary>
    public static AlertDescription ToAlert(DtlsError error) => error switch
    {
        DtlsError.UnexpectedMessage => AlertDescription.UnexpectedMessage,
        DtlsError.DecodeError => AlertDescription.DecodeError,
        DtlsError.IllegalParameter => AlertDescription.IllegalParameter,
        DtlsError.NoCommonCipherSuite => AlertDescription.HandshakeFailure,
        DtlsError.ProtocolVersion => AlertDescription.ProtocolVersion,
        DtlsError.ExtendedMasterSecretRequired => AlertDescription.HandshakeFailure,
        DtlsError.UnsupportedExtension => AlertDescription.UnsupportedExtension,
        // A wrong key and an unknown identity both end here, so they are indistinguishable (RFC 4279 §2).
        DtlsError.FinishedMismatch => AlertDescription.DecryptError,
        DtlsError.BadRecordMac => AlertDescription.DecryptError,
        DtlsError.HandshakeMessageTooLarge => AlertDescription.HandshakeFailure,
        DtlsError.InternalError => AlertDescription.InternalError,
        // Only with DtlsServerOptions.RevealUnknownPskIdentity; otherwise an unknown identity is a wrong key.
        DtlsError.UnknownPskIdentity => AlertDescription.UnknownPskIdentity,
        DtlsError.ExtendedMasterSecretMismatch => AlertDescription.HandshakeFailure,
        DtlsError.RecordOverflow => AlertDescription.RecordOverflow,
        DtlsError.None => throw new ArgumentOutOfRangeException(nameof(error), "DtlsError.None is not a failure."),
        _ => throw new ArgumentOutOfRangeException(nameof(error)),
    };

    /// <summary>A sentence for logs and exceptions: what went wrong and what to check. Never contains secrets.</summary>
    public static string Describe(DtlsError error) => error switch
    {
        DtlsError.UnexpectedMessage => "the peer sent a message the handshake does not allow at this point",
        DtlsError.DecodeError => "the peer sent a malformed handshake message",
        DtlsError.IllegalParameter => "the peer sent an illegal parameter (for example a cipher suite that was not offered)",
        DtlsError.NoCommonCipherSuite => "no common cipher suite: check that both sides enable the same PSK AES-GCM suites",
        DtlsError.ProtocolVersion => "the peer does not speak DTLS 1.2",
        DtlsError.ExtendedMasterSecretRequired => "the peer does not support the extended master secret (RFC 7627), which this side requires",
        DtlsError.UnsupportedExtension => "the peer sent an extension that was not offered",
        DtlsError.FinishedMismatch => "Finished verification failed: the two sides hold different pre-shared keys (check the PSK identity and key)",
        DtlsError.BadRecordMac => "the peer's first protected record did not authenticate: the two sides hold different pre-shared keys (check the PSK identity and key)",
        DtlsError.HandshakeMessageTooLarge => "a handshake message exceeded MaxHandshakeMessageLength",
        DtlsError.InternalError => "an internal error ended the handshake",
        DtlsError.UnknownPskIdentity => "the server does not know this PSK identity (check the client's PskIdentity and the server's PskStore)",
        DtlsError.ExtendedMasterSecretMismatch => "the resumed session used the extended master secret (RFC 7627) but the new handshake does not, or the other way round",
        DtlsError.RecordOverflow => "the peer sent a record larger than the record size limit this side announced (record_size_limit or max_fragment_length)",
        _ => error.ToString(),
    };
}
