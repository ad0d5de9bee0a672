using System.Buffers.Binary;
using HotDtls.Crypto;

namespace HotDtls.Connection;

/// <summary>
/// The Connection IDs one receive loop has issued (RFC 9146) and the connection each belongs to: the server finds a
/// tls12_cid record's association here, before and regardless of the address it came from.
/// </summary>
/// <remarks>
/// Layout of a server-issued CID of L bytes (L = 4 to <see cref="DtlsServerOptions.MaxServerConnectionIdLength"/>):
/// <code>
///   +----------+----------+----------------------------+---------------------------+
///   | node (1) | loop (1) | slot (2 if L = 4, else 3)  | check (L − 5, random)     |
///   +----------+----------+----------------------------+---------------------------+
///   byte 0     byte 1     bytes 2 …                                          … L−1
/// </code>
/// The node byte (<see cref="DtlsServerOptions.ConnectionIdNode"/>) tells a load balancer or a peer server which server
/// owns the session; the loop byte tells the kernel's SO_REUSEPORT program (and the hand-off between loops) which
/// receive loop does. In a tls12_cid record the CID starts at byte 11, so the loop index sits at byte 12 of the first
/// record of a datagram. The slot is the session's index in this table's array — a lookup is one array read, and the
/// table costs 8 bytes per slot rather than a hash entry per session — and the random check bytes tell a CID of a
/// session that has ended from the next one in its slot. Bytes 2 … L−1, read as one big-endian number, are the key a
/// connection keeps (never 0: slot 0 is not used); the record's authentication, not the CID, is what protects the
/// session. Not thread-safe: the engine uses it under its lock.
/// </remarks>
internal sealed class ConnectionIdTable
{
    /// <summary>Bytes before the slot: node and loop.</summary>
    public const int PrefixLength = 2;

    private const int InitialSlots = 64;

    private readonly IRandomSource _random;
    private readonly int _slotBytes;
    private readonly int _checkBytes;
    private readonly int _maxSlots;
    private ServerConnection?[] _slots = new ServerConnection?[InitialSlots];
    // Where the search for a free slot starts: just after the last one taken, so it rarely walks far.
    private int _cursor = 1;

    /// <param name="length">The length of every CID issued, 4 to 10.</param>
    /// <param name="node">Byte 0 of every CID.</param>
    /// <param name="loop">Byte 1 of every CID: this table's receive loop.</param>
    /// <param name="random">Where the check bytes come from.</param>
    /// <param name="maxSlots">Most sessions with a CID at once (tests make it small); the slot width's limit by default.</param>
    public ConnectionIdTable(int length, byte node, byte loop, IRandomSource random, int maxSlots = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, DtlsServerOptions.MinServerConnectionIdLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, DtlsServerOptions.MaxServerConnectionIdLength);
        ArgumentNullException.ThrowIfNull(random);
        Length = length;
        Node = node;
        Loop = loop;
        _random = random;
        _slotBytes = length == 4 ? 2 : 3;
        _checkBytes = length - PrefixLength - _slotBytes;
        var slotLimit = 1 << (8 * _slotBytes);
        _maxSlots = maxSlots > 0 ? Math.Min(maxSlots + 1, slotLimit) : slotLimit;
    }

    /// <summary>The length of every CID this table issues.</summary>
    public int Length { get; }

    /// <summary>Byte 0 of every CID this table issues.</summary>
    public byte Node { get; }

    /// <summary>Byte 1 of every CID this table issues.</summary>
    public byte Loop { get; }

    /// <summary>CIDs in use.</summary>
    public int Count { get; private set; }

    /// <summary>Slots the table holds now (for tests: it grows by half when seven eighths are taken).</summary>
    internal int Capacity => _slots.Length;

    /// <summary>
    /// Takes a free slot for <paramref name="owner"/>, draws its check bytes and gives the owner its key
    /// (<see cref="ServerConnection.ConnectionIdKey"/>); false (and no CID) when every slot the CID length allows is taken.
    /// </summary>
    public bool TryIssue(ServerConnection owner, out ulong key)
    {
        ArgumentNullException.ThrowIfNull(owner);
        key = 0;
        if (Count + 1 >= _maxSlots)
        {
            return false;
        }
        if ((Count + 1) * 8 >= _slots.Length * 7 && _slots.Length < _maxSlots)
        {
            Array.Resize(ref _slots, Math.Min(_maxSlots, _slots.Length + (_slots.Length / 2)));
        }
        var slot = _cursor;
        while (_slots[slot] is not null)
        {
            slot = slot + 1 == _slots.Length ? 1 : slot + 1;
        }
        _cursor = slot + 1 == _slots.Length ? 1 : slot + 1;
        Span<byte> check = stackalloc byte[sizeof(ulong)];
        check.Clear();
        _random.Fill(check[(sizeof(ulong) - _checkBytes)..]);
        key = ((ulong)slot << (8 * _checkBytes)) | BinaryPrimitives.ReadUInt64BigEndian(check);
        _slots[slot] = owner;
        owner.ConnectionIdKey = key;
        Count++;
        return true;
    }

    /// <summary>Writes the CID whose slot and check bytes are <paramref name="key"/> (<see cref="Length"/> bytes).</summary>
    public void Write(ulong key, Span<byte> destination)
    {
        Transport.ConnectionIdSteering.WriteRoutingBytes(destination[..Length], Node, Loop);
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, key);
        bytes[(sizeof(ulong) - (Length - PrefixLength))..].CopyTo(destination[PrefixLength..Length]);
    }

    /// <summary>The connection <paramref name="connectionId"/> was issued to, if it is one of this table's and in use.</summary>
    public bool TryFind(ReadOnlySpan<byte> connectionId, out ServerConnection owner)
    {
        owner = null!;
        if (connectionId.Length != Length || connectionId[0] != Node || connectionId[1] != Loop)
        {
            return false;
        }
        var key = KeyOf(connectionId);
        var slot = SlotOf(key);
        if ((uint)slot >= (uint)_slots.Length || _slots[slot] is not { } candidate || candidate.ConnectionIdKey != key)
        {
            return false;
        }
        owner = candidate;
        return true;
    }

    /// <summary>Frees <paramref name="key"/> if <paramref name="owner"/> holds it (its connection closed).</summary>
    public void Remove(ulong key, ServerConnection owner)
    {
        var slot = SlotOf(key);
        if ((uint)slot < (uint)_slots.Length && _slots[slot] == owner)
        {
            _slots[slot] = null;
            Count--;
        }
    }

    /// <summary>The loop byte of a CID of this layout, or -1 when it is too short to have one.</summary>
    public static int LoopOf(ReadOnlySpan<byte> connectionId) => connectionId.Length > 1 ? connectionId[1] : -1;

    private int SlotOf(ulong key) => (int)(key >> (8 * _checkBytes));

    private ulong KeyOf(ReadOnlySpan<byte> connectionId)
    {
        Span<byte> bytes = stackalloc byte[sizeof(ulong)];
        bytes.Clear();
        var keyLength = Length - PrefixLength;
        connectionId.Slice(PrefixLength, keyLength).CopyTo(bytes[(sizeof(ulong) - keyLength)..]);
        return BinaryPrimitives.ReadUInt64BigEndian(bytes);
    }
}
