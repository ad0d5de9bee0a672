using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Records;

/// <summary>
/// One direction's record protection as an object of its own, for code that holds a direction outside a record layer:
/// the record-protection tests and benchmarks. Production keeps both directions inline in its
/// <see cref="RecordLayer"/> (<see cref="RecordDirection"/>, where the record layout is drawn); <see cref="CreatePair"/>
/// and <see cref="RecordLayer.SetPendingCiphers"/> let a test build a layer from objects it made itself.
/// </summary>
internal sealed class AeadRecordCipher : IDisposable
{
    /// <summary>The explicit nonce of the AES-GCM and AES-CCM suites.</summary>
    public const int ExplicitNonceLength = RecordDirection.ExplicitNonceLength;

    /// <summary>The tag of the AES-GCM suites.</summary>
    public const int TagLength = RecordDirection.TagLength;

    /// <summary>What an AES-GCM record body adds to its plaintext.</summary>
    public const int Overhead = RecordDirection.Overhead;

    /// <inheritdoc cref="RecordDirection.MaxSequenceNumber"/>
    public const ulong MaxSequenceNumber = RecordDirection.MaxSequenceNumber;

    internal const int FixedIvLength = RecordDirection.FixedIvLength;

    private RecordDirection _direction;

    /// <summary>
    /// Keys one direction with its write key (<see cref="CipherSuiteInfo.KeyLength"/> bytes), its fixed IV
    /// (<see cref="CipherSuiteInfo.FixedIvLength"/>) and, for CBC suites, its MAC key; usually through <see cref="CreatePair"/>.
    /// </summary>
    public AeadRecordCipher(CipherSuiteInfo suite, ReadOnlySpan<byte> key, ReadOnlySpan<byte> fixedIv, ReadOnlySpan<byte> macKey = default)
    {
        ArgumentNullException.ThrowIfNull(suite);
        if (key.Length != suite.KeyLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(key), "Key length does not match the cipher suite.");
        }
        if (fixedIv.Length != suite.FixedIvLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(fixedIv), "Fixed IV length does not match the cipher suite.");
        }
        if (macKey.Length != suite.MacKeyLength)
        {
            CryptoThrowHelper.ThrowArgument(nameof(macKey), "MAC key length does not match the cipher suite.");
        }
        _direction.SetKey(suite, new DirectionKeys(key, fixedIv, macKey));
    }

    /// <summary>The suite this direction protects records for.</summary>
    public CipherSuiteInfo Suite => _direction.Suite ?? throw new ObjectDisposedException(nameof(AeadRecordCipher));

    /// <summary>
    /// Builds the read and write ciphers of one endpoint from the key block.
    /// </summary>
    /// <remarks>See <see cref="RecordDirection.SplitKeyBlock"/> for the key block's layout.</remarks>
    public static void CreatePair(
        CipherSuiteInfo suite,
        ReadOnlySpan<byte> keyBlock,
        bool isServer,
        out AeadRecordCipher read,
        out AeadRecordCipher write)
    {
        RecordDirection.SplitKeyBlock(suite, keyBlock, isServer, out var readKeys, out var writeKeys);
        read = new AeadRecordCipher(suite, readKeys.Key, readKeys.FixedIv, readKeys.MacKey);
        write = new AeadRecordCipher(suite, writeKeys.Key, writeKeys.FixedIv, writeKeys.MacKey);
    }

    /// <inheritdoc cref="RecordDirection.TryOpenInPlace(ContentType, ushort, ulong, Span{byte}, out int)"/>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, Span<byte> fragment, out int plaintextLength)
        => _direction.TryOpenInPlace(type, epoch, sequenceNumber, fragment, out plaintextLength);

    /// <inheritdoc cref="RecordDirection.Seal(ContentType, ushort, ulong, ReadOnlySpan{byte}, Span{byte})"/>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> plaintext, Span<byte> destination)
        => _direction.Seal(type, epoch, sequenceNumber, plaintext, destination);

    /// <inheritdoc cref="RecordDirection.TryOpenInPlace(ContentType, ushort, ulong, ReadOnlySpan{byte}, Span{byte}, out int)"/>
    public bool TryOpenInPlace(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, Span<byte> fragment,
        out int plaintextLength)
        => _direction.TryOpenInPlace(type, epoch, sequenceNumber, connectionId, fragment, out plaintextLength);

    /// <inheritdoc cref="RecordDirection.Seal(ContentType, ushort, ulong, ReadOnlySpan{byte}, ReadOnlySpan{byte}, Span{byte})"/>
    public int Seal(ContentType type, ushort epoch, ulong sequenceNumber, ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> plaintext,
        Span<byte> destination)
        => _direction.Seal(type, epoch, sequenceNumber, connectionId, plaintext, destination);

    /// <summary>Whether the native cipher object currently exists (false while parked).</summary>
    public bool IsActive => _direction.IsActive;

    /// <inheritdoc cref="RecordDirection.ParkIfUnused"/>
    public bool ParkIfUnused() => _direction.ParkIfUnused();

    /// <summary>Whether this direction has moved to libsodium (AES-256-GCM after 64 records).</summary>
    internal bool UsesLibsodium => _direction.UsesLibsodium;

    /// <summary>
    /// Moves this cipher's key and native objects into <paramref name="destination"/> (a record layer's inline
    /// slot); this object is left disposed, its copy of the key zeroed.
    /// </summary>
    internal void MoveTo(ref RecordDirection destination) => destination.MoveFrom(ref _direction);

    /// <summary>Releases the native cipher objects and zeroes the key.</summary>
    public void Dispose() => _direction.Dispose();
}
