using System.Buffers.Binary;

namespace HotDtls.Cluster;

/// <summary>
/// Reads one node-to-node frame (big-endian). Checks the structure only; the receiver, the sender, the sequence number
/// and the MAC are the channel's to judge (<see cref="ClusterChannel.ProcessFrame"/>).
/// </summary>
/// <remarks>
/// <code>
/// offset  size  field
///    0      2   magic "HC"
///    2      1   version (1)
///    3      1   type: 1 Forward, 2 Reply, 3 Heartbeat
///    4      1   sender node id
///    5      1   receiver node id
///    6      8   sequence (uint64; per sender, strictly increasing, starts at the sender's start time in unix µs)
///   14      1   client address family: 0 (Heartbeat), 4 (IPv4), 6 (IPv6)
///   15      2   client port               } absent for family 0
///   17   4|16   client address            }
///   ..      n   payload: the client's datagram (Forward, Reply); empty for a Heartbeat
/// end-16   16   MAC = HMAC-SHA256(channel key, every byte before it)[0..16]
/// </code>
/// A Heartbeat has family 0 and nothing between it and the MAC; a Forward or Reply has family 4 or 6. There is no
/// length field: the payload is whatever lies between the address and the MAC.
/// </remarks>
internal readonly ref struct ClusterFrameReader
{
    private readonly ReadOnlySpan<byte> _frame;

    private ClusterFrameReader(ReadOnlySpan<byte> frame, int addressOffset, int addressLength, int payloadOffset)
    {
        _frame = frame;
        AddressOffset = addressOffset;
        AddressLength = addressLength;
        PayloadOffset = payloadOffset;
    }

    /// <summary>The frame's type.</summary>
    public ClusterFrameType Type => (ClusterFrameType)_frame[3];

    /// <summary>The sending node's id.</summary>
    public byte Sender => _frame[4];

    /// <summary>The node id the frame is addressed to.</summary>
    public byte Receiver => _frame[5];

    /// <summary>The sender's sequence number.</summary>
    public ulong Sequence => BinaryPrimitives.ReadUInt64BigEndian(_frame[ClusterFrame.SequenceOffset..]);

    /// <summary>The client address family byte: 0, 4 or 6.</summary>
    public byte Family => _frame[ClusterFrame.FamilyOffset];

    /// <summary>The client's port (0 for a heartbeat).</summary>
    public ushort Port => Family == ClusterFrame.FamilyNone
        ? (ushort)0 : BinaryPrimitives.ReadUInt16BigEndian(_frame[ClusterFrame.HeaderLength..]);

    /// <summary>Offset of the client's address in the frame.</summary>
    public int AddressOffset { get; }

    /// <summary>Bytes of the client's address: 0, 4 or 16.</summary>
    public int AddressLength { get; }

    /// <summary>The client's address bytes (network order).</summary>
    public ReadOnlySpan<byte> Address => _frame.Slice(AddressOffset, AddressLength);

    /// <summary>Offset of the payload in the frame.</summary>
    public int PayloadOffset { get; }

    /// <summary>Bytes of payload.</summary>
    public int PayloadLength => _frame.Length - ClusterFrame.MacLength - PayloadOffset;

    /// <summary>The client's datagram.</summary>
    public ReadOnlySpan<byte> Payload => _frame.Slice(PayloadOffset, PayloadLength);

    /// <summary>Every byte the MAC covers.</summary>
    public ReadOnlySpan<byte> Authenticated => _frame[..^ClusterFrame.MacLength];

    /// <summary>The MAC as received.</summary>
    public ReadOnlySpan<byte> Mac => _frame[^ClusterFrame.MacLength..];

    /// <summary>
    /// Reads <paramref name="frame"/>: false (never an exception) when it is short, longer than
    /// <see cref="ClusterFrame.MaxFrameLength"/>, has a bad magic, version, type or family, is too short for its address,
    /// or is a heartbeat with an address or a payload.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out ClusterFrameReader reader)
    {
        reader = default;
        if (frame.Length < ClusterFrame.HeaderLength + ClusterFrame.MacLength || frame.Length > ClusterFrame.MaxFrameLength)
        {
            return false;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(frame) != ClusterFrame.Magic || frame[2] != ClusterFrame.Version)
        {
            return false;
        }
        var type = (ClusterFrameType)frame[3];
        var family = frame[ClusterFrame.FamilyOffset];
        var addressLength = ClusterFrame.AddressLength(family);
        switch (type)
        {
            case ClusterFrameType.Heartbeat:
                if (family != ClusterFrame.FamilyNone || frame.Length != ClusterFrame.HeaderLength + ClusterFrame.MacLength)
                {
                    return false;
                }
                reader = new ClusterFrameReader(frame, ClusterFrame.HeaderLength, 0, ClusterFrame.HeaderLength);
                return true;
            case ClusterFrameType.Forward or ClusterFrameType.Reply:
                if (addressLength <= 0)
                {
                    return false;
                }
                var addressOffset = ClusterFrame.HeaderLength + 2;
                var payloadOffset = addressOffset + addressLength;
                if (frame.Length < payloadOffset + ClusterFrame.MacLength)
                {
                    return false;
                }
                reader = new ClusterFrameReader(frame, addressOffset, addressLength, payloadOffset);
                return true;
            default:
                return false;
        }
    }
}
