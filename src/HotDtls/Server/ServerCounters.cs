namespace HotDtls.Server;

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

    public readonly DtlsServerStatistics ToStatistics(int sessions, int handshakes, long datagramsWithheld) => new()
    {
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
