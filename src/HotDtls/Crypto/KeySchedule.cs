using System.Buffers.Binary;
using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>
/// The TLS 1.2 key schedule for plain PSK suites: premaster secret (RFC 4279 §2), master secret
/// (RFC 5246 §8.1, or RFC 7627 §4 with extended master secret), key block (RFC 5246 §6.3) and
/// Finished verify_data (RFC 5246 §7.4.9).
/// </summary>
/// <remarks>
/// Lengths are checked and a wrong one throws: every caller passes buffers it sized itself, so a
/// mismatch is a bug, never peer input. Temporaries holding secrets are zeroed by <see cref="Prf"/>.
/// </remarks>
internal static class KeySchedule
{
    /// <summary>"master_secret is always exactly 48 bytes in length" (RFC 5246 §8.1).</summary>
    public const int MasterSecretLength = 48;

    /// <summary>verify_data_length for every suite defined so far (RFC 5246 §7.4.9).</summary>
    public const int VerifyDataLength = 12;

    /// <summary>Length of ClientHello.random and ServerHello.random (RFC 5246 §7.4.1.2).</summary>
    public const int RandomLength = 32;

    /// <summary>
    /// A PSK is written behind a uint16 length, so the premaster secret format caps it at 65535 bytes;
    /// RFC 4279 §5.3 requires support for up to 64 bytes.
    /// </summary>
    public const int MaxPskLength = ushort.MaxValue;

    /// <summary>Bytes <see cref="WritePskPremasterSecret"/> writes for a PSK of <paramref name="pskLength"/> bytes.</summary>
    public static int PskPremasterSecretLength(int pskLength)
    {
        if ((uint)pskLength > MaxPskLength)
        {
            CryptoThrowHelper.ThrowArgumentOutOfRange(nameof(pskLength), "A PSK is at most 65535 bytes.");
        }

        return 2 + pskLength + 2 + pskLength;
    }

    /// <summary>
    /// Writes the plain-PSK premaster secret (RFC 4279 §2) and returns the bytes written.
    /// </summary>
    /// <remarks>
    /// <code>
    ///   struct {
    ///       opaque other_secret&lt;0..2^16-1&gt;;   // N zero bytes for plain PSK
    ///       opaque psk&lt;0..2^16-1&gt;;
    ///   };
    ///
    ///   +--------+-----------------+--------+-----------+
    ///   | uint16 | N zero octets   | uint16 | PSK       |
    ///   |   N    |                 |   N    | (N bytes) |
    ///   +--------+-----------------+--------+-----------+
    /// </code>
    /// The result is as secret as the PSK: zero it after deriving the master secret.
    /// </remarks>
    public static int WritePskPremasterSecret(ReadOnlySpan<byte> psk, Span<byte> destination)
    {
        int length = PskPremasterSecretLength(psk.Length);
        if (destination.Length < length)
        {
            CryptoThrowHelper.ThrowArgument(nameof(destination), "Destination is too small for the premaster secret.");
        }

        int n = psk.Length;
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)n);
        destination.Slice(2, n).Clear();
        BinaryPrimitives.WriteUInt16BigEndian(destination[(2 + n)..], (ushort)n);
        psk.CopyTo(destination[(4 + n)..]);
        return length;
    }

    /// <summary>
    /// master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47]
    /// (RFC 5246 §8.1).
    /// </summary>
    public static void MasterSecret(
        HashAlgorithmName prfHash,
        ReadOnlySpan<byte> premaster,
        ReadOnlySpan<byte> clientRandom,
        ReadOnlySpan<byte> serverRandom,
        Span<byte> master)
    {
        CheckLength(master, MasterSecretLength, nameof(master));
        CheckLength(clientRandom, RandomLength, nameof(clientRandom));
        CheckLength(serverRandom, RandomLength, nameof(serverRandom));
        Span<byte> seed = stackalloc byte[2 * RandomLength];
        ConcatRandoms(clientRandom, serverRandom, seed);
        Prf.Derive(prfHash, premaster, "master secret"u8, seed, master);
    }

    /// <summary>
    /// master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47] (RFC 7627 §4),
    /// where session_hash is the transcript hash up to and including ClientKeyExchange (RFC 7627 §3).
    /// </summary>
    public static void ExtendedMasterSecret(
        HashAlgorithmName prfHash,
        ReadOnlySpan<byte> premaster,
        ReadOnlySpan<byte> sessionHash,
        Span<byte> master)
    {
        CheckLength(master, MasterSecretLength, nameof(master));
        CheckLength(sessionHash, Prf.HashLength(prfHash), nameof(sessionHash));
        Prf.Derive(prfHash, premaster, "extended master secret"u8, sessionHash, master);
    }

    /// <summary>
    /// key_block = PRF(SecurityParameters.master_secret, "key expansion",
    ///                 SecurityParameters.server_random + SecurityParameters.client_random) (RFC 5246 §6.3).
    /// The randoms are in the opposite order from the master secret's seed. Size
    /// <paramref name="keyBlock"/> to the suite's <see cref="CipherSuiteInfo.KeyBlockLength"/>. A handshake derives
    /// it from its <see cref="CreateMasterSecretHmac">master-secret HMAC</see>; this form makes one for the call.
    /// </summary>
    public static void KeyBlock(
        HashAlgorithmName prfHash,
        ReadOnlySpan<byte> master,
        ReadOnlySpan<byte> serverRandom,
        ReadOnlySpan<byte> clientRandom,
        Span<byte> keyBlock)
    {
        using var masterSecretHmac = CreateMasterSecretHmac(prfHash, master);
        KeyBlock(masterSecretHmac, prfHash, serverRandom, clientRandom, keyBlock);
    }

    /// <summary>
    /// verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..verify_data_length-1]
    /// (RFC 5246 §7.4.9); finished_label is "client finished" or "server finished" by who sends the Finished. A
    /// handshake derives it from its <see cref="CreateMasterSecretHmac">master-secret HMAC</see>; this form makes one
    /// for the call.
    /// </summary>
    public static void VerifyData(
        HashAlgorithmName prfHash,
        ReadOnlySpan<byte> master,
        bool fromClient,
        ReadOnlySpan<byte> handshakeHash,
        Span<byte> verifyData)
    {
        using var masterSecretHmac = CreateMasterSecretHmac(prfHash, master);
        VerifyData(masterSecretHmac, prfHash, fromClient, handshakeHash, verifyData);
    }

    /// <summary>
    /// An HMAC keyed with the master secret, for the key block and both Finished messages: one key set-up serves the
    /// three derivations. Dispose it with the master secret.
    /// </summary>
    public static IncrementalHash CreateMasterSecretHmac(HashAlgorithmName prfHash, ReadOnlySpan<byte> master)
    {
        CheckLength(master, MasterSecretLength, nameof(master));
        return IncrementalHash.CreateHMAC(prfHash, master);
    }

    /// <summary>The key block (RFC 5246 §6.3) from an HMAC keyed with the master secret.</summary>
    public static void KeyBlock(
        IncrementalHash masterSecretHmac,
        HashAlgorithmName prfHash,
        ReadOnlySpan<byte> serverRandom,
        ReadOnlySpan<byte> clientRandom,
        Span<byte> keyBlock)
    {
        CheckLength(serverRandom, RandomLength, nameof(serverRandom));
        CheckLength(clientRandom, RandomLength, nameof(clientRandom));
        Span<byte> seed = stackalloc byte[2 * RandomLength];
        ConcatRandoms(serverRandom, clientRandom, seed);
        Prf.Derive(masterSecretHmac, prfHash, "key expansion"u8, seed, keyBlock);
    }

    /// <summary>verify_data (RFC 5246 §7.4.9) from an HMAC keyed with the master secret.</summary>
    public static void VerifyData(
        IncrementalHash masterSecretHmac,
        HashAlgorithmName prfHash,
        bool fromClient,
        ReadOnlySpan<byte> handshakeHash,
        Span<byte> verifyData)
    {
        CheckLength(handshakeHash, Prf.HashLength(prfHash), nameof(handshakeHash));
        CheckLength(verifyData, VerifyDataLength, nameof(verifyData));
        Prf.Derive(masterSecretHmac, prfHash, fromClient ? "client finished"u8 : "server finished"u8, handshakeHash, verifyData);
    }

    private static void ConcatRandoms(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second, Span<byte> seed)
    {
        first.CopyTo(seed);
        second.CopyTo(seed[RandomLength..]);
    }

    private static void CheckLength(ReadOnlySpan<byte> span, int expected, string paramName)
    {
        if (span.Length != expected)
        {
            CryptoThrowHelper.ThrowArgument(paramName, "Unexpected length.");
        }
    }
}
