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
///   +----------+----------+------------------------------+
///   | node (1) | loop (1) | random (L − 2, unique here)  |
///   +----------+----------+------------------------------+
///   byte 0     byte 1     bytes 2 … L−1
/// </code>
/// The node byte (<see cref="DtlsServerOptions.ConnectionIdNode"/>) tells a load balancer or a peer server which server
/// owns the session; the loop byte tells the kernel's SO_REUSEPORT program (and the hand-off between loops) which
/// receive loop does. In a tls12_cid record the CID starts at byte 11, so the loop index sits at byte 12 of the first
/// record of a datagram. The random part — at most 8 bytes, so it is the table's key as one <see cref="ulong"/> and an
/// idle session keeps no array for it — is drawn until it is unused here; a CID is never reissued while its session
/// lives. Not thread-safe: the engine uses it under its lock.
/// </remarks>
internal sealed class ConnectionIdTable
{
    /// <summary>Bytes before the random part: node and loop.</summary>
    public const int PrefixLength = 2;

    // A full table of short CIDs would make drawing an unused one slow: give up after this many draws (the session
    // then gets no CID, which only costs it rebinding).
    private const int MaxDraws = 16;

    private readonly Dictionary<ulong, ServerConnection> _owners = [];
    private readonly IRandomSource _random;

    /// <param name="length">The length of every CID issued, 4 to 10.</param>
    /// <param name="node">Byte 0 of every CID.</param>
    /// <param name="loop">Byte 1 of every CID: this table's receive loop.</param>
    /// <param name="random">Where the random part comes from.</param>
    public ConnectionIdTable(int length, byte node, byte loop, IRandomSource random)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, DtlsServerOptions.MinServerConnectionIdLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, DtlsServerOptions.MaxServerConnectionIdLength);
        ArgumentNullException.ThrowIfNull(random);
        Length = length;
        Node = node;
        Loop = loop;
        _random = random;
    }

    /// <summary>The length of every CID this table issues.</summary>
    public int Length { get; }

    /// <summary>Byte 0 of every CID this table issues.</summary>
    public byte Node { get; }

    /// <summary>Byte 1 of every CID this table issues.</summary>
    public byte Loop { get; }

    /// <summary>CIDs in use.</summary>
    public int Count => _owners.Count;

    /// <summary>
    /// Draws an unused, non-zero CID for <paramref name="owner"/> and records it; false (and no CID) when none was found
    /// in <see cref="MaxDraws"/> draws.
    /// </summary>
    public bool TryIssue(ServerConnection owner, out ulong key)
    {
        ArgumentNullException.ThrowIfNull(owner);
        Span<byte> random = stackalloc byte[sizeof(ulong)];
        var randomLength = Length - PrefixLength;
        for (var draw = 0; draw < MaxDraws; draw++)
        {
            random.Clear();
            _random.Fill(random[(sizeof(ulong) - randomLength)..]);
            key = BinaryPrimitives.ReadUInt64BigEndian(random);
            // 0 is how a connection says it holds no CID: never issued.
            if (key != 0 && _owners.TryAdd(key, owner))
            {
                return true;
            }
        }
        key = 0;
        return false;
    }

    /// <summary>Writes the CID whose random part is <paramref name="key"/> (<see cref="Length"/> bytes).</summary>
    public void Write(ulong key, Span<byte> destination)
    {
        Transport.ConnectionIdSteering.WriteRoutingBytes(destination[..Length], Node, Loop);
        Span<byte> random = stackalloc byte[sizeof(ulong)];
        BinaryPrimitives.WriteUInt64BigEndian(random, key);
        random[(sizeof(ulong) - (Length - PrefixLength))..].CopyTo(destination[PrefixLength..Length]);
    }

    /// <summary>The connection <paramref name="connectionId"/> was issued to, if it is one of this table's and in use.</summary>
    public bool TryFind(ReadOnlySpan<byte> connectionId, out ServerConnection owner)
    {
        if (connectionId.Length != Length || connectionId[0] != Node || connectionId[1] != Loop)
        {
            owner = null!;
            return false;
        }
        return _owners.TryGetValue(KeyOf(connectionId), out owner!);
    }

    /// <summary>Frees <paramref name="key"/> if <paramref name="owner"/> holds it (its connection closed).</summary>
    public void Remove(ulong key, ServerConnection owner)
    {
        if (_owners.TryGetValue(key, out var current) && current == owner)
        {
            _owners.Remove(key);
        }
    }

    /// <summary>The loop byte of a CID of this layout, or -1 when it is too short to have one.</summary>
    public static int LoopOf(ReadOnlySpan<byte> connectionId) => connectionId.Length > 1 ? connectionId[1] : -1;

    private ulong KeyOf(ReadOnlySpan<byte> connectionId)
    {
        Span<byte> random = stackalloc byte[sizeof(ulong)];
        random.Clear();
        var randomLength = Length - PrefixLength;
        connectionId.Slice(PrefixLength, randomLength).CopyTo(random[(sizeof(ulong) - randomLength)..]);
        return BinaryPrimitives.ReadUInt64BigEndian(random);
    }
}
