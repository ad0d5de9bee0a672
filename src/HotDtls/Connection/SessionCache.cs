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

    private readonly Lock _lock = new();
    private readonly Dictionary<Key, Entry> _entries;
    // Oldest first: insertion order, which with one lifetime for all is also expiry order.
    private readonly LinkedList<Entry> _order = new();
    private readonly int _capacity;
    private readonly long _lifetimeMs;
    private bool _disposed;

    public SessionCache(int capacity, TimeSpan lifetime)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        _capacity = capacity;
        _lifetimeMs = (long)lifetime.TotalMilliseconds;
        _entries = new Dictionary<Key, Entry>(Math.Min(capacity, 1024));
    }

    /// <summary>Entries held now (expired ones count until a call notices them).</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>How many entries were evicted to make room (the cap was reached).</summary>
    public long Evicted { get; private set; }

    /// <summary>
    /// Stores an established session under <paramref name="sessionId"/> (which the server made: 32 random bytes).
    /// The master secret and identity are copied.
    /// </summary>
    public void Add(ReadOnlySpan<byte> sessionId, CipherSuite suite, bool extendedMasterSecret, ReadOnlySpan<byte> masterSecret,
        ReadOnlySpan<byte> pskIdentity, long nowMs)
    {
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
            if (_entries.Remove(key, out var existing))
            {
                Forget(existing);
            }
            while (_entries.Count >= _capacity && _order.First is { } oldest)
            {
                _entries.Remove(oldest.Value.Id);
                Forget(oldest.Value);
                Evicted++;
            }
            var entry = new Entry(key, suite, extendedMasterSecret, masterSecret.ToArray(), pskIdentity.ToArray(), nowMs);
            entry.Node = _order.AddLast(entry);
            _entries.Add(key, entry);
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
            if (!_entries.TryGetValue(key, out var entry))
            {
                return false;
            }
            if (nowMs - entry.CreatedMs >= _lifetimeMs)
            {
                _entries.Remove(key);
                Forget(entry);
                return false;
            }
            entry.MasterSecret.CopyTo(masterSecret);
            session = new CachedSession(entry.Suite, entry.ExtendedMasterSecret, entry.PskIdentity);
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
            if (_entries.Remove(Key.From(sessionId), out var entry))
            {
                Forget(entry);
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
        while (_order.First is { } oldest && nowMs - oldest.Value.CreatedMs >= _lifetimeMs)
        {
            _entries.Remove(oldest.Value.Id);
            Forget(oldest.Value);
        }
    }

    private void Forget(Entry entry)
    {
        CryptographicOperations.ZeroMemory(entry.MasterSecret);
        if (entry.Node is { List: not null } node)
        {
            _order.Remove(node);
        }
        entry.Node = null;
    }

    /// <summary>Zeroes every master secret and forgets everything.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var entry in _entries.Values)
            {
                CryptographicOperations.ZeroMemory(entry.MasterSecret);
            }
            _entries.Clear();
            _order.Clear();
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

    private sealed class Entry(Key id, CipherSuite suite, bool extendedMasterSecret, byte[] masterSecret, byte[] pskIdentity, long createdMs)
    {
        public Key Id { get; } = id;
        public CipherSuite Suite { get; } = suite;
        public bool ExtendedMasterSecret { get; } = extendedMasterSecret;
        public byte[] MasterSecret { get; } = masterSecret;
        public byte[] PskIdentity { get; } = pskIdentity;
        public long CreatedMs { get; } = createdMs;
        public LinkedListNode<Entry>? Node { get; set; }
    }
}

/// <summary>
/// What a cache hit returns besides the master secret. <see cref="PskIdentity"/> is the cache's own array, never
/// written after it was stored (an identity is not secret): do not modify it.
/// </summary>
internal readonly record struct CachedSession(CipherSuite Suite, bool ExtendedMasterSecret, byte[] PskIdentity);
