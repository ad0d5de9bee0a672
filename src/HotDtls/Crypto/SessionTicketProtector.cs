using System.Buffers.Binary;
using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>
/// Seals and opens RFC 5077 session tickets: the session's state, encrypted and authenticated under a server key, so
/// that the client carries it and the server keeps no memory per session.
/// </summary>
/// <remarks>
/// Ticket format (RFC 5077 §4 recommends this shape; AES-256-GCM replaces its AES-CBC + HMAC):
/// <code>
/// struct {
///     opaque key_name[16];          // which key sealed it; the AAD of the AEAD
///     opaque nonce[12];             // random per ticket
///     opaque encrypted_state[n];    // AES-256-GCM(key, nonce, StatePlaintext, aad = key_name)
///     opaque tag[16];
/// } Ticket;
///
/// struct {
///     ProtocolVersion version;      // FE FD (DTLS 1.2)
///     CipherSuite cipher_suite;
///     uint8 extended_master_secret; // 0 or 1
///     uint64 issued_unix_ms;        // when the full handshake made the session
///     opaque master_secret[48];
///     opaque psk_identity&lt;0..2^16-1&gt;;   // at most MaxIdentityLength here
/// } StatePlaintext;
/// </code>
/// Keys: a configured set (48 bytes each: key_name then the AES-256 key) lets several servers open each other's
/// tickets — the first seals, all open; without one, a random key made at start seals, a new one replaces it every
/// rotation period, and the previous ones are kept for one ticket lifetime so that live tickets still open. A ticket
/// that is expired, from the future, truncated, tampered with or sealed by an unknown key does not open — never an
/// exception to the caller. Thread-safe (the receive loops share one): a lock guards the keys and the AES objects.
/// </remarks>
internal sealed class SessionTicketProtector : IDisposable
{
    public const int KeyNameLength = 16;
    public const int KeyLength = 32;
    public const int ConfiguredKeyLength = KeyNameLength + KeyLength;
    public const int NonceLength = 12;
    public const int TagLength = 16;

    /// <summary>Identities longer than this get no ticket (the ticket must fit a datagram with its flight).</summary>
    public const int MaxIdentityLength = 512;

    private const ushort StateVersion = 0xFEFD;
    private const int StateFixedLength = 2 + 2 + 1 + 8 + KeySchedule.MasterSecretLength + 2;
    private const int Overhead = KeyNameLength + NonceLength + TagLength;

    private readonly Lock _lock = new();
    private readonly List<TicketKey> _keys = [];
    private readonly bool _rotates;
    private readonly long _rotationMs;
    private readonly long _lifetimeMs;
    private readonly TimeProvider _time;
    private readonly IRandomSource _random;
    private long _openAttempts;
    private bool _disposed;

    /// <param name="configuredKeys">Key set (48 bytes each), the first sealing; empty: random keys that rotate.</param>
    /// <param name="rotation">How often a random key is replaced (ignored with configured keys).</param>
    /// <param name="lifetime">How long a ticket opens after its session's full handshake.</param>
    /// <param name="time">Wall-clock time: tickets travel between servers, so their times are UTC.</param>
    /// <param name="random">Nonces and random keys.</param>
    public SessionTicketProtector(IReadOnlyList<byte[]> configuredKeys, TimeSpan rotation, TimeSpan lifetime, TimeProvider time,
        IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(configuredKeys);
        _time = time;
        _random = random;
        _rotationMs = (long)rotation.TotalMilliseconds;
        _lifetimeMs = (long)lifetime.TotalMilliseconds;
        foreach (var configured in configuredKeys)
        {
            if (configured.Length != ConfiguredKeyLength)
            {
                throw new ArgumentException($"A session ticket key is {ConfiguredKeyLength} bytes: a 16-byte key name, then a 32-byte AES-256 key.");
            }
            _keys.Add(new TicketKey(configured.AsSpan(0, KeyNameLength).ToArray(), configured.AsSpan(KeyNameLength), long.MaxValue));
        }
        _rotates = _keys.Count == 0;
        if (_rotates)
        {
            _keys.Add(NewRandomKey(NowMs()));
        }
    }

    /// <summary>
    /// Replaces a configured key set (a cluster's keys rotated while the server runs): the first new key seals from now
    /// on; tickets sealed under a key no longer in the set stop opening. Not for a protector with random keys.
    /// </summary>
    public void ReplaceConfiguredKeys(IReadOnlyList<byte[]> configuredKeys)
    {
        ArgumentNullException.ThrowIfNull(configuredKeys);
        if (_rotates || configuredKeys.Count == 0)
        {
            throw new InvalidOperationException("Only a configured ticket key set can be replaced, and by one that is not empty.");
        }
        var keys = new List<TicketKey>(configuredKeys.Count);
        foreach (var configured in configuredKeys)
        {
            if (configured.Length != ConfiguredKeyLength)
            {
                foreach (var made in keys)
                {
                    made.Dispose();
                }
                throw new ArgumentException($"A session ticket key is {ConfiguredKeyLength} bytes: a 16-byte key name, then a 32-byte AES-256 key.");
            }
            keys.Add(new TicketKey(configured.AsSpan(0, KeyNameLength).ToArray(), configured.AsSpan(KeyNameLength), long.MaxValue));
        }
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (var old in _keys)
            {
                old.Dispose();
            }
            _keys.Clear();
            _keys.AddRange(keys);
        }
    }

    /// <summary>Tickets this protector tried to open (a flood test counts them: none may come before the cookie).</summary>
    public long OpenAttempts => Interlocked.Read(ref _openAttempts);

    /// <summary>Bytes of the ticket for an identity of <paramref name="identityLength"/> bytes.</summary>
    public static int GetTicketLength(int identityLength) => Overhead + StateFixedLength + identityLength;

    /// <summary>The lifetime hint for NewSessionTicket, in seconds (RFC 5077 §3.3).</summary>
    public uint LifetimeHintSeconds => (uint)Math.Min(uint.MaxValue, _lifetimeMs / 1000);

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// Seals a ticket for the session (<paramref name="suite"/>, <paramref name="extendedMasterSecret"/>,
    /// <paramref name="masterSecret"/>, <paramref name="identity"/>, issued at <paramref name="issuedUnixMs"/>, 0
    /// meaning now) into <paramref name="destination"/>; <paramref name="written"/> is <see cref="GetTicketLength"/>.
    /// False if the identity is longer than <see cref="MaxIdentityLength"/>.
    /// </summary>
    public bool TrySeal(CipherSuite suite, bool extendedMasterSecret, ReadOnlySpan<byte> masterSecret, ReadOnlySpan<byte> identity,
        long issuedUnixMs, Span<byte> destination, out int written)
    {
        written = 0;
        var length = GetTicketLength(identity.Length);
        if (identity.Length > MaxIdentityLength || masterSecret.Length != KeySchedule.MasterSecretLength || destination.Length < length)
        {
            return false;
        }
        var now = NowMs();
        Span<byte> state = stackalloc byte[StateFixedLength + MaxIdentityLength];
        state = state[..(StateFixedLength + identity.Length)];
        BinaryPrimitives.WriteUInt16BigEndian(state, StateVersion);
        BinaryPrimitives.WriteUInt16BigEndian(state[2..], (ushort)suite);
        state[4] = extendedMasterSecret ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(state[5..], issuedUnixMs == 0 ? now : issuedUnixMs);
        masterSecret.CopyTo(state[13..]);
        BinaryPrimitives.WriteUInt16BigEndian(state[(13 + KeySchedule.MasterSecretLength)..], (ushort)identity.Length);
        identity.CopyTo(state[StateFixedLength..]);

        var name = destination[..KeyNameLength];
        var nonce = destination.Slice(KeyNameLength, NonceLength);
        var ciphertext = destination.Slice(KeyNameLength + NonceLength, state.Length);
        var tag = destination.Slice(KeyNameLength + NonceLength + state.Length, TagLength);
        _random.Fill(nonce);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Rotate(now);
            var key = _keys[0];
            key.Name.CopyTo(name);
            key.Aead.Encrypt(nonce, state, ciphertext, tag, name);
        }
        CryptographicOperations.ZeroMemory(state);
        written = length;
        return true;
    }

    /// <summary>
    /// Opens a ticket a client presented: on success the master secret goes to <paramref name="masterSecret"/> (48
    /// bytes) and the rest to <paramref name="state"/>. Peer input: every failure is a false, never an exception.
    /// </summary>
    public bool TryOpen(ReadOnlySpan<byte> ticket, Span<byte> masterSecret, out TicketState state)
    {
        state = default;
        Interlocked.Increment(ref _openAttempts);
        if (ticket.Length < GetTicketLength(0) || ticket.Length > GetTicketLength(MaxIdentityLength))
        {
            return false;
        }
        var name = ticket[..KeyNameLength];
        var nonce = ticket.Slice(KeyNameLength, NonceLength);
        var ciphertext = ticket[(KeyNameLength + NonceLength)..^TagLength];
        var tag = ticket[^TagLength..];
        Span<byte> plaintext = stackalloc byte[StateFixedLength + MaxIdentityLength];
        plaintext = plaintext[..ciphertext.Length];
        var now = NowMs();
        try
        {
            lock (_lock)
            {
                if (_disposed || FindKey(name, now) is not { } key)
                {
                    return false;
                }
                try
                {
                    key.Aead.Decrypt(nonce, ciphertext, tag, plaintext, name);
                }
                catch (CryptographicException)
                {
                    // A tampered or foreign ticket: a full handshake, as for no ticket at all.
                    return false;
                }
            }
            return TryReadState(plaintext, now, masterSecret, out state);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private bool TryReadState(ReadOnlySpan<byte> plaintext, long now, Span<byte> masterSecret, out TicketState state)
    {
        state = default;
        if (BinaryPrimitives.ReadUInt16BigEndian(plaintext) != StateVersion || plaintext[4] > 1)
        {
            return false;
        }
        var issued = BinaryPrimitives.ReadInt64BigEndian(plaintext[5..]);
        var identityLength = BinaryPrimitives.ReadUInt16BigEndian(plaintext[(13 + KeySchedule.MasterSecretLength)..]);
        // Expired, or issued in the future (a clock gone wrong, or a key misused): no resumption either way. Compared
        // against bounds computed from now, never as a difference: an issue time near long.MinValue or long.MaxValue (a
        // state sealed by a server sharing our key, or a bug) must not overflow into "fresh" (found by the ticket fuzzer).
        if (issued <= now - _lifetimeMs || issued > now + 60_000 || plaintext.Length != StateFixedLength + identityLength)
        {
            return false;
        }
        plaintext.Slice(13, KeySchedule.MasterSecretLength).CopyTo(masterSecret);
        state = new TicketState((CipherSuite)BinaryPrimitives.ReadUInt16BigEndian(plaintext[2..]), plaintext[4] == 1,
            plaintext[StateFixedLength..].ToArray(), issued);
        return true;
    }

    private TicketKey? FindKey(ReadOnlySpan<byte> name, long now)
    {
        Rotate(now);
        foreach (var key in _keys)
        {
            // Key names are not secret, but the comparison costs nothing more in constant time.
            if (CryptographicOperations.FixedTimeEquals(key.Name, name))
            {
                return key;
            }
        }
        return null;
    }

    /// <summary>Random keys: a new one when the current is one period old; old ones go once no live ticket can use them.</summary>
    private void Rotate(long now)
    {
        if (!_rotates)
        {
            return;
        }
        if (now - _keys[0].CreatedMs >= _rotationMs)
        {
            _keys.Insert(0, NewRandomKey(now));
        }
        for (var i = _keys.Count - 1; i > 0; i--)
        {
            // Key i sealed until key i-1 replaced it; its last ticket expires one lifetime after that.
            if (now - _keys[i - 1].CreatedMs >= _lifetimeMs)
            {
                _keys[i].Dispose();
                _keys.RemoveAt(i);
            }
        }
    }

    private TicketKey NewRandomKey(long now)
    {
        Span<byte> material = stackalloc byte[ConfiguredKeyLength];
        _random.Fill(material);
        var key = new TicketKey(material[..KeyNameLength].ToArray(), material[KeyNameLength..], now);
        CryptographicOperations.ZeroMemory(material);
        return key;
    }

    /// <summary>Number of keys held (tests watch rotation).</summary>
    internal int KeyCount
    {
        get
        {
            lock (_lock)
            {
                return _keys.Count;
            }
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach (var key in _keys)
            {
                key.Dispose();
            }
            _keys.Clear();
        }
    }

    private sealed class TicketKey : IDisposable
    {
        public TicketKey(byte[] name, ReadOnlySpan<byte> key, long createdMs)
        {
            Name = name;
            Aead = new AesGcm(key, TagLength);
            CreatedMs = createdMs;
        }

        public byte[] Name { get; }
        public AesGcm Aead { get; }
        public long CreatedMs { get; }

        public void Dispose() => Aead.Dispose();
    }
}

/// <summary>What an opened ticket says besides the master secret.</summary>
internal readonly record struct TicketState(CipherSuite Suite, bool ExtendedMasterSecret, byte[] PskIdentity, long IssuedUnixMs);
