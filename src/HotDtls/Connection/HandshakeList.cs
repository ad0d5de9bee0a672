namespace HotDtls.Connection;

/// <summary>
/// A server engine's handshakes in progress, oldest first: the state a flood can create, and so what is evicted
/// first (HOSTILE 26). Intrusive through <see cref="HandshakeContext"/>'s links, so joining and leaving allocate
/// nothing; a context leaves the list when its connection releases it (established, closed or evicted).
/// Not thread-safe: its engine serialises calls.
/// </summary>
internal sealed class HandshakeList
{
    private HandshakeContext? _first;
    private HandshakeContext? _last;

    public int Count { get; private set; }

    /// <summary>The oldest handshake in progress, or null.</summary>
    public HandshakeContext? First => _first;

    /// <summary>Appends <paramref name="context"/>, whose connection is <paramref name="owner"/>.</summary>
    public void AddLast(HandshakeContext context, ServerConnection owner)
    {
        if (context.List is not null)
        {
            throw new InvalidOperationException("The handshake is already in a list.");
        }
        context.List = this;
        context.Owner = owner;
        context.Previous = _last;
        context.Next = null;
        if (_last is null)
        {
            _first = context;
        }
        else
        {
            _last.Next = context;
        }
        _last = context;
        Count++;
    }

    /// <summary>Unlinks <paramref name="context"/> if it is in this list.</summary>
    public void Remove(HandshakeContext context)
    {
        if (context.List != this)
        {
            return;
        }
        if (context.Previous is null)
        {
            _first = context.Next;
        }
        else
        {
            context.Previous.Next = context.Next;
        }
        if (context.Next is null)
        {
            _last = context.Previous;
        }
        else
        {
            context.Next.Previous = context.Previous;
        }
        context.Previous = null;
        context.Next = null;
        context.List = null;
        context.Owner = null;
        Count--;
    }
}
