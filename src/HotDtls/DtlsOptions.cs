using System.Net;

namespace HotDtls;

/// <summary>Settings that the server and the client share: suites, MTU, timers and memory caps.</summary>
public abstract class DtlsOptions
{
    /// <summary>The default <see cref="Mtu"/>: fits IPv6's minimum MTU (1280) minus IP and UDP headers.</summary>
    public const int DefaultMtu = 1200;

    /// <summary>Cipher suites, most preferred first. Default: AES-128-GCM, then AES-256-GCM.</summary>
    public IList<CipherSuite> CipherSuites { get; } =
        [CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384];

    /// <summary>
    /// Largest datagram HotDtls sends during the handshake, in bytes of UDP payload (256 to 65507): handshake
    /// messages that do not fit are fragmented (RFC 6347 §4.2.3). Application data is not cut to it: a datagram
    /// of up to <see cref="DtlsSession.MaxDatagramSize"/> bytes goes out as one record, and one larger than the path
    /// MTU relies on IP fragmentation — keep application datagrams within the path MTU where that matters.
    /// </summary>
    public int Mtu { get; set; } = DefaultMtu;

    /// <summary>First handshake retransmission timeout (RFC 6347 §4.2.4.1 recommends 1 s); it doubles on each retransmission.</summary>
    public TimeSpan InitialRetransmitTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of the doubling retransmission timeout (RFC 6347 §4.2.4.1: 60 s).</summary>
    public TimeSpan MaxRetransmitTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A handshake not finished within this time is abandoned and its state freed.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Refuse peers that do not offer the extended master secret (RFC 7627). Off by default because some
    /// constrained devices lack it; it is always used when the peer offers it.
    /// </summary>
    public bool RequireExtendedMasterSecret { get; set; }

    /// <summary>Largest handshake message accepted from a peer, in bytes (cap against memory exhaustion).</summary>
    public int MaxHandshakeMessageLength { get; set; } = 8192;

    /// <summary>Most bytes of out-of-order handshake fragments kept for one peer.</summary>
    public int MaxReassemblyBytes { get; set; } = 16384;

    /// <summary>The clock for timers; tests pass a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    internal void Validate()
    {
        if (CipherSuites.Count == 0)
        {
            throw new ArgumentException("CipherSuites is empty: name at least one suite, for example TLS_PSK_WITH_AES_128_GCM_SHA256.");
        }
        foreach (var suite in CipherSuites)
        {
            if (suite is not (CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 or CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384))
            {
                throw new ArgumentException($"Cipher suite 0x{(ushort)suite:X4} is not supported; use the members of the CipherSuite enum.");
            }
        }
        if (Mtu is < 256 or > 65507)
        {
            throw new ArgumentOutOfRangeException(nameof(Mtu), Mtu, "Mtu must be between 256 and 65507 bytes.");
        }
        RequirePositive(InitialRetransmitTimeout, nameof(InitialRetransmitTimeout));
        RequirePositive(HandshakeTimeout, nameof(HandshakeTimeout));
        if (MaxRetransmitTimeout < InitialRetransmitTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetransmitTimeout), MaxRetransmitTimeout,
                "MaxRetransmitTimeout must not be less than InitialRetransmitTimeout.");
        }
        if (MaxHandshakeMessageLength is < 256 or > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxHandshakeMessageLength), MaxHandshakeMessageLength,
                "MaxHandshakeMessageLength must be between 256 and 65536 bytes.");
        }
        if (MaxReassemblyBytes < MaxHandshakeMessageLength)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReassemblyBytes), MaxReassemblyBytes,
                "MaxReassemblyBytes must be at least MaxHandshakeMessageLength.");
        }
        ArgumentNullException.ThrowIfNull(TimeProvider);
    }

    private protected static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
        }
    }
}

/// <summary>Settings of a <see cref="DtlsServer"/>.</summary>
public sealed class DtlsServerOptions : DtlsOptions
{
    /// <summary>The default port of the Qt DTLS example server, which HotDtls keeps.</summary>
    public const int DefaultPort = 22334;

    /// <summary>Where the server listens: IPv4 or IPv6. Default 127.0.0.1:22334. Port 0 picks a free port.</summary>
    public IPEndPoint EndPoint { get; set; } = new(IPAddress.Loopback, DefaultPort);

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
    /// An established session that seals and opens no record for this long releases its AES-GCM objects (≈ 2 KB of
    /// native memory per direction) and keeps only the key bytes; its next record recreates them (≈ 1–2 µs). The
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

    /// <summary>
    /// Keep a copy of each application-data record's ciphertext and pass it to
    /// <see cref="DtlsServerHandler.OnDatagram"/> (the Qt example prints it). Off by default: it costs a copy.
    /// </summary>
    public bool CaptureCiphertext { get; set; }

    internal void ValidateServer()
    {
        Validate();
        ArgumentNullException.ThrowIfNull(EndPoint);
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
        if (!Enum.IsDefined(ReceiveStrategy))
        {
            throw new ArgumentOutOfRangeException(nameof(ReceiveStrategy), ReceiveStrategy, "Unknown DtlsReceiveStrategy.");
        }
    }
}

/// <summary>Settings of a <see cref="DtlsClient"/>.</summary>
public sealed class DtlsClientOptions : DtlsOptions
{
    /// <summary>The psk_identity sent in ClientKeyExchange (UTF-8, at most 65535 bytes).</summary>
    public string PskIdentity { get; set; } = "";

    /// <summary>The pre-shared key, 1 to 64 bytes. Required.</summary>
    public byte[]? PskKey { get; set; }

    /// <summary>
    /// The local address and port to send from; <see langword="null"/> (the default) lets the operating system pick
    /// them. Set it to come back from the same address and port as an earlier client, as a device does after a
    /// reboot (RFC 6347 §4.2.8: the server replaces the old session once the new handshake completes). Its address
    /// family must match the server's.
    /// </summary>
    public IPEndPoint? LocalEndPoint { get; set; }

    internal void ValidateClient()
    {
        Validate();
        if (PskKey is null)
        {
            throw new ArgumentException("DtlsClientOptions.PskKey is required (1 to 64 bytes).");
        }
        _ = HotDtls.PskStore.ValidateKey(PskKey);
        ArgumentNullException.ThrowIfNull(PskIdentity);
        if (System.Text.Encoding.UTF8.GetByteCount(PskIdentity) > 65535)
        {
            throw new ArgumentException("PskIdentity must fit in 65535 bytes of UTF-8.");
        }
    }

    internal void ValidateLocalEndPoint(IPEndPoint remote)
    {
        if (LocalEndPoint is { } local && local.AddressFamily != remote.AddressFamily)
        {
            throw new ArgumentException(
                $"LocalEndPoint {local} is {local.AddressFamily} but the server {remote} is {remote.AddressFamily}: use addresses of one family.");
        }
    }
}
