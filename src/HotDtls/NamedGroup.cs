namespace HotDtls;

/// <summary>
/// Elliptic-curve groups for the ECDHE_PSK cipher suites (RFC 8422 §5.1.1). Each value is the IANA "TLS Supported
/// Groups" code point written in supported_groups and ServerKeyExchange.
/// </summary>
public enum NamedGroup : ushort
{
    /// <summary>secp256r1 (NIST P-256, 23): uncompressed points of 65 bytes; ECDH by the platform's libcrypto.</summary>
    Secp256r1 = 23,

    /// <summary>x25519 (RFC 7748, 29): 32-byte keys; ECDH by libsodium. Faster than P-256 and the default first choice.</summary>
    X25519 = 29,
}
