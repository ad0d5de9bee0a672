namespace HotDtls;

/// <summary>
/// A snapshot of a server's counters and gauges. New counters are added as new properties, so code that reads
/// some of them keeps compiling and running as the set grows.
/// </summary>
public readonly record struct DtlsServerStatistics
{
    /// <summary>Datagrams read from the socket.</summary>
    public long DatagramsReceived { get; init; }

    /// <summary>Application-data records handed to the handler.</summary>
    public long DatagramsDelivered { get; init; }

    /// <summary>Records and fragments discarded (malformed, replayed, unauthenticated, unexpected).</summary>
    public long RecordsDropped { get; init; }

    /// <summary>Cookie challenges sent.</summary>
    public long HelloVerifyRequestsSent { get; init; }

    /// <summary>Handshakes begun after a valid cookie.</summary>
    public long HandshakesStarted { get; init; }

    /// <summary>Handshakes finished.</summary>
    public long HandshakesCompleted { get; init; }

    /// <summary>Handshakes that failed or timed out.</summary>
    public long HandshakesFailed { get; init; }

    /// <summary>Handshakes completed as resumptions of a cached session (the abbreviated handshake); included in <see cref="HandshakesCompleted"/>.</summary>
    public long HandshakesResumed { get; init; }

    /// <summary>Peers with state now (handshaking or established).</summary>
    public int Sessions { get; init; }

    /// <summary>Handshakes running now.</summary>
    public int HandshakesInProgress { get; init; }

    /// <summary>Half-open handshakes pushed out, oldest first, to make room for new ones.</summary>
    public long HandshakesEvicted { get; init; }

    /// <summary>Bytes of all datagrams read from the socket.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Datagrams handed to the socket (handshake flights, HelloVerifyRequests, alerts, data).</summary>
    public long DatagramsSent { get; init; }

    /// <summary>Bytes of those datagrams.</summary>
    public long BytesSent { get; init; }

    /// <summary>
    /// Cipher objects of idle sessions released (<see cref="DtlsServerOptions.ReleaseIdleCiphersAfter"/>); recreated on next use.
    /// </summary>
    public long CiphersReleased { get; init; }

    /// <summary>The sum of two snapshots (the server adds up its receive loops').</summary>
    internal DtlsServerStatistics Add(in DtlsServerStatistics other) => new()
    {
        DatagramsReceived = DatagramsReceived + other.DatagramsReceived,
        DatagramsDelivered = DatagramsDelivered + other.DatagramsDelivered,
        RecordsDropped = RecordsDropped + other.RecordsDropped,
        HelloVerifyRequestsSent = HelloVerifyRequestsSent + other.HelloVerifyRequestsSent,
        HandshakesStarted = HandshakesStarted + other.HandshakesStarted,
        HandshakesResumed = HandshakesResumed + other.HandshakesResumed,
        HandshakesCompleted = HandshakesCompleted + other.HandshakesCompleted,
        HandshakesFailed = HandshakesFailed + other.HandshakesFailed,
        Sessions = Sessions + other.Sessions,
        HandshakesInProgress = HandshakesInProgress + other.HandshakesInProgress,
        HandshakesEvicted = HandshakesEvicted + other.HandshakesEvicted,
        BytesReceived = BytesReceived + other.BytesReceived,
        DatagramsSent = DatagramsSent + other.DatagramsSent,
        BytesSent = BytesSent + other.BytesSent,
        CiphersReleased = CiphersReleased + other.CiphersReleased,
        UnknownConnectionIdRecords = UnknownConnectionIdRecords + other.UnknownConnectionIdRecords,
        PeerAddressChanges = PeerAddressChanges + other.PeerAddressChanges,
        PeerAddressChangesRefused = PeerAddressChangesRefused + other.PeerAddressChangesRefused,
        PeerAddressesProven = PeerAddressesProven + other.PeerAddressesProven,
        DatagramsWithheld = DatagramsWithheld + other.DatagramsWithheld,
        DatagramsForwarded = DatagramsForwarded + other.DatagramsForwarded,
        DatagramsNotForwarded = DatagramsNotForwarded + other.DatagramsNotForwarded,
        DatagramsSentThroughNodes = DatagramsSentThroughNodes + other.DatagramsSentThroughNodes,
    };

    /// <summary>tls12_cid records whose Connection ID no session here was issued: dropped silently (RFC 9146).</summary>
    public long UnknownConnectionIdRecords { get; init; }

    /// <summary>
    /// Times a Connection ID session moved to a new address or port (NAT rebinding, RFC 9146 §6): each on a newer
    /// authentic record from there.
    /// </summary>
    public long PeerAddressChanges { get; init; }

    /// <summary>Moves not made because another peer holds the new address, or a new handshake runs at the old one.</summary>
    public long PeerAddressChangesRefused { get; init; }

    /// <summary>
    /// Moved sessions whose new address answered a path_challenge (draft-ietf-tls-dtls-rrc), lifting the bound that
    /// keeps what the server sends there within what it received from there.
    /// </summary>
    public long PeerAddressesProven { get; init; }

    /// <summary>
    /// Datagrams not sent to a moved peer's new address because it had not yet proven itself and the bytes it had sent
    /// did not cover them (the amplification bound, RFC 9146 §6).
    /// </summary>
    public long DatagramsWithheld { get; init; }

    /// <summary>
    /// Cluster: Connection ID records of sessions another node owns, forwarded to it over the node-to-node channel
    /// (docs/scaling.md).
    /// </summary>
    public long DatagramsForwarded { get; init; }

    /// <summary>
    /// Cluster: Connection ID records of another node's sessions that were dropped instead: the node is down, unknown, or
    /// this node has no channel (also counted in <see cref="RecordsDropped"/>).
    /// </summary>
    public long DatagramsNotForwarded { get; init; }

    /// <summary>
    /// Cluster: datagrams to clients that another node forwarded, sent back through that node (the balancer expects the
    /// answer from the node it picked).
    /// </summary>
    public long DatagramsSentThroughNodes { get; init; }
}
