namespace HotDtls.Transport;

/// <summary>
/// Something a <see cref="TimerWheel{T}"/> schedules: it holds its own links inline, so scheduling needs no entry
/// object (memory per session: docs/design.md).
/// </summary>
internal interface ITimerOwner<T> where T : class, ITimerOwner<T>
{
    /// <summary>The owner's place in the wheel: a field of the owner, changed only by the wheel.</summary>
    ref TimerLinks<T> TimerLinks { get; }
}

/// <summary>An owner's place in a <see cref="TimerWheel{T}"/>: its slot's list neighbours and when it is due.</summary>
internal struct TimerLinks<T> where T : class
{
    internal T? Next;
    internal T? Previous;
    // Meaningful only while scheduled.
    internal long DueAtMs;
    // The slot's index + 1, so that the default value means "not scheduled" without a constructor.
    internal int SlotPlusOne;

    public readonly bool IsScheduled => SlotPlusOne != 0;

    /// <summary>When the owner is due (monotonic milliseconds); long.MaxValue when not scheduled.</summary>
    public readonly long DueMs => IsScheduled ? DueAtMs : long.MaxValue;
}

/// <summary>
/// A hashed timer wheel (Varghese and Lauck): slots of <see cref="SlotMs"/> covering a span, each a doubly linked
/// list of owners linked through their own <see cref="TimerLinks{T}"/>. Scheduling and cancelling are O(1) and allocation-free; collecting what is due visits only the
/// slots that came round since the last call, and entries due in a later round stay where they are. One per receive
/// loop, used under that loop's lock: it replaces walking every handshake every tick and every session every second.
/// </summary>
internal sealed class TimerWheel<T> where T : class, ITimerOwner<T>
{
    public const int SlotMs = 50;
    private const int SlotCount = 4096; // ≈ 205 s per round; later entries wait for their round in their slot

    private readonly T?[] _heads = new T?[SlotCount];
    private long _cursor;

    public TimerWheel(long nowMs) => _cursor = nowMs / SlotMs;

    /// <summary>Entries scheduled now.</summary>
    public int Count { get; private set; }

    /// <summary>(Re)schedules <paramref name="owner"/> at <paramref name="dueMs"/>; long.MaxValue cancels it.</summary>
    public void Schedule(T owner, long dueMs)
    {
        ref var links = ref owner.TimerLinks;
        if (links.IsScheduled && links.DueAtMs == dueMs)
        {
            return;
        }
        Cancel(owner);
        if (dueMs == long.MaxValue)
        {
            return;
        }
        // An entry already due goes in the current slot, which the next collection visits.
        var slot = (int)(Math.Max(dueMs / SlotMs, _cursor) & (SlotCount - 1));
        links.DueAtMs = dueMs;
        links.SlotPlusOne = slot + 1;
        links.Previous = null;
        links.Next = _heads[slot];
        if (links.Next is { } next)
        {
            next.TimerLinks.Previous = owner;
        }
        _heads[slot] = owner;
        Count++;
    }

    public void Cancel(T owner)
    {
        ref var links = ref owner.TimerLinks;
        if (!links.IsScheduled)
        {
            return;
        }
        if (links.Previous is { } previous)
        {
            previous.TimerLinks.Next = links.Next;
        }
        else
        {
            _heads[links.SlotPlusOne - 1] = links.Next;
        }
        if (links.Next is { } next)
        {
            next.TimerLinks.Previous = links.Previous;
        }
        links = default;
        Count--;
    }

    /// <summary>Unschedules every owner due at or before <paramref name="nowMs"/> and adds it to <paramref name="due"/>.</summary>
    public void CollectDue(long nowMs, List<T> due)
    {
        var last = nowMs / SlotMs;
        // After a long pause every slot is visited once, not once per missed round.
        var first = Math.Max(_cursor, last - SlotCount + 1);
        for (var tick = first; tick <= last; tick++)
        {
            for (var owner = _heads[(int)(tick & (SlotCount - 1))]; owner is not null;)
            {
                var next = owner.TimerLinks.Next;
                if (owner.TimerLinks.DueAtMs <= nowMs)
                {
                    Cancel(owner);
                    due.Add(owner);
                }
                owner = next;
            }
        }
        // The current slot stays open: entries scheduled into it later in this slot's time are still found.
        _cursor = last;
    }
}
