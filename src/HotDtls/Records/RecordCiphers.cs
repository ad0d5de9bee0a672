using HotDtls.Crypto;

namespace HotDtls.Records;

/// <summary>
/// Makes the <see cref="IRecordCipher"/> of a suite's record protection from one direction's key material: the one
/// place that maps a row of the provider table (<see cref="CipherSuiteInfo.Protection"/>) to a class. AES-GCM is not
/// here: <see cref="RecordDirection"/> runs it inline.
/// </summary>
internal static class RecordCiphers
{
    public static IRecordCipher Create(CipherSuiteInfo suite, ReadOnlySpan<byte> key, ReadOnlySpan<byte> fixedIv, ReadOnlySpan<byte> macKey)
        => suite.Protection switch
        {
            RecordProtection.AesCcm => new AesCcmRecordCipher(key, fixedIv, suite.TagLength),
            RecordProtection.ChaCha20Poly1305 => new ChaCha20Poly1305RecordCipher(key, fixedIv),
            RecordProtection.AesCbcHmacSha256 => new AesCbcHmacSha256RecordCipher(key, macKey),
            _ => throw new ArgumentOutOfRangeException(nameof(suite), suite.Protection, "AES-GCM runs inline in RecordDirection."),
        };
}
