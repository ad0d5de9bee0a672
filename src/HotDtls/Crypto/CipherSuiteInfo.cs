using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>
/// The parameters of one supported cipher suite, as RFC 5487 and RFC 5288 fix them. One shared immutable
/// instance per suite, so a negotiated suite is a reference and looking it up never allocates.
/// </summary>
/// <remarks>
/// Both suites are AEAD suites (RFC 5246 §6.2.3.3): no MAC key, a 4-byte implicit salt taken from the
/// key block ("fixed IV") and an 8-byte explicit nonce carried in every record (RFC 5288 §3).
/// </remarks>
internal sealed class CipherSuiteInfo
{
    /// <summary>TLS_PSK_WITH_AES_128_GCM_SHA256 (0x00A8).</summary>
    public static readonly CipherSuiteInfo Aes128GcmSha256 =
        new(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, keyLength: 16, HashAlgorithmName.SHA256, prfHashLength: 32);

    /// <summary>TLS_PSK_WITH_AES_256_GCM_SHA384 (0x00A9).</summary>
    public static readonly CipherSuiteInfo Aes256GcmSha384 =
        new(CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384, keyLength: 32, HashAlgorithmName.SHA384, prfHashLength: 48);

    private CipherSuiteInfo(CipherSuite suite, int keyLength, HashAlgorithmName prfHash, int prfHashLength)
    {
        Suite = suite;
        KeyLength = keyLength;
        PrfHash = prfHash;
        PrfHashLength = prfHashLength;
    }

    public CipherSuite Suite { get; }

    /// <summary>AES key length in bytes: 16 or 32.</summary>
    public int KeyLength { get; }

    /// <summary>The implicit part of the GCM nonce, the "salt" of RFC 5288 §3.</summary>
    public int FixedIvLength => 4;

    /// <summary>The explicit nonce sent at the start of every record body (RFC 5288 §3).</summary>
    public int RecordIvLength => 8;

    public int TagLength => 16;

    /// <summary>The PRF hash (RFC 5288 §3 and RFC 5487 §3 replace the default SHA-256 for the *_SHA384 suites).</summary>
    public HashAlgorithmName PrfHash { get; }

    public int PrfHashLength { get; }

    /// <summary>
    /// Key block bytes to derive: two write keys and two fixed IVs; AEAD suites have no MAC keys
    /// (RFC 5246 §6.3).
    /// </summary>
    public int KeyBlockLength => (2 * KeyLength) + (2 * FixedIvLength);

    /// <summary>Bytes a protected record body adds to its plaintext: explicit nonce plus tag.</summary>
    public int RecordOverhead => RecordIvLength + TagLength;

    /// <summary>
    /// Looks up a code point as it arrives on the wire (ClientHello.cipher_suites, ServerHello.cipher_suite).
    /// Unknown code points, including GREASE and SCSVs, are simply not found.
    /// </summary>
    public static bool TryGet(ushort codePoint, [NotNullWhen(true)] out CipherSuiteInfo? info)
    {
        info = codePoint switch
        {
            (ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => Aes128GcmSha256,
            (ushort)CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => Aes256GcmSha384,
            _ => null,
        };
        return info is not null;
    }

    /// <summary>The description of a configured suite; throws for a value outside the enum (API misuse).</summary>
    public static CipherSuiteInfo Get(CipherSuite suite)
    {
        if (!TryGet((ushort)suite, out var info))
        {
            CryptoThrowHelper.ThrowArgumentOutOfRange(nameof(suite), "Not a supported cipher suite.");
        }

        return info;
    }

    public override string ToString() => Suite.ToString();
}
