namespace HotDtls;

/// <summary>
/// Cipher suites HotDtls negotiates. Each value is the suite's IANA registry code point, which is also
/// the two bytes written on the wire in ClientHello.cipher_suites and ServerHello.cipher_suite.
/// </summary>
/// <remarks>
/// Every suite authenticates with a pre-shared key. The <c>ECDHE_PSK</c> suites (RFC 5489, RFC 8442, RFC 7905) add an
/// ephemeral elliptic-curve Diffie-Hellman exchange (X25519 or secp256r1) for forward secrecy; the <c>PSK</c> suites
/// (RFC 4279, RFC 5487, RFC 6655, RFC 7905) use the key alone. The two CBC suites are negotiated only with
/// encrypt_then_mac (RFC 7366). docs/design.md gives the default preference order and why.
/// </remarks>
#pragma warning disable CA1707 // IANA names keep their underscores so they can be searched for in the RFCs.
public enum CipherSuite : ushort
{
    /// <summary>TLS_PSK_WITH_AES_128_CBC_SHA256 (RFC 5487, 0x00AE): AES-128-CBC with HMAC-SHA256, only with encrypt_then_mac.</summary>
    TLS_PSK_WITH_AES_128_CBC_SHA256 = 0x00AE,

    /// <summary>TLS_PSK_WITH_AES_128_GCM_SHA256 (RFC 5487, 0x00A8): AES-128-GCM records, SHA-256 PRF.</summary>
    TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00A8,

    /// <summary>TLS_PSK_WITH_AES_256_GCM_SHA384 (RFC 5487, 0x00A9): AES-256-GCM records, SHA-384 PRF.</summary>
    TLS_PSK_WITH_AES_256_GCM_SHA384 = 0x00A9,

    /// <summary>TLS_PSK_WITH_AES_128_CCM (RFC 6655, 0xC0A4): AES-128-CCM records with a 16-byte tag.</summary>
    TLS_PSK_WITH_AES_128_CCM = 0xC0A4,

    /// <summary>TLS_PSK_WITH_AES_256_CCM (RFC 6655, 0xC0A5): AES-256-CCM records with a 16-byte tag.</summary>
    TLS_PSK_WITH_AES_256_CCM = 0xC0A5,

    /// <summary>TLS_PSK_WITH_AES_128_CCM_8 (RFC 6655, 0xC0A8): AES-128-CCM with an 8-byte tag; CoAP's (RFC 7252) mandatory suite.</summary>
    TLS_PSK_WITH_AES_128_CCM_8 = 0xC0A8,

    /// <summary>TLS_PSK_WITH_AES_256_CCM_8 (RFC 6655, 0xC0A9): AES-256-CCM with an 8-byte tag.</summary>
    TLS_PSK_WITH_AES_256_CCM_8 = 0xC0A9,

    /// <summary>TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 (RFC 5489, 0xC037): ECDHE and PSK, AES-128-CBC with HMAC-SHA256, only with encrypt_then_mac.</summary>
    TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 = 0xC037,

    /// <summary>TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905, 0xCCAB).</summary>
    TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAB,

    /// <summary>TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 (RFC 7905, 0xCCAC).</summary>
    TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 = 0xCCAC,

    /// <summary>TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 (RFC 8442, 0xD001).</summary>
    TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 = 0xD001,

    /// <summary>TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 (RFC 8442, 0xD002).</summary>
    TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 = 0xD002,

    /// <summary>TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256 (RFC 8442, 0xD003).</summary>
    TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256 = 0xD003,

    /// <summary>TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256 (RFC 8442, 0xD005).</summary>
    TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256 = 0xD005,
}
#pragma warning restore CA1707
