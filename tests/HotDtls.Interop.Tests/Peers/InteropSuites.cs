using BcCipherSuite = Org.BouncyCastle.Tls.CipherSuite;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>Maps HotDtls' <see cref="CipherSuite"/> to the names each peer uses for it.</summary>
public static partial class InteropSuites
{
    /// <summary>Both suites HotDtls negotiates, for <c>[MemberData]</c>.</summary>
    public static TheoryData<CipherSuite> All { get; } = new()
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
    };

    /// <summary>BouncyCastle's constant for the suite (the IANA code point, same as HotDtls').</summary>
    public static int BouncyCastleValue(CipherSuite suite) => suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => BcCipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => BcCipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        _ => throw new ArgumentOutOfRangeException(nameof(suite), suite, "Not a BouncyCastle suite."),
    };
}
