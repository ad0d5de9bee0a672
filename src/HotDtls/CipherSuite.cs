namespace HotDtls;

/// <summary>
/// Cipher suites HotDtls negotiates. Each value is the suite's IANA registry code point, which is also
/// the two bytes written on the wire in ClientHello.cipher_suites and ServerHello.cipher_suite.
/// </summary>
#pragma warning disable CA1707 // IANA names keep their underscores so they can be searched for in the RFCs.
public enum CipherSuite : ushort
{
    /// <summary>TLS_PSK_WITH_AES_128_GCM_SHA256 (RFC 5487, 0x00A8): AES-128-GCM records, SHA-256 PRF.</summary>
    TLS_PSK_WITH_AES_128_GCM_SHA256 = 0x00A8,

    /// <summary>TLS_PSK_WITH_AES_256_GCM_SHA384 (RFC 5487, 0x00A9): AES-256-GCM records, SHA-384 PRF.</summary>
    TLS_PSK_WITH_AES_256_GCM_SHA384 = 0x00A9,
}
#pragma warning restore CA1707
