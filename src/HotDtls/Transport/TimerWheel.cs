using HotDtls.Handshake;

namespace HotDtls.Transport;

/// <summary>A connection's place in a <see cref="TimerWheel"/>: allocated once per connection, linked in place.</summary>
internal sealed class TimerEntry(ServerConnection owner)
{
    public ServerConnection Owner { get; } = owner;

    /// <summary>When the entry is due (monotonic milliseconds); long.MaxValue when not scheduled.</summary>
    public long DueMs { get; internal set; } = long.MaxValue;

    public bool IsScheduled => Slot >= 0;

    internal int Slot = -1;
    internal TimerEntry? Next;
    internal TimerEntry? Previous;
}

/// <summary>
/// A hashed timer wheel (Varghese and Lauck): slots of <see cref="SlotMs"/> covering a span, each a doubly linked
/// list of entries. Scheduling and cancelling are O(1) and allocation-free; collecting what is due visits only the
/// slots that came round since the last call, and entries due in a later round stay where they are. One per receive
/// loop, used under that loop's lock: it replaces walking every handshake every tick and every session every second.
/// </summary>
internal sealed class TimerWheel
{
    public const int SlotMs = 50;
    private const int SlotCount = 4096; // ≈ 205 s per round; later entries wait for their round in their slot

    private readonly TimerEntry?[] _heads = new TimerEntry?[SlotCount];
    private long _cursor;

    public TimerWheel(long nowMs) => _cursor = nowMs / SlotMs;

    /// <summary>Entries scheduled now.</summary>
    public int Count { get; private set; }

    /// <summary>(Re)schedules <paramref name="entry"/> at <paramref name="dueMs"/>; long.MaxValue cancels it.</summary>
    public void Schedule(TimerEntry entry, long dueMs)
    {
        if (entry.IsScheduled && entry.DueMs == dueMs)
        {
            return;
        }
        Cancel(entry);
        if (dueMs == long.MaxValue)
        {
            return;
        }
        // An entry already due goes in the current slot, which the next collection visits.
        var slot = (int)(Math.Max(dueMs / SlotMs, _cursor) & (SlotCount - 1));
        entry.DueMs = dueMs;
        entry.Slot = slot;
        entry.Previous = null;
        entry.Next = _heads[slot];
        if (entry.Next is not null)
        {
            entry.Next.Previous = entry;
        }
        _heads[slot] = entry;
        Count++;
    }

    public void Cancel(TimerEntry entry)
    {
        if (!entry.IsScheduled)
        {
            return;
        }
        if (entry.Previous is null)
        {
            _heads[entry.Slot] = entry.Next;
        }
        else
        {
            entry.Previous.Next = entry.Next;
        }
        if (entry.Next is not null)
        {
            entry.Next.Previous = entry.Previous;
        }
        entry.Next = null;
        entry.Previous = null;
        entry.Slot = -1;
        entry.DueMs = long.MaxValue;
        Count--;
    }

    /// <summary>Unschedules every entry due at or before <paramref name="nowMs"/> and adds it to <paramref name="due"/>.</summary>
    public void CollectDue(long nowMs, List<TimerEntry> due)
    {
        var last = nowMs / SlotMs;
        // After a long pause every slot is visited once, not once per missed round.
        var first = Math.Max(_cursor, last - SlotCount + 1);
        for (var tick = first; tick <= last; tick++)
        {
            for (var entry = _heads[(int)(tick & (SlotCount - 1))]; entry is not null;)
            {
                var next = entry.Next;
                if (entry.DueMs <= nowMs)
                {
                    Cancel(entry);
                    due.Add(entry);
                }
                entry = next;
            }
        }
        // The current slot stays open: entries scheduled into it later in this slot's time are still found.
        _cursor = last;
    }
}
