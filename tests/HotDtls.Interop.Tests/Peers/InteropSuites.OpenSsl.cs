namespace HotDtls.Interop.Tests.Peers;

// The OpenSSL half of InteropSuites, apart from the xUnit and BouncyCastle half so that tools without those
// dependencies (tests/HotDtls.Stress) can link OpenSslClientPeer.
public static partial class InteropSuites
{
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
}
