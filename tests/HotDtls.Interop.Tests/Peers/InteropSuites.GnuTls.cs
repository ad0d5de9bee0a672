namespace HotDtls.Interop.Tests.Peers;

// The GnuTLS half of InteropSuites: priority strings and the names gnutls-cli prints.
public static partial class InteropSuites
{
    /// <summary>
    /// A priority string for DTLS 1.2 with only <paramref name="suite"/>: its key exchange, cipher and MAC. NORMAL's MACs
    /// are SHA1 and AEAD, so the CBC suites add SHA256; GnuTLS offers and accepts encrypt_then_mac by default.
    /// </summary>
    public static string GnuTlsPriority(CipherSuite suite)
    {
        var (kx, cipher, mac) = GnuTlsAlgorithms(suite);
        return $"NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+{kx}:-CIPHER-ALL:+{cipher}" + (mac is null ? "" : $":-MAC-ALL:+{mac}");
    }

    /// <summary>
    /// What gnutls-cli's "- Description:" line says of the suite after the version, for example
    /// <c>(PSK)-(AES-128-CCM-8)</c> or <c>(ECDHE-PSK-X25519)-(CHACHA20-POLY1305)</c> — the ECDHE ones name the group,
    /// so this is the part before it.
    /// </summary>
    public static string GnuTlsDescription(CipherSuite suite)
    {
        var (kx, cipher, mac) = GnuTlsAlgorithms(suite);
        return kx == "PSK" ? $"(PSK)-({cipher})" + (mac is null ? "" : $"-({mac})") : $"({kx}-";
    }

    private static (string Kx, string Cipher, string? Mac) GnuTlsAlgorithms(CipherSuite suite) => suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => ("PSK", "AES-128-GCM", null),
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => ("PSK", "AES-256-GCM", null),
        CipherSuite.TLS_PSK_WITH_AES_128_CCM => ("PSK", "AES-128-CCM", null),
        CipherSuite.TLS_PSK_WITH_AES_256_CCM => ("PSK", "AES-256-CCM", null),
        CipherSuite.TLS_PSK_WITH_AES_128_CCM_8 => ("PSK", "AES-128-CCM-8", null),
        CipherSuite.TLS_PSK_WITH_AES_256_CCM_8 => ("PSK", "AES-256-CCM-8", null),
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 => ("PSK", "CHACHA20-POLY1305", null),
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256 => ("PSK", "AES-128-CBC", "SHA256"),
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 => ("ECDHE-PSK", "CHACHA20-POLY1305", null),
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 => ("ECDHE-PSK", "AES-128-CBC", "SHA256"),
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "GnuTLS 3.7 has no such suite (RFC 8442 ECDHE_PSK AES-GCM/CCM)."),
    };
}
