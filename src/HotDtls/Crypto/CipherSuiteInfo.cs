using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>How a suite's keys are agreed (RFC 4279 §2, RFC 5489 §2).</summary>
internal enum KeyExchangeAlgorithm : byte
{
    /// <summary>The PSK alone: ServerKeyExchange carries only the identity hint and is optional.</summary>
    Psk,

    /// <summary>An ephemeral ECDH exchange mixed with the PSK: ServerKeyExchange is mandatory and carries the ECDH parameters.</summary>
    EcdhePsk,
}

/// <summary>How a suite protects records (RFC 5246 §6.2.3: block or AEAD cipher).</summary>
internal enum RecordProtection : byte
{
    /// <summary>AES-GCM, RFC 5288: 4-byte salt from the key block, 8-byte explicit nonce, 16-byte tag.</summary>
    AesGcm,

    /// <summary>AES-CCM, RFC 6655: as GCM, with a 16- or 8-byte tag.</summary>
    AesCcm,

    /// <summary>ChaCha20-Poly1305, RFC 7905: 12-byte IV from the key block XORed with the sequence number, no explicit nonce.</summary>
    ChaCha20Poly1305,

    /// <summary>AES-CBC with HMAC-SHA256 over the ciphertext (encrypt_then_mac, RFC 7366): 16-byte explicit IV, 32-byte MAC.</summary>
    AesCbcHmacSha256,
}

/// <summary>
/// The crypto provider table: every suite HotDtls speaks, with its key exchange, record protection, PRF hash and the
/// lengths the key schedule and record layer read. One shared immutable instance per suite, so a negotiated suite is
/// a reference and looking one up never allocates. A new suite is a row here (and, for a new kind of protection, a
/// record cipher class in Records).
/// </summary>
/// <remarks>
/// <code>
///   suite                                     kx        protection  key  fixed IV  record IV  tag/MAC  MAC key  PRF
///   TLS_PSK_WITH_AES_128_GCM_SHA256          PSK       AES-GCM      16      4         8         16       -     SHA-256
///   TLS_PSK_WITH_AES_256_GCM_SHA384          PSK       AES-GCM      32      4         8         16       -     SHA-384
///   TLS_PSK_WITH_AES_128_CCM                 PSK       AES-CCM      16      4         8         16       -     SHA-256
///   TLS_PSK_WITH_AES_256_CCM                 PSK       AES-CCM      32      4         8         16       -     SHA-256
///   TLS_PSK_WITH_AES_128_CCM_8               PSK       AES-CCM      16      4         8          8       -     SHA-256
///   TLS_PSK_WITH_AES_256_CCM_8               PSK       AES-CCM      32      4         8          8       -     SHA-256
///   TLS_PSK_WITH_CHACHA20_POLY1305_SHA256    PSK       ChaCha20     32     12         0         16       -     SHA-256
///   TLS_PSK_WITH_AES_128_CBC_SHA256          PSK       CBC+EtM      16      0        16         32      32     SHA-256
///   TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256    ECDHE_PSK AES-GCM      16      4         8         16       -     SHA-256
///   TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384    ECDHE_PSK AES-GCM      32      4         8         16       -     SHA-384
///   TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256    ECDHE_PSK AES-CCM      16      4         8         16       -     SHA-256
///   TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256  ECDHE_PSK AES-CCM      16      4         8          8       -     SHA-256
///   TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 ECDHE_PSK ChaCha20  32     12         0         16       -     SHA-256
///   TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256    ECDHE_PSK CBC+EtM      16      0        16         32      32     SHA-256
/// </code>
/// Sources: RFC 5487 (PSK GCM, CBC), RFC 5288 §3 (GCM nonce), RFC 6655 §3 and §4 (CCM, SHA-256 PRF for every CCM
/// suite), RFC 7905 §2 (ChaCha20-Poly1305 nonce), RFC 8442 §3 (ECDHE_PSK AEAD), RFC 5489 §3.2 (ECDHE_PSK CBC), RFC 5246
/// §6.3 (key block: MAC keys, then write keys, then IVs; CBC suites take no IV from it since TLS 1.1's explicit IV).
/// </remarks>
internal sealed class CipherSuiteInfo
{
    /// <summary>The largest key material one direction holds: AES-128 key and HMAC-SHA256 key of the CBC suites (48).</summary>
    public const int MaxDirectionMaterialLength = 48;

    public static readonly CipherSuiteInfo Aes128GcmSha256 = Aead(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        KeyExchangeAlgorithm.Psk, RecordProtection.AesGcm, keyLength: 16, tagLength: 16, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo Aes256GcmSha384 = Aead(CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        KeyExchangeAlgorithm.Psk, RecordProtection.AesGcm, keyLength: 32, tagLength: 16, HashAlgorithmName.SHA384);

    public static readonly CipherSuiteInfo Aes128Ccm = Aead(CipherSuite.TLS_PSK_WITH_AES_128_CCM,
        KeyExchangeAlgorithm.Psk, RecordProtection.AesCcm, keyLength: 16, tagLength: 16, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo Aes256Ccm = Aead(CipherSuite.TLS_PSK_WITH_AES_256_CCM,
        KeyExchangeAlgorithm.Psk, RecordProtection.AesCcm, keyLength: 32, tagLength: 16, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo Aes128Ccm8 = Aead(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
        KeyExchangeAlgorithm.Psk, RecordProtection.AesCcm, keyLength: 16, tagLength: 8, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo Aes256Ccm8 = Aead(CipherSuite.TLS_PSK_WITH_AES_256_CCM_8,
        KeyExchangeAlgorithm.Psk, RecordProtection.AesCcm, keyLength: 32, tagLength: 8, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo ChaCha20Poly1305 = Aead(CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
        KeyExchangeAlgorithm.Psk, RecordProtection.ChaCha20Poly1305, keyLength: 32, tagLength: 16, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo Aes128CbcSha256 = Cbc(CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256, KeyExchangeAlgorithm.Psk);

    public static readonly CipherSuiteInfo EcdheAes128GcmSha256 = Aead(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256,
        KeyExchangeAlgorithm.EcdhePsk, RecordProtection.AesGcm, keyLength: 16, tagLength: 16, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo EcdheAes256GcmSha384 = Aead(CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384,
        KeyExchangeAlgorithm.EcdhePsk, RecordProtection.AesGcm, keyLength: 32, tagLength: 16, HashAlgorithmName.SHA384);

    public static readonly CipherSuiteInfo EcdheAes128CcmSha256 = Aead(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256,
        KeyExchangeAlgorithm.EcdhePsk, RecordProtection.AesCcm, keyLength: 16, tagLength: 16, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo EcdheAes128Ccm8Sha256 = Aead(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256,
        KeyExchangeAlgorithm.EcdhePsk, RecordProtection.AesCcm, keyLength: 16, tagLength: 8, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo EcdheChaCha20Poly1305 = Aead(CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        KeyExchangeAlgorithm.EcdhePsk, RecordProtection.ChaCha20Poly1305, keyLength: 32, tagLength: 16, HashAlgorithmName.SHA256);

    public static readonly CipherSuiteInfo EcdheAes128CbcSha256 = Cbc(CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256, KeyExchangeAlgorithm.EcdhePsk);

    private static readonly CipherSuiteInfo[] s_rows =
    [
        Aes128CbcSha256, Aes128GcmSha256, Aes256GcmSha384, Aes128Ccm, Aes256Ccm, Aes128Ccm8, Aes256Ccm8,
        EcdheAes128CbcSha256, ChaCha20Poly1305, EcdheChaCha20Poly1305, EcdheAes128GcmSha256, EcdheAes256GcmSha384,
        EcdheAes128Ccm8Sha256, EcdheAes128CcmSha256,
    ];

    /// <summary>Every row, in the enum's order of declaration (not a preference order).</summary>
    public static IReadOnlyList<CipherSuiteInfo> All => s_rows;

    /// <summary>The row's position in <see cref="All"/>: a byte where a reference would cost eight (record directions).</summary>
    public byte Index => (byte)Array.IndexOf(s_rows, this);

    /// <summary>The row at <paramref name="index"/> in <see cref="All"/>.</summary>
    public static CipherSuiteInfo FromIndex(byte index) => s_rows[index];

    private CipherSuiteInfo(CipherSuite suite, KeyExchangeAlgorithm keyExchange, RecordProtection protection,
        int keyLength, int fixedIvLength, int recordIvLength, int tagLength, int macKeyLength, HashAlgorithmName prfHash)
    {
        Suite = suite;
        KeyExchange = keyExchange;
        Protection = protection;
        KeyLength = keyLength;
        FixedIvLength = fixedIvLength;
        RecordIvLength = recordIvLength;
        TagLength = tagLength;
        MacKeyLength = macKeyLength;
        PrfHash = prfHash;
        PrfHashLength = prfHash == HashAlgorithmName.SHA384 ? 48 : 32;
    }

    private static CipherSuiteInfo Aead(CipherSuite suite, KeyExchangeAlgorithm keyExchange, RecordProtection protection,
        int keyLength, int tagLength, HashAlgorithmName prfHash)
    {
        // RFC 7905 §2: ChaCha20-Poly1305 takes a 12-byte IV from the key block and sends no explicit nonce;
        // GCM (RFC 5288 §3) and CCM (RFC 6655 §3) take a 4-byte salt and send an 8-byte explicit nonce.
        var chacha = protection == RecordProtection.ChaCha20Poly1305;
        return new(suite, keyExchange, protection, keyLength, fixedIvLength: chacha ? 12 : 4, recordIvLength: chacha ? 0 : 8,
            tagLength, macKeyLength: 0, prfHash);
    }

    private static CipherSuiteInfo Cbc(CipherSuite suite, KeyExchangeAlgorithm keyExchange)
        => new(suite, keyExchange, RecordProtection.AesCbcHmacSha256, keyLength: 16, fixedIvLength: 0, recordIvLength: 16,
            tagLength: 32, macKeyLength: 32, HashAlgorithmName.SHA256);

    public CipherSuite Suite { get; }

    public KeyExchangeAlgorithm KeyExchange { get; }

    public RecordProtection Protection { get; }

    /// <summary>Encryption key length in bytes: 16 or 32.</summary>
    public int KeyLength { get; }

    /// <summary>IV bytes each direction takes from the key block: the GCM/CCM salt (4), the ChaCha20 IV (12), none for CBC.</summary>
    public int FixedIvLength { get; }

    /// <summary>Bytes at the start of every record body before the ciphertext: explicit nonce (8), none, or the CBC IV (16).</summary>
    public int RecordIvLength { get; }

    /// <summary>The authentication tag (AEAD) or MAC (CBC) at the end of every record body.</summary>
    public int TagLength { get; }

    /// <summary>HMAC key length of the CBC suites; 0 for AEAD suites (RFC 5246 §6.2.3.3: no MAC key).</summary>
    public int MacKeyLength { get; }

    /// <summary>The PRF hash: SHA-384 for the *_SHA384 suites (RFC 5288 §3, RFC 5487 §3), SHA-256 for the rest.</summary>
    public HashAlgorithmName PrfHash { get; }

    public int PrfHashLength { get; }

    /// <summary>Whether records are AEAD-protected (all but the CBC suites).</summary>
    public bool IsAead => Protection != RecordProtection.AesCbcHmacSha256;

    /// <summary>Whether the suite needs an ephemeral ECDH exchange (and so supported_groups and ServerKeyExchange).</summary>
    public bool IsEcdhe => KeyExchange == KeyExchangeAlgorithm.EcdhePsk;

    /// <summary>Key material one direction holds: its MAC key, write key and fixed IV.</summary>
    public int DirectionMaterialLength => MacKeyLength + KeyLength + FixedIvLength;

    /// <summary>
    /// Key block bytes to derive (RFC 5246 §6.3): client and server MAC keys, client and server write keys, client
    /// and server fixed IVs, in that order.
    /// </summary>
    public int KeyBlockLength => 2 * DirectionMaterialLength;

    /// <summary>The shortest record body that can be well formed: AEAD nonce and tag; CBC IV, one block and the MAC.</summary>
    public int MinimumBodyLength => IsAead ? RecordIvLength + TagLength : RecordIvLength + 16 + TagLength;

    /// <summary>The most a protected record body adds to its plaintext (CBC: padding of up to one whole block).</summary>
    public int MaxRecordOverhead => IsAead ? RecordIvLength + TagLength : RecordIvLength + 16 + TagLength;

    /// <summary>Bytes of the record body that protects <paramref name="plaintextLength"/> bytes.</summary>
    public int SealedLength(int plaintextLength)
        => IsAead
            ? RecordIvLength + plaintextLength + TagLength
            // RFC 5246 §6.2.3.2: content, padding and padding_length fill whole blocks; the least padding is sent.
            : RecordIvLength + (((plaintextLength / 16) + 1) * 16) + TagLength;

    /// <summary>
    /// Looks up a code point as it arrives on the wire (ClientHello.cipher_suites, ServerHello.cipher_suite).
    /// Unknown code points, including GREASE and SCSVs, are simply not found.
    /// </summary>
    public static bool TryGet(ushort codePoint, [NotNullWhen(true)] out CipherSuiteInfo? info)
    {
        info = (CipherSuite)codePoint switch
        {
            CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => Aes128GcmSha256,
            CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => Aes256GcmSha384,
            CipherSuite.TLS_PSK_WITH_AES_128_CCM => Aes128Ccm,
            CipherSuite.TLS_PSK_WITH_AES_256_CCM => Aes256Ccm,
            CipherSuite.TLS_PSK_WITH_AES_128_CCM_8 => Aes128Ccm8,
            CipherSuite.TLS_PSK_WITH_AES_256_CCM_8 => Aes256Ccm8,
            CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256 => ChaCha20Poly1305,
            CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256 => Aes128CbcSha256,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256 => EcdheAes128GcmSha256,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384 => EcdheAes256GcmSha384,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256 => EcdheAes128CcmSha256,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256 => EcdheAes128Ccm8Sha256,
            CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 => EcdheChaCha20Poly1305,
            CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256 => EcdheAes128CbcSha256,
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
