using System.Net;

namespace HotDtls;

/// <summary>Settings of a <see cref="DtlsServer"/>.</summary>
public sealed class DtlsServerOptions : DtlsOptions
{
    /// <summary>
    /// Where the server listens: IPv4 or IPv6 address and port. Required (there is no default: a library should not
    /// pick a port for you). Port 0 picks a free port; <see cref="DtlsServer.LocalEndPoint"/> tells which.
    /// </summary>
    public IPEndPoint? EndPoint { get; set; }

    /// <summary>
    /// psk_identity_hint sent in ServerKeyExchange (RFC 4279 §2); <see langword="null"/> sends no
    /// ServerKeyExchange at all. Sent in clear text: never put a secret here.
    /// </summary>
    public string? PskIdentityHint { get; set; }

    /// <summary>Where keys come from. Required.</summary>
    public IPskStore? PskStore { get; set; }

    /// <summary>
    /// Answer a ClientKeyExchange whose identity <see cref="PskStore"/> does not know with a fatal
    /// unknown_psk_identity alert at once (RFC 4279 §2 allows it). Off by default: the handshake then runs on with
    /// a random key and ends exactly like a wrong key (decrypt_error, same messages), so a prober cannot tell which
    /// identities exist. Turn it on only where telling clients "wrong identity" apart from "wrong key" is worth that.
    /// </summary>
    public bool RevealUnknownPskIdentity { get; set; }

    /// <summary>
    /// An established session that seals and opens no record for this long releases its native cipher objects (the
    /// largest part of an idle session's memory) and keeps only the key bytes; its next record recreates them, at the
    /// cost of a few microseconds once (docs/benchmarks.md). The
    /// check runs once per period, so release happens after one to two periods of silence. Default 10 s;
    /// <see cref="Timeout.InfiniteTimeSpan"/> keeps them for the session's life.
    /// </summary>
    public TimeSpan ReleaseIdleCiphersAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An established session that receives nothing for this long is forgotten.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Most sessions (established and handshaking) kept at once. When full, a new cookie-valid ClientHello evicts the
    /// oldest half-open handshake; if every slot holds an established session, it is dropped.
    /// </summary>
    public int MaxSessions { get; set; } = 100_000;

    /// <summary>
    /// Most handshakes in progress at once (peers that passed the cookie check but have not finished); when full,
    /// the oldest is evicted to make room (RFC 6347 §4.2.1 spoofing and CVE-2022-39368 style floods).
    /// </summary>
    public int MaxHandshakesInProgress { get; set; } = 4096;

    /// <summary>How often the cookie secret changes; a cookie from the previous period is still accepted.</summary>
    public TimeSpan CookieSecretRotation { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How many receive loops, each on its own socket bound to <see cref="EndPoint"/> with SO_REUSEPORT (Linux), so
    /// the kernel spreads peers over them by address and port and keeps each peer on one loop. Each loop owns its
    /// peers outright. Default: one per processor. <see cref="MaxSessions"/> and <see cref="MaxHandshakesInProgress"/>
    /// are divided among the loops (rounded up). Where SO_REUSEPORT is not available, one loop is used.
    /// </summary>
    public int ReceiveLoops { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// How each loop waits for datagrams; see <see cref="DtlsReceiveStrategy"/>. Default:
    /// <see cref="DtlsReceiveStrategy.Batched"/> (recvmmsg/sendmmsg), which falls back to
    /// <see cref="DtlsReceiveStrategy.BlockingThread"/> where the platform lacks those calls.
    /// </summary>
    public DtlsReceiveStrategy ReceiveStrategy { get; set; } = DtlsReceiveStrategy.Batched;

    /// <summary>The largest <see cref="ConnectionIdLength"/> a server issues: the random part then fills 64 bits.</summary>
    public const int MaxServerConnectionIdLength = 10;

    /// <summary>The smallest non-zero <see cref="ConnectionIdLength"/>: node, loop and at least 16 random bits.</summary>
    public const int MinServerConnectionIdLength = 4;

    /// <summary>
    /// Connection ID (RFC 9146): the length of the CIDs this server issues to clients that offer the connection_id
    /// extension, so their sessions survive a change of address or port (NAT rebinding). 0 accepts the extension with
    /// an empty CID (the client may still ask for its own in the records the server sends); <see langword="null"/>
    /// ignores the extension. Otherwise 4 to 10 bytes: node (<see cref="ConnectionIdNode"/>), receive loop, then
    /// random bytes (layout: docs/design.md). Default 6: 2^32 sessions per loop before a CID repeats, 6 bytes on every
    /// record the client sends. Clients that do not offer the extension are not affected.
    /// </summary>
    public int? ConnectionIdLength { get; set; } = 6;

    /// <summary>
    /// The first byte of every CID this server issues: which server of a group owns the session, so a load balancer
    /// or a peer server can route a CID record to it (0 to 255; default 0).
    /// </summary>
    public byte ConnectionIdNode { get; set; }

    /// <summary>The most <see cref="MaxCachedSessions"/> allows.</summary>
    private const int MaxSessionCacheCapacity = 10_000_000;

    /// <summary>
    /// Let clients resume sessions with the abbreviated handshake (RFC 5246 §7.3): a full handshake that negotiated
    /// the extended master secret gets a 32-byte random session_id and its session is kept in a cache shared by all
    /// receive loops; a later ClientHello naming it (after the cookie check, as always) skips the key exchange. The
    /// resumed session keeps its PSK identity and cipher suite; the <see cref="PskStore"/> is still asked whether the
    /// identity resolves, and a session whose identity or suite is no longer accepted gets a full handshake instead.
    /// Off by default: the cache holds master secrets in memory for <see cref="SessionLifetime"/>.
    /// </summary>
    public bool EnableSessionResumption { get; set; }

    /// <summary>
    /// Most sessions kept for resumption (<see cref="EnableSessionResumption"/>), for all receive loops together;
    /// when full, the oldest is forgotten and its master secret zeroed. Default 20 000 (about 200 bytes each plus the
    /// identity).
    /// </summary>
    public int MaxCachedSessions { get; set; } = 20_000;

    /// <summary>
    /// How long after its full handshake a session may be resumed (resuming does not extend it). Default 1 hour; at
    /// most 24 hours (RFC 5246 §7.4.1.2: "an upper limit of 24 hours is suggested for session ID lifetimes").
    /// </summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Issue RFC 5077 session tickets to clients that ask (the SessionTicket extension): the session's state, sealed
    /// with AES-256-GCM under a server key, travels with the client, so resuming costs the server no memory per
    /// session (such sessions are not also put in the session-ID cache). A ticket is opened only after the cookie
    /// check; one that is expired (<see cref="SessionLifetime"/>), tampered with, truncated or sealed by an unknown key
    /// gets a full handshake. Independent of <see cref="EnableSessionResumption"/>. Off by default.
    /// </summary>
    public bool EnableSessionTickets { get; set; }

    /// <summary>
    /// Ticket keys shared by several servers so that each accepts the others' tickets: 48 bytes each, a 16-byte key
    /// name then a 32-byte AES-256 key, from a secure random source and kept secret. The first seals new tickets,
    /// all open them: to rotate, put a new key first and keep the old one until its tickets expire. Empty (the
    /// default): each server makes a random key at start and replaces it every <see cref="SessionTicketKeyRotation"/>.
    /// </summary>
    public IList<byte[]> SessionTicketKeys { get; } = [];

    /// <summary>
    /// How often the random ticket key is replaced when <see cref="SessionTicketKeys"/> is empty; the previous keys
    /// are kept for one <see cref="SessionLifetime"/> so that live tickets still open. Default 1 hour.
    /// </summary>
    public TimeSpan SessionTicketKeyRotation { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Makes this server one node of a cluster behind a UDP load balancer: shared cookie secrets and ticket keys, and
    /// Connection ID records forwarded to the node that owns their session (docs/scaling.md). <see langword="null"/>
    /// (the default): a server on its own.
    /// </summary>
    public DtlsClusterOptions? Cluster { get; set; }

    /// <summary>The node byte of the CIDs this server issues: the cluster's node id, else <see cref="ConnectionIdNode"/>.</summary>
    internal byte EffectiveConnectionIdNode => Cluster is { } cluster ? cluster.NodeId : ConnectionIdNode;

    internal void ValidateServer()
    {
        Validate();
        if (EndPoint is null)
        {
            throw new ArgumentException(
                "DtlsServerOptions.EndPoint is required: the address and port to listen on, for example new IPEndPoint(IPAddress.Loopback, 22334) (port 0 picks a free one).");
        }
        if (PskStore is null)
        {
            throw new ArgumentException("DtlsServerOptions.PskStore is required: for example PskStore.Single(key).");
        }
        if (PskIdentityHint is not null && System.Text.Encoding.UTF8.GetByteCount(PskIdentityHint) > 65535)
        {
            throw new ArgumentException("PskIdentityHint must fit in 65535 bytes of UTF-8.");
        }
        RequirePositive(IdleTimeout, nameof(IdleTimeout));
        RequirePositive(CookieSecretRotation, nameof(CookieSecretRotation));
        if (ReleaseIdleCiphersAfter != Timeout.InfiniteTimeSpan)
        {
            RequirePositive(ReleaseIdleCiphersAfter, nameof(ReleaseIdleCiphersAfter));
        }
        if (MaxSessions < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxSessions), MaxSessions, "MaxSessions must be at least 1.");
        }
        if (MaxHandshakesInProgress < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxHandshakesInProgress), MaxHandshakesInProgress,
                "MaxHandshakesInProgress must be at least 1.");
        }
        if (ReceiveLoops is < 1 or > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveLoops), ReceiveLoops,
                "ReceiveLoops must be 1 to 1024; one per processor (the default) is usually right.");
        }
        if (ConnectionIdLength is { } cidLength && cidLength != 0
            && cidLength is < MinServerConnectionIdLength or > MaxServerConnectionIdLength)
        {
            throw new ArgumentOutOfRangeException(nameof(ConnectionIdLength), cidLength,
                $"ConnectionIdLength must be null (no Connection ID), 0 (accept the extension with an empty CID) or {MinServerConnectionIdLength} to {MaxServerConnectionIdLength} bytes.");
        }
        if (MaxCachedSessions is < 1 or > MaxSessionCacheCapacity)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCachedSessions), MaxCachedSessions,
                $"MaxCachedSessions must be 1 to {MaxSessionCacheCapacity}; to turn resumption off set EnableSessionResumption = false.");
        }
        if (SessionLifetime <= TimeSpan.Zero || SessionLifetime > TimeSpan.FromHours(24))
        {
            throw new ArgumentOutOfRangeException(nameof(SessionLifetime), SessionLifetime,
                "SessionLifetime must be positive and at most 24 hours (RFC 5246 §7.4.1.2).");
        }
        RequirePositive(SessionTicketKeyRotation, nameof(SessionTicketKeyRotation));
        for (var i = 0; i < SessionTicketKeys.Count; i++)
        {
            if (SessionTicketKeys[i] is not { Length: 48 })
            {
                throw new ArgumentException(
                    $"SessionTicketKeys[{i}] must be 48 bytes: a 16-byte key name, then a 32-byte AES-256 key (RandomNumberGenerator.GetBytes(48)).");
            }
        }
        if (!Enum.IsDefined(ReceiveStrategy))
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveStrategy), ReceiveStrategy, "Unknown DtlsReceiveStrategy.");
        }
        if (Cluster is { } cluster)
        {
            cluster.Validate(ConnectionIdNode, ConnectionIdLength);
            if (SessionTicketKeys.Count > 0)
            {
                throw new ArgumentException(
                    "A cluster node takes its session ticket keys from the cluster's keys (DtlsClusterOptions.Keys or KeyFile): leave SessionTicketKeys empty.");
            }
        }
    }
}
