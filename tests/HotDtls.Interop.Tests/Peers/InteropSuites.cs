using BcCipherSuite = Org.BouncyCastle.Tls.CipherSuite;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// Which of HotDtls' suites each peer has, for <c>[MemberData]</c>, and the names each peer uses for them.
/// </summary>
/// <remarks>
/// <code>
/// suite (IANA name)                                  OpenSSL 3.0  GnuTLS 3.7  BouncyCastle 2.7
/// TLS_PSK_WITH_AES_128_GCM_SHA256              00A8  yes          yes         yes
/// TLS_PSK_WITH_AES_256_GCM_SHA384              00A9  yes          yes         yes
/// TLS_PSK_WITH_AES_128_CCM                     C0A4  yes          yes         yes
/// TLS_PSK_WITH_AES_256_CCM                     C0A5  yes          yes         yes
/// TLS_PSK_WITH_AES_128_CCM_8                   C0A8  @SECLEVEL=0  yes         yes
/// TLS_PSK_WITH_AES_256_CCM_8                   C0A9  @SECLEVEL=0  yes         yes
/// TLS_PSK_WITH_CHACHA20_POLY1305_SHA256        CCAB  yes          yes         yes
/// TLS_PSK_WITH_AES_128_CBC_SHA256              00AE  yes          yes         yes               encrypt_then_mac on all three
/// TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256  CCAC  yes          yes (1)     yes
/// TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256        C037  yes          yes (1)     yes               encrypt_then_mac on all three
/// TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256        D001  no           no          yes               RFC 8442
/// TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384        D002  no           no          yes               RFC 8442
/// TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256      D003  no           no          yes               RFC 8442
/// TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256        D005  no           no          yes               RFC 8442
/// </code>
/// (1) gnutls-serv completes ECDHE-PSK handshakes; gnutls-cli 3.7.9 completes them too, then crashes (SIGSEGV in
/// gnutls_psk_server_get_username, called by its session printer) before it reads stdin — against OpenSSL as well.
/// </remarks>
public static partial class InteropSuites
{
    /// <summary>
    /// The two PSK AES-GCM suites every peer has: the baseline for tests about something other than the suite
    /// (driver self-tests through a lossy relay, loss, refusals).
    /// </summary>
    public static TheoryData<CipherSuite> Gcm { get; } = new()
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
    };

    /// <summary>The ten suites OpenSSL 3.0 and HotDtls share (no RFC 8442 suites in OpenSSL).</summary>
    public static TheoryData<CipherSuite> OpenSsl { get; } = new()
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM_8,
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
    };

    // Declared before the properties built from it: static initialisers run in textual order.
    private static readonly CipherSuite[] s_gnuTls =
    [
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM_8,
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
    ];

    /// <summary>The ten suites GnuTLS 3.7 and HotDtls share (no RFC 8442 suites in GnuTLS).</summary>
    public static TheoryData<CipherSuite> GnuTls { get; } = new(s_gnuTls);

    /// <summary>The GnuTLS suites gnutls-cli can finish a session with (not the ECDHE_PSK ones: see the remarks).</summary>
    public static TheoryData<CipherSuite> GnuTlsCli { get; } = new(s_gnuTls.Where(s => !IsEcdhePsk(s)));

    /// <summary>The ECDHE_PSK suites of <see cref="GnuTls"/>, which gnutls-cli completes and then crashes after.</summary>
    public static TheoryData<CipherSuite> GnuTlsEcdhePsk { get; } = new(s_gnuTls.Where(IsEcdhePsk));

    /// <summary>Every suite HotDtls negotiates (<see cref="DtlsOptions.DefaultCipherSuites"/>): BouncyCastle 2.7 has them all.</summary>
    public static TheoryData<CipherSuite> BouncyCastle { get; } = new(DtlsOptions.DefaultCipherSuites);

    /// <summary>True for the suites with an ephemeral ECDH exchange (RFC 5489, RFC 8442, RFC 7905).</summary>
    public static bool IsEcdhePsk(CipherSuite suite) => suite
        is CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 or CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384
        or CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256 or CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256
        or CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 or CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256;

    /// <summary>BouncyCastle's constant for the suite (the IANA code point, same as HotDtls').</summary>
    public static int BouncyCastleValue(CipherSuite suite) => suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => BcCipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => BcCipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM => BcCipherSuite.TLS_PSK_WITH_AES_128_CCM,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM => BcCipherSuite.TLS_PSK_WITH_AES_256_CCM,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM_8 => BcCipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM_8 => BcCipherSuite.TLS_PSK_WITH_AES_256_CCM_8,
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 => BcCipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256 => BcCipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 => BcCipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 => BcCipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 => BcCipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 => BcCipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256 => BcCipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256 => BcCipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256,
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "Not a BouncyCastle suite."),
    };
}
