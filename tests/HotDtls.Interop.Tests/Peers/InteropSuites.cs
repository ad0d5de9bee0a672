using BcCipherSuite = Org.BouncyCastle.Tls.CipherSuite;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>Maps HotDtls' <see cref="CipherSuite"/> to the names each peer uses for it.</summary>
public static class InteropSuites
{
    /// <summary>Both suites HotDtls negotiates, for <c>[MemberData]</c>.</summary>
    public static TheoryData<CipherSuite> All { get; } = new()
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
    };

    /// <summary>OpenSSL's name for the suite, as <c>-cipher</c> takes it and <c>Ciphersuite:</c> prints it.</summary>
    public static string OpenSslName(CipherSuite suite) => suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => "PSK-AES128-GCM-SHA256",
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => "PSK-AES256-GCM-SHA384",
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "No OpenSSL name known."),
    };

    /// <summary>The suite OpenSSL printed, or null for a name HotDtls does not negotiate.</summary>
    public static CipherSuite? FromOpenSslName(string name) => name switch
    {
        "PSK-AES128-GCM-SHA256" => CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        "PSK-AES256-GCM-SHA384" => CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        _ => null,
    };

    /// <summary>BouncyCastle's constant for the suite (the IANA code point, same as HotDtls').</summary>
    public static int BouncyCastleValue(CipherSuite suite) => suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => BcCipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => BcCipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "Not a BouncyCastle suite."),
    };
}
