using System.Buffers;
using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>
/// The handshake messages that enter the Finished hash (RFC 5246 §7.4.9) and the extended master
/// secret's session_hash (RFC 7627 §3), kept as raw bytes because the hash is chosen by the cipher suite,
/// which is known only after ServerHello.
/// </summary>
/// <remarks>
/// Each message is appended as DTLS sends it whole (RFC 6347 §4.2.6): the 12-byte handshake header
/// with message_seq, fragment_offset = 0 and fragment_length = length, then the body.
/// <code>
///   struct {
///       HandshakeType msg_type;       // 1
///       uint24 length;                // 3
///       uint16 message_seq;           // 2
///       uint24 fragment_offset;       // 3, 0 here
///       uint24 fragment_length;       // 3, = length here
///       select (HandshakeType) { ... } body;
///   } Handshake;
/// </code>
/// The ClientHello answered with HelloVerifyRequest and the HelloVerifyRequest itself are left out
/// (RFC 6347 §4.2.1); the caller decides what to append, in order. Retransmitted messages must be
/// appended only once.
/// </remarks>
internal sealed class HandshakeTranscript : IDisposable
{
    /// <summary>
    /// A peer chooses how large its messages are; a PSK handshake is well under 2 KiB, so 64 KiB in total
    /// is generous and still bounds what one half-open handshake can make us hold.
    /// </summary>
    public const int MaxLength = 64 * 1024;

    private const int InitialCapacity = 1024;

    private byte[]? _buffer;
    private int _length;

    /// <summary>Bytes appended since construction or the last <see cref="Reset"/>.</summary>
    public int Length => _length;

    /// <summary>
    /// Appends one whole handshake message; false, with nothing appended, if the total would exceed
    /// <see cref="MaxLength"/> (the caller fails the handshake).
    /// </summary>
    public bool TryAppend(ReadOnlySpan<byte> message)
    {
        if (message.Length > MaxLength - _length)
        {
            return false;
        }

        int needed = _length + message.Length;
        if (_buffer is null || _buffer.Length < needed)
        {
            Grow(needed);
        }

        message.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
        return true;
    }

    /// <summary>Forgets the messages (zeroed) but keeps the buffer, e.g. after a HelloVerifyRequest exchange.</summary>
    public void Reset() => Wipe();

    /// <summary>Zeroes the messages and forgets them, keeping the buffer: a reused handshake context holds nothing of its last peer.</summary>
    public void Wipe()
    {
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _length).Clear();
        }
        _length = 0;
    }

    /// <summary>
    /// Writes Hash(handshake_messages) over everything appended so far and returns the hash length.
    /// The transcript stays usable: later messages extend it.
    /// </summary>
    public int GetHash(HashAlgorithmName hash, Span<byte> destination)
    {
        ReadOnlySpan<byte> messages = _buffer.AsSpan(0, _length);
        if (hash == HashAlgorithmName.SHA256)
        {
            return SHA256.HashData(messages, destination);
        }

        if (hash == HashAlgorithmName.SHA384)
        {
            return SHA384.HashData(messages, destination);
        }

        CryptoThrowHelper.ThrowUnsupportedHash(nameof(hash));
        return 0;
    }

    /// <summary>Returns the buffer to the pool, zeroed. The instance may be reused afterwards; it starts empty.</summary>
    public void Dispose()
    {
        byte[]? buffer = _buffer;
        _buffer = null;
        _length = 0;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    [System.Diagnostics.CodeAnalysis.MemberNotNull(nameof(_buffer))]
    private void Grow(int needed)
    {
        int capacity = Math.Max(needed, Math.Max(InitialCapacity, (_buffer?.Length ?? 0) * 2));
        capacity = Math.Min(capacity, MaxLength);
        byte[] larger = ArrayPool<byte>.Shared.Rent(capacity);
        // A pooled array holds whatever its last user left (another peer's handshake, perhaps): zeroed here, so the
        // buffer only ever holds what this transcript wrote, and Wipe leaves nothing of anyone.
        larger.AsSpan(_length).Clear();
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer, clearArray: true);
        }

        _buffer = larger;
    }
}
