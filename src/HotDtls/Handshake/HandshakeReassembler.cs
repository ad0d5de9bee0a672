using System.Buffers;
using System.Diagnostics;

namespace HotDtls.Handshake;

/// <summary>What <see cref="HandshakeReassembler.Add"/> did with a fragment.</summary>
internal enum FragmentStatus
{
    /// <summary>Malformed, inconsistent with earlier fragments, or over a cap: drop it, nothing was stored.</summary>
    Rejected,

    /// <summary>message_seq is below <see cref="HandshakeReassembler.NextSequence"/>: the caller decides whether it is a retransmission (HOSTILE 17).</summary>
    Old,

    /// <summary>Stored (or a harmless no-op); the message at NextSequence is not complete yet.</summary>
    Buffered,

    /// <summary>The message at NextSequence is complete and can be taken with <see cref="HandshakeReassembler.TryGetNext(out HandshakeType, out ReadOnlySpan{byte})"/>.</summary>
    Complete,
}

/// <summary>
/// Per-peer reassembly of handshake fragments, RFC 6347 §4.2.3:
/// <code>
///   message_seq:  NextSequence  NextSequence+1 ... NextSequence+maxLookahead-1 | beyond: Rejected
///                 [slot]        [slot]             [slot]                      | below:  Old
///
///   slot:  pooled (or owned) byte[] = | message body (Length bytes) | coverage bitmap ((Length+7)/8 bytes) |
/// </code>
/// "When a DTLS implementation receives a handshake message fragment, it MUST buffer it until it has the
/// entire handshake message. DTLS implementations MUST be able to handle overlapping fragment ranges."
/// Fragments may arrive in any order, overlap and repeat; a bit per body byte records which bytes have
/// arrived, so the work per fragment is proportional to its length and a message completes exactly when
/// every byte is covered, however it was cut.
/// <para>
/// Caps a peer cannot get around (HOSTILE 11–16): a message longer than maxMessageLength is refused from
/// its header alone, before any buffer is rented (CVE-2014-3506); only maxLookahead messages ahead of
/// NextSequence are kept (CVE-2022-29189); the declared lengths of all buffered messages stay within
/// maxBufferedBytes; a zero-length fragment never creates state (CVE-2022-29190). Buffers are rented only
/// after these checks, sized from the declared length, and returned by Advance, Clear and Dispose
/// (CVE-2016-2179). Not thread-safe: one instance belongs to one peer's handshake.
/// </para>
/// <para>
/// <see cref="WithOwnedBuffer"/> makes one that holds a single message in a buffer of its own instead of the shared
/// pool, for the ClientHello fragment cache, where a stranger's fragment must not be able to make the pool allocate.
/// </para>
/// </summary>
internal sealed class HandshakeReassembler : IDisposable
{
    /// <summary>Largest handshake message body accepted. A PSK handshake's largest message is a ClientHello of a few hundred bytes.</summary>
    public const int DefaultMaxMessageLength = 8192;

    /// <summary>Sum of the declared lengths of all messages buffered for one peer.</summary>
    public const int DefaultMaxBufferedBytes = 16384;

    /// <summary>How many message_seq values, starting at NextSequence, may be buffered: a whole flight fits.</summary>
    public const int DefaultMaxLookahead = 4;

    /// <summary>Upper bound on maxLookahead; the slots are scanned linearly.</summary>
    public const int MaxLookaheadLimit = 64;

    private readonly Slot[] _slots;
    private readonly byte[]? _ownedBuffer;
    private readonly int _maxMessageLength;
    private readonly int _maxBufferedBytes;
    private ushort _nextSequence;
    private int _bufferedBytes;

    public HandshakeReassembler(
        int maxMessageLength = DefaultMaxMessageLength,
        int maxBufferedBytes = DefaultMaxBufferedBytes,
        int maxLookahead = DefaultMaxLookahead)
        : this(maxMessageLength, maxBufferedBytes, maxLookahead, ownsBuffer: false)
    {
    }

    private HandshakeReassembler(int maxMessageLength, int maxBufferedBytes, int maxLookahead, bool ownsBuffer)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxMessageLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxMessageLength, HandshakeHeader.MaxUInt24);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBufferedBytes);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLookahead, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxLookahead, MaxLookaheadLimit);
        _maxMessageLength = maxMessageLength;
        _maxBufferedBytes = maxBufferedBytes;
        _slots = new Slot[maxLookahead];
        if (ownsBuffer)
        {
            _ownedBuffer = GC.AllocateUninitializedArray<byte>(maxMessageLength + BitmapLength(maxMessageLength));
        }
    }

    /// <summary>
    /// A reassembler for one message at a time that owns a buffer for the largest one, allocated here, and never
    /// touches the shared pool. The ClientHello fragment cache holds these for peers that have proved nothing yet, so
    /// a stranger's fragment costs no allocation at all: a pool rent allocates whenever its bucket is empty or has
    /// been trimmed.
    /// </summary>
    public static HandshakeReassembler WithOwnedBuffer(int maxMessageLength) =>
        new(maxMessageLength, maxMessageLength, maxLookahead: 1, ownsBuffer: true);

    /// <summary>
    /// The message_seq expected next. Setting it releases every buffered message outside the new window,
    /// so moving the window never leaves a buffer that no sequence can reach.
    /// </summary>
    public ushort NextSequence
    {
        get => _nextSequence;
        set
        {
            _nextSequence = value;
            for (int i = 0; i < _slots.Length; i++)
            {
                if (_slots[i].InUse && !InWindow(_slots[i].Sequence))
                {
                    Release(ref _slots[i]);
                }
            }
        }
    }

    /// <summary>Sum of the declared lengths of buffered messages (the coverage bitmaps add at most an eighth on top).</summary>
    public int BufferedBytes => _bufferedBytes;

    /// <summary>
    /// Buffers one fragment that arrived in a record of <paramref name="epoch"/>. Every fragment of one message must
    /// come in the same epoch: the epoch is part of what the handshake table checks when the message is complete.
    /// </summary>
    public FragmentStatus Add(in HandshakeHeader header, ReadOnlySpan<byte> fragment, ushort epoch = 0)
    {
        int length = header.Length;
        int offset = header.FragmentOffset;

        // All three fields are uint24, so the sum cannot overflow an int (CVE-2014-0195: offset + length
        // past the message end wrote past the buffer).
        if (fragment.Length != header.FragmentLength
            || offset + fragment.Length > length
            || length > _maxMessageLength)
        {
            return FragmentStatus.Rejected;
        }

        int sequence = header.MessageSeq;
        if (sequence < _nextSequence)
        {
            return FragmentStatus.Old;
        }

        if (sequence - _nextSequence >= _slots.Length)
        {
            return FragmentStatus.Rejected;
        }

        ref Slot slot = ref _slots[sequence % _slots.Length];
        if (slot.InUse)
        {
            Debug.Assert(slot.Sequence == sequence, "Each in-window sequence has its own slot.");

            // RFC 6347 §4.2.3: fragments of one message carry the same type and length; a peer that
            // changes them mid-message is broken or hostile, and either way we cannot know which to keep.
            // A message whose fragments come in two epochs mixes clear and protected bytes: refused the same way.
            if (slot.Type != header.MsgType || slot.Length != length || slot.Epoch != epoch)
            {
                return FragmentStatus.Rejected;
            }

            if (!slot.IsComplete && !fragment.IsEmpty)
            {
                Merge(ref slot, offset, fragment);
            }
        }
        else if (!fragment.IsEmpty || length == 0)
        {
            // A zero-length fragment of a non-empty message carries nothing: it creates no slot, so a
            // flood of them costs neither memory nor a buffer (CVE-2022-29190).
            if (length > _maxBufferedBytes - _bufferedBytes)
            {
                return FragmentStatus.Rejected;
            }

            Start(ref slot, header, fragment, epoch);
        }

        return IsNextComplete() ? FragmentStatus.Complete : FragmentStatus.Buffered;
    }

    /// <summary>
    /// The complete message at <see cref="NextSequence"/>, if any. The body is a view of a pooled (or owned) buffer,
    /// valid until the next <see cref="Add"/>, <see cref="Advance"/>, <see cref="Clear"/> or setting NextSequence.
    /// </summary>
    public bool TryGetNext(out HandshakeType type, out ReadOnlySpan<byte> body) => TryGetNext(out type, out _, out body);

    /// <summary>As <see cref="TryGetNext(out HandshakeType, out ReadOnlySpan{byte})"/>, with the epoch its records came in.</summary>
    public bool TryGetNext(out HandshakeType type, out ushort epoch, out ReadOnlySpan<byte> body)
    {
        if (!IsNextComplete())
        {
            type = default;
            epoch = 0;
            body = default;
            return false;
        }

        ref Slot slot = ref _slots[_nextSequence % _slots.Length];
        type = slot.Type;
        epoch = slot.Epoch;
        body = slot.Buffer is null ? default : slot.Buffer.AsSpan(0, slot.Length);
        return true;
    }

    /// <summary>
    /// Releases the message at NextSequence without moving on: it was refused (arrived in the wrong epoch), and the
    /// genuine message of that sequence may still come.
    /// </summary>
    public void DiscardNext()
    {
        ref Slot slot = ref _slots[_nextSequence % _slots.Length];
        if (slot.InUse)
        {
            Release(ref slot);
        }
    }

    /// <summary>Releases the message at NextSequence (complete or not) and moves on to the next one.</summary>
    public void Advance()
    {
        ref Slot slot = ref _slots[_nextSequence % _slots.Length];
        if (slot.InUse)
        {
            Release(ref slot);
        }

        _nextSequence++;
    }

    /// <summary>Returns every buffer to the pool; NextSequence is unchanged (HOSTILE 16).</summary>
    public void Clear()
    {
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i].InUse)
            {
                Release(ref _slots[i]);
            }
        }

        Debug.Assert(_bufferedBytes == 0, "Every buffered byte belongs to a slot.");
    }

    /// <summary>Returns every buffer and starts again at message_seq 0: the reassembler of a reused handshake context.</summary>
    public void Reset()
    {
        Clear();
        _nextSequence = 0;
    }

    public void Dispose() => Clear();

    private bool InWindow(ushort sequence) => sequence >= _nextSequence && sequence - _nextSequence < _slots.Length;

    private bool IsNextComplete()
    {
        ref Slot slot = ref _slots[_nextSequence % _slots.Length];
        return slot.InUse && slot.Sequence == _nextSequence && slot.IsComplete;
    }

    private void Start(ref Slot slot, in HandshakeHeader header, ReadOnlySpan<byte> fragment, ushort epoch)
    {
        int length = header.Length;
        slot.InUse = true;
        slot.Epoch = epoch;
        slot.Sequence = header.MessageSeq;
        slot.Type = header.MsgType;
        slot.Length = length;
        slot.Covered = 0;
        slot.Buffer = null;
        _bufferedBytes += length;
        if (length == 0)
        {
            return;
        }

        // The common case, an unfragmented message, needs no bitmap: it is complete on arrival.
        if (fragment.Length == length)
        {
            slot.Buffer = RentBuffer(length);
            fragment.CopyTo(slot.Buffer);
            slot.Covered = length;
            return;
        }

        int bitmapLength = BitmapLength(length);
        slot.Buffer = RentBuffer(length + bitmapLength);
        slot.Buffer.AsSpan(length, bitmapLength).Clear();
        Merge(ref slot, header.FragmentOffset, fragment);
    }

    private static void Merge(ref Slot slot, int offset, ReadOnlySpan<byte> fragment)
    {
        Debug.Assert(slot.Buffer is not null && !slot.IsComplete, "Only an incomplete, non-empty message has a bitmap.");
        byte[] buffer = slot.Buffer;

        // Overlapping bytes are simply written again: the transcript hash and Finished will catch a peer
        // that sends different bytes for the same range.
        fragment.CopyTo(buffer.AsSpan(offset));
        Span<byte> bitmap = buffer.AsSpan(slot.Length, BitmapLength(slot.Length));
        int added = 0;
        int end = offset + fragment.Length;
        for (int i = offset; i < end; i++)
        {
            int mask = 1 << (i & 7);
            ref byte bits = ref bitmap[i >> 3];
            if ((bits & mask) == 0)
            {
                bits |= (byte)mask;
                added++;
            }
        }

        slot.Covered += added;
    }

    // With one slot and buffered bytes capped at the message length, the owned buffer is never needed twice at once.
    private byte[] RentBuffer(int length) => _ownedBuffer ?? ArrayPool<byte>.Shared.Rent(length);

    private void Release(ref Slot slot)
    {
        if (slot.Buffer is not null && !ReferenceEquals(slot.Buffer, _ownedBuffer))
        {
            ArrayPool<byte>.Shared.Return(slot.Buffer);
        }

        _bufferedBytes -= slot.Length;
        slot = default;
    }

    private static int BitmapLength(int length) => (length + 7) >> 3;

    private struct Slot
    {
        public bool InUse;
        public ushort Sequence;
        public HandshakeType Type;
        public ushort Epoch;
        public int Length;

        /// <summary>Distinct body bytes received so far; the message is complete when it reaches Length.</summary>
        public int Covered;

        public byte[]? Buffer;

        public readonly bool IsComplete => Covered == Length;
    }
}
