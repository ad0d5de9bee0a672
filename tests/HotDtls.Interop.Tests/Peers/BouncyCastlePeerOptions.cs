namespace HotDtls.Interop.Tests.Peers;

/// <summary>Knobs shared by the BouncyCastle DTLS drivers.</summary>
public sealed record BouncyCastlePeerOptions
{
    /// <summary>Defaults: 1500-byte MTU, BouncyCastle's own 1 s initial retransmission, 30 s handshake limit.</summary>
    public static BouncyCastlePeerOptions Default { get; } = new();

    /// <summary>Link MTU; datagrams are limited to MTU − 28 (IPv4 + UDP headers).</summary>
    public int Mtu { get; init; } = 1500;

    /// <summary>
    /// Initial handshake retransmission timeout (RFC 6347 §4.2.4.1 suggests 1 s; BouncyCastle doubles it per
    /// retransmission up to 60 s). Lower it for tests through a lossy relay.
    /// </summary>
    public TimeSpan HandshakeResendTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>BouncyCastle gives up the handshake after this long (its own timer, real time).</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The client's supported_groups for the ECDHE_PSK suites, most preferred first; null for BouncyCastle's own list
    /// (x25519, x448, secp256r1, secp384r1). A server must pick one of these (RFC 8422 §5.1.1), so offering one group
    /// proves which group the server used.
    /// </summary>
    public IReadOnlyList<NamedGroup>? NamedGroups { get; init; }

    /// <summary>
    /// RFC 9146 Connection ID: the CID this peer asks the other side to put on the records it sends here. A client
    /// offers it in the connection_id extension (54) of its ClientHello; a server issues it in its ServerHello when,
    /// and only when, the client offered the extension. Empty: this side supports CID but wants plain records
    /// (RFC 9146 §3, a zero-length CID). Null (the default): a client offers nothing and a server declines.
    /// BouncyCastle sends the bytes as given, so a test can issue a CID of any layout; RFC 9146 allows 0..255 bytes.
    /// What was negotiated is the peer's <c>ConnectionId</c> after the handshake.
    /// </summary>
    public byte[]? ConnectionId { get; init; }
}
