using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Records;

/// <summary>
/// One direction's record protection as an object of its own, for code that holds a direction outside a record layer:
/// the record-protection tests and benchmarks. Production keeps both directions inline in its
/// <see cref="RecordLayer"/> (<see cref="AeadDirection"/>, where the record layout is drawn); <see cref="CreatePair"/>
/// and <see cref="RecordLayer.SetPendingCiphers"/> let a test build a layer from objects it made itself.
/// </summary>
internal sealed class AeadRecordCipher : IDisposable
{
    public const int ExplicitNonceLength = AeadDirection.ExplicitNonceLength;
    public const int TagLength = AeadDirection.TagLength;
    public const int Overhead = AeadDirection.Overhead;

    /// <inheritdoc cref="AeadDirection.MaxSequenceNumber"/>
    public const ulong MaxSequenceNumber = AeadDirection.MaxSequenceNumber;

    internal const int FixedIvLength = AeadDirection.FixedIvLength;

    private AeadDirection _direction;

    /// <summary>
    /// Keys one direction with its write key (<see cref="CipherSuiteInfo.KeyLength"/> bytes) and its
    /// 4-byte write IV; usually through <see cref="CreatePair"/>.
    /// </summary>
    public AeadRecordCipher(CipherSuiteInfo suite, ReadOnlySpan<byte> key, ReadOnlySpan<byte> fixedIv)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (key.Length != suite.KeyLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(key), "Key length does not match the cipher suite.");
        }
        if (fixedIv.Length != FixedIvLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(fixedIv), "The fixed IV of an AES-GCM suite is 4 bytes.");
        }
        _direction.SetKey(key, fixedIv);
    }

    /// <summary>
    /// Builds the read and write ciphers of one endpoint from the key block.
    /// </summary>
    /// <remarks>See <see cref="AeadDirection.SplitKeyBlock"/> for the key block's layout.</remarks>
    public static void CreatePair(
        CipherSuiteInfo suite,
        ReadOnlySpan<byte> keyBlock,
        bool isServer,
        out AeadRecordCipher read,
        out AeadRecordCipher write)
    {
        AeadDirection.SplitKeyBlock(suite, keyBlock, isServer, out var readKey, out var readIv, out var writeKey, out var writeIv);
        read = new AeadRecordCipher(suite, readKey, readIv);
        write = new AeadRecordCipher(suite, writeKey, writeIv);
    }

    /// <inheritdoc cref="AeadDirection.TryOpenInPlace"/>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, Span<byte> fragment, out int plaintextLength)
        => _direction.TryOpenInPlace(type, epoch, sequenceNumber, fragment, out plaintextLength);

    /// <inheritdoc cref="AeadDirection.Seal"/>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> plaintext, Span<byte> destination)
        => _direction.Seal(type, epoch, sequenceNumber, plaintext, destination);

    /// <summary>Whether the native cipher object currently exists (false while parked).</summary>
    public bool IsActive => _direction.IsActive;

    /// <inheritdoc cref="AeadDirection.ParkIfUnused"/>
    public bool ParkIfUnused() => _direction.ParkIfUnused();

    /// <summary>Whether this direction has moved to libsodium (AES-256-GCM after 64 records).</summary>
    internal bool UsesLibsodium => _direction.UsesLibsodium;

    /// <summary>
    /// Moves this cipher's key and native objects into <paramref name="destination"/> (a record layer's inline
    /// slot); this object is left disposed, its copy of the key zeroed.
    /// </summary>
    internal void MoveTo(ref AeadDirection destination) => destination.MoveFrom(ref _direction);

    /// <summary>Releases the native cipher objects and zeroes the key.</summary>
    public void Dispose() => _direction.Dispose();
}
