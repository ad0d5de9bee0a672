namespace HotDtls.Interop.Tests.Peers;

// The OpenSSL half of InteropSuites, apart from the xUnit and BouncyCastle half so that tools without those
// dependencies (tests/HotDtls.Stress) can link OpenSslClientPeer.
public static partial class InteropSuites
{
    /// <summary>
    /// OpenSSL's name for the suite, as <c>-cipher</c> takes it and <c>Ciphersuite:</c> prints it. OpenSSL 3.0 has ten
    /// of HotDtls' fourteen suites: it lacks the RFC 8442 ECDHE_PSK AES-GCM and AES-CCM suites (0xD001, 0xD002, 0xD003,
    /// 0xD005), which <c>openssl ciphers -v 'PSK:@SECLEVEL=0'</c> does not list.
    /// </summary>
    public static string OpenSslName(CipherSuite suite) => suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => "PSK-AES128-GCM-SHA256",
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => "PSK-AES256-GCM-SHA384",
        CipherSuite.TLS_PSK_WITH_AES_128_CCM => "PSK-AES128-CCM",
        CipherSuite.TLS_PSK_WITH_AES_256_CCM => "PSK-AES256-CCM",
        CipherSuite.TLS_PSK_WITH_AES_128_CCM_8 => "PSK-AES128-CCM8",
        CipherSuite.TLS_PSK_WITH_AES_256_CCM_8 => "PSK-AES256-CCM8",
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 => "PSK-CHACHA20-POLY1305",
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256 => "PSK-AES128-CBC-SHA256",
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 => "ECDHE-PSK-CHACHA20-POLY1305",
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 => "ECDHE-PSK-AES128-CBC-SHA256",
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "OpenSSL 3.0 has no such suite (RFC 8442 ECDHE_PSK AES-GCM/CCM)."),
    };

    /// <summary>
    /// The <c>-cipher</c> argument that enables only <paramref name="suite"/>. OpenSSL 3 counts an 8-byte tag as below
    /// security level 1 and leaves the CCM_8 suites out unless the string lowers it (<c>@SECLEVEL=0</c>).
    /// </summary>
    public static string OpenSslCipherString(CipherSuite suite) => suite
        is CipherSuite.TLS_PSK_WITH_AES_128_CCM_8 or CipherSuite.TLS_PSK_WITH_AES_256_CCM_8
        ? OpenSslName(suite) + ":@SECLEVEL=0"
        : OpenSslName(suite);

    /// <summary>The suite OpenSSL printed, or null for a name HotDtls does not negotiate.</summary>
    public static CipherSuite? FromOpenSslName(string name) => name switch
    {
        "PSK-AES128-GCM-SHA256" => CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        "PSK-AES256-GCM-SHA384" => CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        "PSK-AES128-CCM" => CipherSuite.TLS_PSK_WITH_AES_128_CCM,
        "PSK-AES256-CCM" => CipherSuite.TLS_PSK_WITH_AES_256_CCM,
        "PSK-AES128-CCM8" => CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
        "PSK-AES256-CCM8" => CipherSuite.TLS_PSK_WITH_AES_256_CCM_8,
        "PSK-CHACHA20-POLY1305" => CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
        "PSK-AES128-CBC-SHA256" => CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256,
        "ECDHE-PSK-CHACHA20-POLY1305" => CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        "ECDHE-PSK-AES128-CBC-SHA256" => CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
        _ => null,
    };
}
