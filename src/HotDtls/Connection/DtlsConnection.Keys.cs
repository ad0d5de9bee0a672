using System.Security.Cryptography;
using HotDtls.Crypto;
using HotDtls.Handshake;

namespace HotDtls.Connection;

internal abstract partial class DtlsConnection
{
    // The peer's verified verify_data: tells a repeated Finished from an altered one after the handshake.
    private VerifyDataBytes _peerVerifyData;

    /// <summary>
    /// Whether the peer's Finished has been checked against the transcript. Application data may be delivered only
    /// after this (HOSTILE 34); the fuzzing harness asserts it on every delivery.
    /// </summary>
    internal bool PeerFinishedVerified { get; private set; }

    /// <summary>Appends a whole message to the transcript with the header of an unfragmented message (RFC 6347 §4.2.6).</summary>
    protected bool AppendToTranscript(HandshakeType type, ushort messageSeq, ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[HandshakeHeader.Size];
        new HandshakeHeader(type, body.Length, messageSeq, 0, body.Length).Write(header);
        return Transcript.TryAppend(header) && Transcript.TryAppend(body);
    }

    /// <summary>
    /// Derives the master secret and epoch 1's keys from the PSK, and for ECDHE_PSK suites the ECDH shared secret
    /// (RFC 4279 §2, RFC 5489 §2, RFC 7627, RFC 5246 §6.3).
    /// </summary>
    protected void DeriveKeys(ReadOnlySpan<byte> psk, bool isServer)
    {
        var suite = Suite!;
        var handshake = Handshake;
        // A PSK is at most PskStore.MaxKeyLength bytes; the premaster secret adds 4 bytes and Z.
        Span<byte> premaster = stackalloc byte[Math.Max(
            EcdhePskPremaster.Length(EphemeralKeyPair.SharedSecretLength, psk.Length), KeySchedule.PskPremasterSecretLength(psk.Length))];
        if (suite.IsEcdhe)
        {
            // The caller has checked that the exchange produced Z (HasEcdhSharedSecret) before getting here.
            premaster = premaster[..EcdhePskPremaster.Write(handshake.EcdhSharedSecret, psk, premaster)];
            CryptographicOperations.ZeroMemory(handshake.EcdhSharedSecret);
            handshake.HasEcdhSharedSecret = false;
        }
        else
        {
            premaster = premaster[..KeySchedule.WritePskPremasterSecret(psk, premaster)];
        }
        if (ExtendedMasterSecret)
        {
            // RFC 7627 §3: the session hash covers the transcript up to and including ClientKeyExchange.
            Span<byte> sessionHash = stackalloc byte[suite.PrfHashLength];
            Transcript.GetHash(suite.PrfHash, sessionHash);
            KeySchedule.ExtendedMasterSecret(suite.PrfHash, premaster, sessionHash, MasterSecret);
        }
        else
        {
            KeySchedule.MasterSecret(suite.PrfHash, premaster, ClientRandom, ServerRandom, MasterSecret);
        }
        CryptographicOperations.ZeroMemory(premaster);
        DeriveKeysFromMasterSecret(isServer);
    }

    /// <summary>
    /// Epoch 1's keys from the master secret already in place and this handshake's randoms: the end of a full
    /// handshake's derivation, and all of a resumed one's (RFC 5246 §7.3: "new keys are derived from the master
    /// secret and the new random values"; §6.3).
    /// </summary>
    protected void DeriveKeysFromMasterSecret(bool isServer)
    {
        var suite = Suite!;
        // Full and abbreviated handshakes both come here: a resumed session's line pairs its new client random with
        // the cached master secret, which is what Wireshark needs to decrypt it.
        Services.KeyLog?.Write(ClientRandom, MasterSecret);
        Handshake.MasterSecretHmac?.Dispose();
        var masterSecretHmac = Handshake.MasterSecretHmac = KeySchedule.CreateMasterSecretHmac(suite.PrfHash, MasterSecret);
        Span<byte> keyBlock = stackalloc byte[suite.KeyBlockLength];
        KeySchedule.KeyBlock(masterSecretHmac, suite.PrfHash, ServerRandom, ClientRandom, keyBlock);
        Records.SetPendingKeys(suite, keyBlock, isServer);
        CryptographicOperations.ZeroMemory(keyBlock);
    }

    /// <summary>A fresh ephemeral ECDH key for this handshake (RFC 5489 §2: ECDHE keys are never reused).</summary>
    protected EphemeralKeyPair CreateEphemeralKey(NamedGroup group)
    {
#if HOTDTLS_FUZZING
        // Fuzzing build: the private key comes from the injected random source, so the same input always produces the
        // same flights (fuzz/README.md). A 32-byte value with the top bit clear is a valid P-256 scalar (below n) and
        // any 32 bytes are an X25519 scalar.
        Span<byte> privateKey = stackalloc byte[32];
        Random.Fill(privateKey);
        privateKey[0] = (byte)((privateKey[0] & 0x7F) | 0x01);
        var key = EphemeralKeyPair.FromPrivateKey(group, privateKey);
        CryptographicOperations.ZeroMemory(privateKey);
        return key;
#else
        return EphemeralKeyPair.Generate(group);
#endif
    }

    /// <summary>Checks the peer's Finished against the transcript so far, in constant time (RFC 5246 §7.4.9).</summary>
    protected DtlsError VerifyPeerFinished(ReadOnlySpan<byte> body, bool fromClient)
    {
        if (!Finished.TryParse(body, out var verifyData))
        {
            return DtlsError.DecodeError;
        }
        Span<byte> expected = stackalloc byte[Finished.VerifyDataLength];
        ComputeVerifyData(fromClient, expected);
#if HOTDTLS_FUZZING
        // Fuzzing build: every well-formed Finished verifies, so the fuzzer reaches the established state.
#else
        if (!CryptographicOperations.FixedTimeEquals(expected, verifyData))
        {
            return DtlsError.FinishedMismatch;
        }
#endif
        verifyData.CopyTo(_peerVerifyData);
        PeerFinishedVerified = true;
        return DtlsError.None;
    }

    /// <summary>verify_data over the transcript so far (RFC 5246 §7.4.9).</summary>
    protected void ComputeVerifyData(bool fromClient, Span<byte> verifyData)
    {
        var suite = Suite!;
        Span<byte> hash = stackalloc byte[suite.PrfHashLength];
        Transcript.GetHash(suite.PrfHash, hash);
        KeySchedule.VerifyData(Handshake.MasterSecretHmac!, suite.PrfHash, fromClient, hash, verifyData);
    }
}
