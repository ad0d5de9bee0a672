namespace HotDtls.Stress;

/// <summary>What one trial saw.</summary>
/// <param name="HandshakeTime">From the relay seeing the first ClientHello to the client reporting the handshake done; null if it failed.</param>
/// <param name="Failure">Why the handshake failed, or null.</param>
/// <param name="EchoesSent">Pings written to the client.</param>
/// <param name="EchoesAnswered">Distinct pings whose echo came back.</param>
/// <param name="PingsNotSent">Pings after which the relay saw no datagram from the client at all (the client did not send).</param>
/// <param name="ServerDuplicatesDelivered">Datagrams the server application got more than once (the replay window should make this 0).</param>
internal sealed record ImpairTrialResult(
    TimeSpan? HandshakeTime,
    string? Failure,
    int EchoesSent,
    int EchoesAnswered,
    int PingsNotSent,
    int ServerDuplicatesDelivered,
    RelayCounts Relay);
