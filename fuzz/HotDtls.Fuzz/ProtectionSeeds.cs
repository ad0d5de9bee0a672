using System.Text;
using HotDtls.Crypto;
using HotDtls.Fuzz.Targets;
using HotDtls.Records;

namespace HotDtls.Fuzz;

/// <summary>
/// Writes the protection target's seeds (<c>fuzz/corpus/protection/sealed-*</c>): for every suite a Finished and an
/// application record as a connection seals them after the handshake, and the edges — an empty plaintext at the last
/// epoch and sequence number, a whole CBC block, an alert, the warm-up that moves a direction to libsodium — and for
/// every suite an application record sealed as a tls12_cid record under the CID the input picks (RFC 9146). Each is
/// sealed for real under the target's fixed keys, so run it in a normal build: replayed by the tests (normal build)
/// every seed authenticates; under AFL++ (fuzzing build) it is mutated like any bytes. CBC IVs come from seeded
/// randomness, so the same files come out each time.
/// </summary>
internal static class ProtectionSeeds
{
    public static int Write(string directory, TextWriter log)
    {
        if (FuzzingBuild.Enabled)
        {
            log.WriteLine("seal needs a normal build, so the seeds are really sealed (dotnet run --project fuzz/HotDtls.Fuzz -- seal DIR)");
            return 2;
        }
        var corpus = new Corpus(directory, "sealed");
        var seed = 1;
        // Finished: handshake header (msg_type 20, length 12, message_seq 5, whole) and 12 bytes of verify_data.
        byte[] finished = [20, 0, 0, 12, 0, 5, 0, 0, 0, 0, 0, 12, .. Enumerable.Range(0xA0, 12).Select(static b => (byte)b)];
        var ping = Encoding.UTF8.GetBytes("I am peer 0, please, accept our ping 0");
        foreach (var suite in CipherSuiteInfo.All)
        {
            var name = Name(suite);
            corpus.AddProtection($"{name}-finished", ProtectionTarget.SealedInput(suite, ContentType.Handshake, 1, 0, finished, new DeterministicRandom(seed++)));
            corpus.AddProtection($"{name}-data", ProtectionTarget.SealedInput(suite, ContentType.ApplicationData, 1, 1, ping, new DeterministicRandom(seed++)));
        }

        // close_notify (RFC 5246 §7.2.1): the shortest real plaintext.
        byte[] closeNotify = [1, 0];
        foreach (var suite in new[] { CipherSuiteInfo.Aes128CbcSha256, CipherSuiteInfo.EcdheChaCha20Poly1305 })
        {
            corpus.AddProtection($"{Name(suite)}-alert", ProtectionTarget.SealedInput(suite, ContentType.Alert, 1, 2, closeNotify, new DeterministicRandom(seed++)));
        }
        // An empty plaintext at the last epoch and 48-bit sequence number: AAD, nonce and MAC input at their limits.
        foreach (var suite in new[] { CipherSuiteInfo.Aes128CbcSha256, CipherSuiteInfo.Aes128Ccm8, CipherSuiteInfo.ChaCha20Poly1305 })
        {
            corpus.AddProtection($"{Name(suite)}-empty-last", ProtectionTarget.SealedInput(suite, ContentType.ApplicationData, ushort.MaxValue,
                RecordDirection.MaxSequenceNumber, [], new DeterministicRandom(seed++)));
        }
        // A whole block: CBC then pads with a whole block of 15s.
        corpus.AddProtection($"{Name(CipherSuiteInfo.EcdheAes128CbcSha256)}-block", ProtectionTarget.SealedInput(CipherSuiteInfo.EcdheAes128CbcSha256,
            ContentType.ApplicationData, 1, 3, ping.AsSpan(0, 16), new DeterministicRandom(seed++)));
        // The directions that move to libsodium after 64 records, moved.
        foreach (var suite in new[] { CipherSuiteInfo.Aes256GcmSha384, CipherSuiteInfo.ChaCha20Poly1305 })
        {
            corpus.AddProtection($"{Name(suite)}-warm", ProtectionTarget.SealedInput(suite, ContentType.ApplicationData, 1, 100, ping,
                new DeterministicRandom(seed++), warmUp: true));
        }
        // tls12_cid records (RFC 9146): an application record's DTLSInnerPlaintext (content || real type) under the CID
        // its sequence number picks — 4, 6 and 10 bytes (what a server issues), 1 and 255 (the extremes) across the suites.
        // A recorder of their own (sealed-cid-*), flushed after the one above, whose sealed-* would take them too.
        corpus.Flush(log);
        corpus = new Corpus(directory, "sealed-cid");
        byte[] inner = [.. ping, (byte)ContentType.ApplicationData];
        ulong[] cidSequences = [3, 5, 9, 0, 16];
        for (var i = 0; i < CipherSuiteInfo.All.Count; i++)
        {
            var suite = CipherSuiteInfo.All[i];
            var sequence = cidSequences[i % cidSequences.Length];
            corpus.AddProtection(Name(suite), ProtectionTarget.SealedInput(suite, ContentType.ApplicationData, 1, sequence, inner,
                new DeterministicRandom(seed++), withConnectionId: true));
        }
        corpus.Flush(log);
        return 0;
    }

    /// <summary>"TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256" → "ecdhe-psk-aes-128-ccm-8-sha256".</summary>
    private static string Name(CipherSuiteInfo suite)
        => suite.Suite.ToString().Replace("TLS_", "", StringComparison.Ordinal).Replace("_WITH", "", StringComparison.Ordinal)
            .Replace('_', '-').ToLowerInvariant();
}
