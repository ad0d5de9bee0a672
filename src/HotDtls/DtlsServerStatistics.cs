namespace HotDtls;

/// <summary>A snapshot of a server's counters.</summary>
/// <param name="DatagramsReceived">Datagrams read from the socket.</param>
/// <param name="DatagramsDelivered">Application-data records handed to the handler.</param>
/// <param name="RecordsDropped">Records and fragments discarded (malformed, replayed, unauthenticated, unexpected).</param>
/// <param name="HelloVerifyRequestsSent">Cookie challenges sent.</param>
/// <param name="HandshakesStarted">Handshakes begun after a valid cookie.</param>
/// <param name="HandshakesCompleted">Handshakes finished.</param>
/// <param name="HandshakesFailed">Handshakes that failed or timed out.</param>
/// <param name="Sessions">Peers with state now (handshaking or established).</param>
/// <param name="HandshakesInProgress">Handshakes running now.</param>
/// <param name="HandshakesEvicted">Half-open handshakes pushed out, oldest first, to make room for new ones.</param>
/// <param name="BytesReceived">Bytes of all datagrams read from the socket.</param>
/// <param name="DatagramsSent">Datagrams handed to the socket (handshake flights, HelloVerifyRequests, alerts, data).</param>
/// <param name="BytesSent">Bytes of those datagrams.</param>
/// <param name="CiphersReleased">
/// Cipher objects of idle sessions released (<see cref="DtlsServerOptions.ReleaseIdleCiphersAfter"/>); recreated on next use.
/// </param>
public readonly record struct DtlsServerStatistics(
    long DatagramsReceived,
    long DatagramsDelivered,
    long RecordsDropped,
    long HelloVerifyRequestsSent,
    long HandshakesStarted,
    long HandshakesCompleted,
    long HandshakesFailed,
    int Sessions,
    int HandshakesInProgress,
    long HandshakesEvicted,
    long BytesReceived,
    long DatagramsSent,
    long BytesSent,
    long CiphersReleased)
{
    /// <summary>The sum of two snapshots (the server adds up its receive loops').</summary>
    internal DtlsServerStatistics Add(in DtlsServerStatistics other) => new(
        DatagramsReceived + other.DatagramsReceived,
        DatagramsDelivered + other.DatagramsDelivered,
        RecordsDropped + other.RecordsDropped,
        HelloVerifyRequestsSent + other.HelloVerifyRequestsSent,
        HandshakesStarted + other.HandshakesStarted,
        HandshakesCompleted + other.HandshakesCompleted,
        HandshakesFailed + other.HandshakesFailed,
        Sessions + other.Sessions,
        HandshakesInProgress + other.HandshakesInProgress,
        HandshakesEvicted + other.HandshakesEvicted,
        BytesReceived + other.BytesReceived,
        DatagramsSent + other.DatagramsSent,
        BytesSent + other.BytesSent,
        CiphersReleased + other.CiphersReleased);
}
