namespace HotDtls.Handshake;

/// <summary>
/// The datagram sizes a handshake flight steps down through when the path seems to drop it (RFC 6347 §4.1.1.1: "if
/// repeated retransmissions do not result in a response, and the PMTU is unknown, subsequent retransmissions SHOULD
/// back off to a smaller record size, fragmenting the handshake message as appropriate"):
/// <code>
///   DtlsOptions.Mtu ──► 1200 (if larger) ──► 548 (if larger) ──► stays
///                        IPv6 minimum MTU     IPv4's 576-byte minimum reassembly
///                        1280 − 80 of headers  size − 28 of IPv4 and UDP headers
/// </code>
/// A step never goes below the configured MTU's own floor: an MTU configured at or below a rung is taken as known.
/// </summary>
internal static class PathMtuLadder
{
    /// <summary>The first rung: fits an IPv6 path of the minimum MTU (1280) with room for tunnel headers.</summary>
    public const int Ipv6Safe = 1200;

    /// <summary>The last rung: a UDP payload every IPv4 host must be able to receive (576 − 20 − 8).</summary>
    public const int Ipv4Safe = 548;

    /// <summary>The next smaller datagram size below <paramref name="current"/>, or <paramref name="current"/> at the bottom.</summary>
    public static int Next(int current) => current > Ipv6Safe ? Ipv6Safe : current > Ipv4Safe ? Ipv4Safe : current;
}
