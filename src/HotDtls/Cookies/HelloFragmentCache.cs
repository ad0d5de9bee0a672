using System.Net;
using HotDtls.Handshake;

namespace HotDtls.Cookies;

/// <summary>
/// Reassembles ClientHellos that arrive in fragments before their cookie can be checked (RFC 6347 §4.2.3 lets a
/// client fragment any handshake message, and the cookie binds fields on both sides of it, so only a whole hello
/// can be judged). This is the only thing the server holds for a peer before the cookie, so it is bounded as a
/// whole, not per peer: a fixed number of slots of a fixed size, the least recently used reused first, and
/// nothing is ever sent from here. A flood can only evict other partial hellos, never grow memory.
/// </summary>
/// <remarks>
/// A first fragment that shows no cookie, or one that cannot be ours, is dropped by the engine and never reaches
/// this cache (HOSTILE 18).
/// </remarks>
internal sealed class HelloFragmentCache : IDisposable
{
    /// <summary>Partial hellos kept at once, across all peers.</summary>
    public const int DefaultCapacity = 64;

    /// <summary>Largest fragmented ClientHello reassembled; a PSK ClientHello is a few hundred bytes.</summary>
    public const int MaxHelloLength = 2048;

    private readonly Slot[] _slots;

    public HelloFragmentCache(int capacity = DefaultCapacity)
    {
        _slots = new Slot[capacity];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i] = new Slot();
        }
    }

    /// <summary>Partial hellos held now.</summary>
    public int Count
    {
        get
        {
            var count = 0;
            foreach (var slot in _slots)
            {
                count += slot.InUse ? 1 : 0;
            }
            return count;
        }
    }

    /// <summary>Adds a ClientHello fragment from <paramref name="from"/>. When the hello is complete, returns its body.</summary>
    /// <returns>
    /// <see cref="FragmentStatus.Complete"/> with <paramref name="body"/> valid until <see cref="Release"/>;
    /// <see cref="FragmentStatus.Buffered"/>; or <see cref="FragmentStatus.Rejected"/> (malformed or too large).
    /// </returns>
    public FragmentStatus Add(SocketAddress from, scoped in HandshakeHeader header, ReadOnlySpan<byte> fragment, long nowMs,
        out ReadOnlySpan<byte> body)
    {
        body = default;
        // An empty fragment of a non-empty hello carries nothing worth a slot (CVE-2022-29190 style floods).
        if (header.Length > MaxHelloLength || header.MsgType != HandshakeType.ClientHello
            || (fragment.IsEmpty && header.Length > 0))
        {
            return FragmentStatus.Rejected;
        }
        var slot = Find(from);
        if (slot is not null && slot.Sequence != header.MessageSeq)
        {
            // A newer (or older) hello from the same peer replaces the partial one.
            slot.Clear();
            slot = null;
        }
        if (slot is null)
        {
            slot = Oldest();
            slot.Take(from, header.MessageSeq);
        }
        slot.LastUsedMs = nowMs;
        var status = slot.Reassembler.Add(header, fragment);
        if (status == FragmentStatus.Complete && slot.Reassembler.TryGetNext(out _, out body))
        {
            return FragmentStatus.Complete;
        }
        if (slot.Reassembler.BufferedBytes == 0)
        {
            slot.Clear();
        }
        return status == FragmentStatus.Old ? FragmentStatus.Rejected : status;
    }

    /// <summary>Forgets the partial hello of <paramref name="from"/>, if any.</summary>
    public void Release(SocketAddress from) => Find(from)?.Clear();

    /// <summary>Drops partial hellos untouched for <paramref name="maxAgeMs"/> (a client that gave up).</summary>
    public void Expire(long nowMs, long maxAgeMs)
    {
        foreach (var slot in _slots)
        {
            if (slot.InUse && nowMs - slot.LastUsedMs >= maxAgeMs)
            {
                slot.Clear();
            }
        }
    }

    private Slot? Find(SocketAddress from)
    {
        foreach (var slot in _slots)
        {
            if (slot.InUse && slot.Peer.Equals(from))
            {
                return slot;
            }
        }
        return null;
    }

    private Slot Oldest()
    {
        Slot oldest = _slots[0];
        foreach (var slot in _slots)
        {
            if (!slot.InUse)
            {
                return slot;
            }
            if (slot.LastUsedMs < oldest.LastUsedMs)
            {
                oldest = slot;
            }
        }
        oldest.Clear();
        return oldest;
    }

    public void Dispose()
    {
        foreach (var slot in _slots)
        {
            slot.Clear();
        }
    }

    private sealed class Slot
    {
        // Created when the slot is first taken and kept: a stranger's fragment allocates at most once per slot, never
        // from the shared pool, so the cache's memory is capacity × (MaxHelloLength + bitmap) at most.
        private HandshakeReassembler? _reassembler;

        public HandshakeReassembler Reassembler => _reassembler ??= HandshakeReassembler.WithOwnedBuffer(MaxHelloLength);
        // Sized for IPv6 (28 bytes); reused, so taking a slot allocates nothing.
        public SocketAddress Peer { get; private set; } = new(System.Net.Sockets.AddressFamily.InterNetworkV6);
        public bool InUse { get; private set; }
        public ushort Sequence { get; private set; }
        public long LastUsedMs { get; set; }

        public void Take(SocketAddress from, ushort sequence)
        {
            if (Peer.Family != from.Family || Peer.Size != from.Size)
            {
                Peer = new SocketAddress(from.Family, from.Size);
            }
            from.Buffer.Span[..from.Size].CopyTo(Peer.Buffer.Span);
            Sequence = sequence;
            Reassembler.NextSequence = sequence;
            InUse = true;
        }

        public void Clear()
        {
            _reassembler?.Clear();
            InUse = false;
        }
    }
}
