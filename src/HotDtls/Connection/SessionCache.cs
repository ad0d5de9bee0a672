using System.Buffers.Binary;
using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Connection;

/// <summary>
/// The server's session-ID cache (RFC 5246 §7.4.1.2, §7.3 "the abbreviated handshake"): session_id → what a resumed
/// session keeps — suite, extended-master-secret flag, master secret, PSK identity and when it was made. One cache is
/// shared by every receive loop of a server, so a client resumes whichever loop the kernel hands its new port to.
/// </summary>
/// <remarks>
/// Bounded (<see cref="DtlsServerOptions.MaxCachedSessions"/>): when full, the OLDEST entry goes first. Every entry
/// lives at most <see cref="DtlsServerOptions.SessionLifetime"/> from the full handshake that made it (RFC 5246
/// §7.4.1.2 suggests at most 24 hours); resuming does not extend it. Entries are kept in insertion order, which is
/// also expiry order, so eviction and expiry both take from the front. A master secret is zeroed whenever its entry
/// leaves, and the cache never hands one out: <see cref="TryGet"/> copies it into the caller's buffer under the lock.
/// Thread-safe: each loop calls it under its own engine lock, so it takes its own.
/// </remarks>
internal sealed class SessionCache : IDisposable
{
    /// <summary>Length of the session_ids HotDtls issues (the most RFC 5246 allows).</summary>
    public const int SessionIdLength = 32;

    private const int InitialSlots = 256;

    private readonly Lock _lock = new();
    // session_id → slot. The slots form a ring in insertion order (which, with one lifetime for all, is also expiry
    // order): the oldest at _head, new ones after the last. A slot removed out of order is marked free and skipped when
    // the ring reaches it. No object is made per entry — a full cache churning through a burst of handshakes leaves no
    // garbage — and the master secrets sit in one array, 48 bytes a slot.
    private readonly Dictionary<Key, int> _index;
    private Slot[] _slots = new Slot[InitialSlots];
    private byte[] _secrets = new byte[InitialSlots * KeySchedule.MasterSecretLength];
    private int _head;
    private int _used;
    private readonly int _capacity;
    private readonly long _lifetimeMs;
    private bool _disposed;

    public SessionCache(int capacity, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        _capacity = capacity;
        _lifetimeMs = (long)lifetime.TotalMilliseconds;
        _index = new Dictionary<Key, int>(Math.Min(capacity, 1024));
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _index.Count;
            }
        }
    }

    public long Evicted { get; private set; }

    /// <summary>
    /// Keeps a session. <paramref name="pskIdentity"/> is kept by reference (an identity is not secret and the
    /// caller never writes it after the handshake); the master secret is copied.
    /// </summary>
    public void Add(ReadOnlySpan<byte> sessionId, CipherSuite suite, bool extendedMasterSecret, ReadOnlySpan<byte> masterSecret,
        byte[] pskIdentity, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(pskIdentity);
        if (sessionId.Length != SessionIdLength || masterSecret.Length != KeySchedule.MasterSecretLength)
        {
            throw new ArgumentException("A cached session needs a 32-byte session_id and a 48-byte master secret.");
        }
        var key = Key.From(sessionId);
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            ExpireLocked(nowMs);
            if (_index.Remove(key, out var existing))
            {
                Free(existing);
            }
            while (_index.Count >= _capacity)
            {
                EvictOldest();
            }
            if (_used == _slots.Length)
            {
                Grow();
            }
            var slot = (_head + _used) % _slots.Length;
            _used++;
            _slots[slot] = new Slot(key, suite, extendedMasterSecret, pskIdentity, nowMs);
            masterSecret.CopyTo(Secret(slot));
            _index.Add(key, slot);
        }
    }

    /// <summary>
    /// Looks up <paramref name="sessionId"/>; on a hit copies the master secret into <paramref name="masterSecret"/>
    /// (48 bytes) and returns the rest. An expired entry is removed and missed.
    /// </summary>
    public bool TryGet(ReadOnlySpan<byte> sessionId, long nowMs, Span<byte> masterSecret, out CachedSession session)
    {
        session = default;
        if (sessionId.Length != SessionIdLength)
        {
            return false;
        }
        var key = Key.From(sessionId);
        lock (_lock)
        {
            if (!_index.TryGetValue(key, out var slot))
            {
                return false;
            }
            ref readonly var entry = ref _slots[slot];
            if (nowMs - entry.CreatedMs >= _lifetimeMs)
            {
                _index.Remove(key);
                Free(slot);
                return false;
            }
            Secret(slot).CopyTo(masterSecret);
            session = new CachedSession(entry.Suite, entry.ExtendedMasterSecret, entry.PskIdentity!);
            return true;
        }
    }

    /// <summary>Forgets <paramref name="sessionId"/> (RFC 5246 §7.2.2: a fatal alert invalidates the session).</summary>
    public void Remove(ReadOnlySpan<byte> sessionId)
    {
        if (sessionId.Length != SessionIdLength)
        {
            return;
        }
        lock (_lock)
        {
            if (_index.Remove(Key.From(sessionId), out var slot))
            {
                Free(slot);
            }
        }
    }

    /// <summary>Removes expired entries (the receive loops call it on their ticks).</summary>
    public void Expire(long nowMs)
    {
        lock (_lock)
        {
            ExpireLocked(nowMs);
        }
    }

    private void ExpireLocked(long nowMs)
    {
        while (_used > 0)
        {
            ref readonly var oldest = ref _slots[_head];
            if (oldest.InUse && nowMs - oldest.CreatedMs < _lifetimeMs)
            {
                return;
            }
            if (oldest.InUse)
            {
                _index.Remove(oldest.Id);
                Free(_head);
            }
            AdvanceHead();
        }
    }

    /// <summary>The oldest entry in use leaves (freed slots before it are skipped).</summary>
    private void EvictOldest()
    {
        while (_used > 0)
        {
            var inUse = _slots[_head].InUse;
            if (inUse)
            {
                _index.Remove(_slots[_head].Id);
                Free(_head);
                Evicted++;
            }
            AdvanceHead();
            if (inUse)
            {
                return;
            }
        }
    }

    private void AdvanceHead()
    {
        _head = (_head + 1) % _slots.Length;
        _used--;
    }

    /// <summary>Zeroes a slot's master secret and drops its identity; the ring passes over it later.</summary>
    private void Free(int slot)
    {
        CryptographicOperations.ZeroMemory(Secret(slot));
        _slots[slot] = default;
    }

    /// <summary>Doubles the ring (up to the capacity), unrolling it so the oldest entry is at 0 again.</summary>
    private void Grow()
    {
        var length = (int)Math.Min(_capacity, 2L * _slots.Length);
        length = Math.Max(length, _slots.Length + 1);
        var slots = new Slot[length];
        var secrets = new byte[length * KeySchedule.MasterSecretLength];
        for (var i = 0; i < _used; i++)
        {
            var from = (_head + i) % _slots.Length;
            slots[i] = _slots[from];
            Secret(from).CopyTo(secrets.AsSpan(i * KeySchedule.MasterSecretLength, KeySchedule.MasterSecretLength));
            if (slots[i].InUse)
            {
                _index[slots[i].Id] = i;
            }
        }
        CryptographicOperations.ZeroMemory(_secrets);
        _slots = slots;
        _secrets = secrets;
        _head = 0;
    }

    private Span<byte> Secret(int slot) => _secrets.AsSpan(slot * KeySchedule.MasterSecretLength, KeySchedule.MasterSecretLength);

    /// <summary>Zeroes every master secret and forgets everything.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            CryptographicOperations.ZeroMemory(_secrets);
            Array.Clear(_slots);
            _index.Clear();
            _used = 0;
            _head = 0;
        }
    }

    /// <summary>A 32-byte session_id as a dictionary key (server-made random bytes: no hash flooding to fear).</summary>
    private readonly record struct Key(ulong A, ulong B, ulong C, ulong D)
    {
        public static Key From(ReadOnlySpan<byte> id) => new(
            BinaryPrimitives.ReadUInt64LittleEndian(id),
            BinaryPrimitives.ReadUInt64LittleEndian(id[8..]),
            BinaryPrimitives.ReadUInt64LittleEndian(id[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(id[24..]));
    }

    /// <summary>One entry of the ring; the default value is a free slot.</summary>
    private readonly record struct Slot(Key Id, CipherSuite Suite, bool ExtendedMasterSecret, byte[]? PskIdentity, long CreatedMs)
    {
        public bool InUse => PskIdentity is not null;
    }
}

/// <summary>
/// What a cache hit returns besides the master secret. <see cref="PskIdentity"/> is the cache's own array, never
/// written after it was stored (an identity is not secret): do not modify it.
/// </summary>
internal readonly record struct CachedSession(CipherSuite Suite, bool ExtendedMasterSecret, byte[] PskIdentity);
