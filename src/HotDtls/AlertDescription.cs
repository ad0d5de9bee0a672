namespace HotDtls;

/// <summary>TLS alert descriptions used by DTLS 1.2 (RFC 5246 §7.2, RFC 4279, RFC 5746); the value is the wire byte.</summary>
public enum AlertDescription : byte
{
    /// <summary>close_notify: the sender will send no more records on this association.</summary>
    CloseNotify = 0,
    /// <summary>unexpected_message: a message arrived that the state machine does not allow now.</summary>
    UnexpectedMessage = 10,
    /// <summary>bad_record_mac: a record failed authentication.</summary>
    BadRecordMac = 20,
    /// <summary>record_overflow: a record exceeded the allowed length.</summary>
    RecordOverflow = 22,
    /// <summary>handshake_failure: no acceptable set of security parameters.</summary>
    HandshakeFailure = 40,
    /// <summary>illegal_parameter: a field was out of range or inconsistent.</summary>
    IllegalParameter = 47,
    /// <summary>decode_error: a message could not be decoded.</summary>
    DecodeError = 50,
    /// <summary>decrypt_error: Finished verification failed (also used for an unknown PSK identity, RFC 4279 §2).</summary>
    DecryptError = 51,
    /// <summary>protocol_version: the peer's protocol version is not supported.</summary>
    ProtocolVersion = 70,
    /// <summary>insufficient_security: the peer requires parameters stronger than offered.</summary>
    InsufficientSecurity = 71,
    /// <summary>internal_error: a failure unrelated to the peer or the protocol.</summary>
    InternalError = 80,
    /// <summary>no_renegotiation: renegotiation is refused (RFC 5246 §7.2.2).</summary>
    NoRenegotiation = 100,
    /// <summary>unsupported_extension: the peer sent an extension that was not offered.</summary>
    UnsupportedExtension = 110,
    /// <summary>unknown_psk_identity: the PSK identity is unknown (RFC 4279 §2).</summary>
    UnknownPskIdentity = 115,
}
