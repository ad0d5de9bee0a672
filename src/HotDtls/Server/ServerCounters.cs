using System.Runtime.CompilerServices;
using HotDtls.Handshake;

namespace HotDtls.Server;

/// <summary>Records dropped, one slot per <see cref="DropReason"/> (inline: the counters stay one struct, copied by value).</summary>
[InlineArray(Length)]
internal struct DropCounts
{
    /// <summary>One more than the largest <see cref="DropReason"/> (a test checks it covers every member).</summary>
    public const int Length = (int)DropReason.ClusterNodeUnavailable + 1;

    private long _first;
}

/// <summary>One engine's counters, kept under its lock and read as a <see cref="DtlsServerStatistics"/>.</summary>
internal struct ServerCounters
{
    public long DatagramsReceived;
    public long DatagramsDelivered;
    public long RecordsDropped;
    public long HelloVerifyRequestsSent;
    public long HandshakesStarted;
    public long HandshakesCompleted;
    public long HandshakesFailed;
    public long HandshakesResumed;
    public long HandshakesEvicted;
    public long BytesReceived;
    public long DatagramsSent;
    public long BytesSent;
    public long CiphersReleased;
    public long UnknownConnectionIdRecords;
    public long PeerAddressChanges;
    public long PeerAddressChangesRefused;
    public long PeerAddressesProven;
    public long DatagramsForwarded;
    public long DatagramsNotForwarded;
    public long DatagramsSentThroughNodes;
    /// <summary>Per reason; they add up to <see cref="RecordsDropped"/>.</summary>
    public DropCounts DroppedByReason;

    /// <summary>One record dropped for <paramref name="reason"/>.</summary>
    public void CountDrop(DropReason reason)
    {
        RecordsDropped++;
        DroppedByReason[(int)reason]++;
    }

    public readonly DtlsServerStatistics ToStatistics(int sessions, int handshakes, long datagramsWithheld) => new()
    {
        DatagramsForwarded = DatagramsForwarded,
        DatagramsNotForwarded = DatagramsNotForwarded,
        DatagramsSentThroughNodes = DatagramsSentThroughNodes,
        DatagramsWithheld = datagramsWithheld,
        DatagramsReceived = DatagramsReceived,
        DatagramsDelivered = DatagramsDelivered,
        RecordsDropped = RecordsDropped,
        HelloVerifyRequestsSent = HelloVerifyRequestsSent,
        HandshakesStarted = HandshakesStarted,
        HandshakesCompleted = HandshakesCompleted,
        HandshakesFailed = HandshakesFailed,
        HandshakesResumed = HandshakesResumed,
        Sessions = sessions,
        HandshakesInProgress = handshakes,
        HandshakesEvicted = HandshakesEvicted,
        BytesReceived = BytesReceived,
        DatagramsSent = DatagramsSent,
        BytesSent = BytesSent,
        CiphersReleased = CiphersReleased,
        UnknownConnectionIdRecords = UnknownConnectionIdRecords,
        PeerAddressChanges = PeerAddressChanges,
        PeerAddressChangesRefused = PeerAddressChangesRefused,
        PeerAddressesProven = PeerAddressesProven,
    };
}
