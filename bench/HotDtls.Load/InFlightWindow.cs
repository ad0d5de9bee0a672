using System.Buffers.Binary;
using System.Numerics;

namespace HotDtls.Load;

/// <summary>
/// The datagrams one session has sent and not yet seen answered: a ring of slots in send order, each with its
/// sequence number (carried in the payload) and send time. Pure logic, no I/O and no clock of its own.
/// </summary>
/// <remarks>
/// <code>
///   headSeq                           nextSeq
///     v                                 v
///   | sent | answered | sent | sent | (free) ... |   capacity = a power of two ≥ the window
/// </code>
/// A reply carrying a sequence number in [headSeq, nextSeq) answers that slot exactly. A reply without one (a server
/// that answers something other than an echo, such as `hotdtls serve`'s "ACK") answers the oldest open slot: on a
/// path that keeps order this is the right one, and a late reply after a timeout mismatches by one at worst. The head
/// moves past answered and timed-out slots, so the oldest open slot is always the head.
/// </remarks>
internal sealed class InFlightWindow
{
    private readonly long[] _sentAt;
    private readonly bool[] _open;
    private readonly int _mask;
    private uint _headSeq;
    private uint _nextSeq;

    public InFlightWindow(int capacity)
    {
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(2, capacity));
        _sentAt = new long[size];
        _open = new bool[size];
        _mask = size - 1;
    }

    /// <summary>Slots the ring can hold, answered or not, before the oldest must be answered or time out.</summary>
    public int Capacity => _sentAt.Length;

    /// <summary>Datagrams sent and neither answered nor timed out.</summary>
    public int Outstanding { get; private set; }

    /// <summary>The sequence number the next <see cref="TrySend"/> hands out.</summary>
    public uint NextSequence => _nextSeq;

    /// <summary>Whether another datagram fits in the ring (the window limit itself is the caller's).</summary>
    public bool HasRoom => _nextSeq - _headSeq < (uint)_sentAt.Length;

    /// <summary>Takes a slot for a datagram sent at <paramref name="now"/>; false when the ring is full.</summary>
    public bool TrySend(long now, out uint sequence)
    {
        sequence = _nextSeq;
        if (!HasRoom)
        {
            return false;
        }
        var index = (int)(_nextSeq & (uint)_mask);
        _sentAt[index] = now;
        _open[index] = true;
        _nextSeq++;
        Outstanding++;
        return true;
    }

    /// <summary>
    /// A reply that names its datagram. True with the send time when <paramref name="sequence"/> is open; false for
    /// a duplicate, a reply that came after its timeout, or a number never sent.
    /// </summary>
    public bool TryAnswer(uint sequence, out long sentAt)
    {
        sentAt = 0;
        if (sequence - _headSeq >= _nextSeq - _headSeq)
        {
            return false;
        }
        var index = (int)(sequence & (uint)_mask);
        if (!_open[index])
        {
            return false;
        }
        _open[index] = false;
        sentAt = _sentAt[index];
        Outstanding--;
        AdvanceHead();
        return true;
    }

    /// <summary>
    /// Answers the datagram a reply echoes: by the sequence number after <paramref name="magic"/> when the payload
    /// carries one, else the oldest outstanding (a server that does not echo the payload verbatim).
    /// </summary>
    public bool TryAnswerReply(ReadOnlySpan<byte> payload, uint magic, out long sentAt)
        => payload.Length >= 8 && BinaryPrimitives.ReadUInt32BigEndian(payload) == magic
            ? TryAnswer(BinaryPrimitives.ReadUInt32BigEndian(payload[4..]), out sentAt)
            : TryAnswerOldest(out sentAt);

    /// <summary>A reply that names nothing answers the oldest open datagram. False when none is open.</summary>
    public bool TryAnswerOldest(out long sentAt)
    {
        if (Outstanding == 0)
        {
            sentAt = 0;
            return false;
        }
        return TryAnswer(_headSeq, out sentAt);
    }

    /// <summary>
    /// Gives up on every open datagram sent at or before <paramref name="sentBefore"/> (now minus the timeout) and
    /// returns how many; <paramref name="countFrom"/> lets the caller count only those sent after warm-up.
    /// </summary>
    public int Expire(long sentBefore, long countFrom, out int expiredTotal)
    {
        var counted = 0;
        expiredTotal = 0;
        while (_headSeq != _nextSeq)
        {
            var index = (int)(_headSeq & (uint)_mask);
            if (_open[index])
            {
                if (_sentAt[index] > sentBefore)
                {
                    break;
                }
                _open[index] = false;
                Outstanding--;
                expiredTotal++;
                if (_sentAt[index] >= countFrom)
                {
                    counted++;
                }
            }
            _headSeq++;
        }
        return counted;
    }

    /// <summary>When the oldest open datagram times out, given the timeout; <see cref="long.MaxValue"/> if none is open.</summary>
    public long OldestSentAt => Outstanding == 0 ? long.MaxValue : _sentAt[(int)(_headSeq & (uint)_mask)];

    private void AdvanceHead()
    {
        while (_headSeq != _nextSeq && !_open[(int)(_headSeq & (uint)_mask)])
        {
            _headSeq++;
        }
    }
}
