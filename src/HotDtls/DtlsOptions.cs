using System.Net;

namespace HotDtls;

/// <summary>Settings that the server and the client share: suites, MTU, timers and memory caps.</summary>
public abstract class DtlsOptions
{
    /// <summary>The default <see cref="Mtu"/>: fits IPv6's minimum MTU (1280) minus IP and UDP headers.</summary>
    public const int DefaultMtu = 1200;

    /// <summary>
    /// Cipher suites, most preferred first: a server picks the first of these the client offers (its own preference,
    /// not the client's); a client offers them in this order. Default: every suite, forward-secret ECDHE_PSK before
    /// plain PSK, AES-GCM and ChaCha20-Poly1305 before AES-CCM, the CBC suites (only ever with encrypt_then_mac) last —
    /// <see cref="DefaultCipherSuites"/>; docs/design.md gives the reasons and the cost of each.
    /// </summary>
    public IList<CipherSuite> CipherSuites { get; } = [.. DefaultCipherSuites];

    /// <summary>The default <see cref="CipherSuites"/>, most preferred first.</summary>
    public static IReadOnlyList<CipherSuite> DefaultCipherSuites { get; } =
    [
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
        CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM,
        CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
        CipherSuite.TLS_PSK_WITH_AES_256_CCM_8,
        CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256,
        CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256,
    ];

    /// <summary>
    /// Groups for the ECDHE_PSK suites, most preferred first: a server picks the first of these the client supports; a
    /// client offers them in this order (supported_groups, RFC 8422 §5.1.1). Default: X25519, then secp256r1. Must not
    /// be empty while <see cref="CipherSuites"/> names an ECDHE_PSK suite.
    /// </summary>
    public IList<NamedGroup> NamedGroups { get; } = [NamedGroup.X25519, NamedGroup.Secp256r1];

    /// <summary>
    /// Largest datagram HotDtls sends during the handshake, in bytes of UDP payload (256 to 65507): handshake
    /// messages that do not fit are fragmented (RFC 6347 §4.2.3). Application data is not cut to it: a datagram
    /// of up to <see cref="DtlsSession.MaxSendSize"/> bytes goes out as one record, and one larger than the path
    /// MTU relies on IP fragmentation — keep application datagrams within the path MTU where that matters.
    /// </summary>
    public int Mtu { get; set; } = DefaultMtu;

    /// <summary>
    /// The largest plaintext this side accepts in one protected record, announced in the record_size_limit extension
    /// (RFC 8449), 64 to 16384 bytes; <see langword="null"/> (the default) announces nothing. A client announces it in
    /// its ClientHello; a server always answers a client that sent the extension, with this value or 16384. When the
    /// peer took part, a protected record above the limit ends the session with record_overflow, and what this side
    /// sends is limited by the peer's value in turn (<see cref="DtlsSession.MaxSendSize"/>, <see cref="DtlsClient.MaxSendSize"/>).
    /// Constrained devices set it to what their receive buffer holds.
    /// </summary>
    public int? RecordSizeLimit { get; set; }

    /// <summary>The smallest <see cref="RecordSizeLimit"/> (RFC 8449 §4).</summary>
    public const int MinRecordSizeLimit = 64;

    /// <summary>The largest <see cref="RecordSizeLimit"/>: DTLS 1.2's plaintext limit, 2^14.</summary>
    public const int MaxRecordSizeLimit = 16384;

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

    /// <summary>
    /// Where the <c>HotDtls</c> meter comes from (docs/operations.md, "Metrics"), typically the host's
    /// <see cref="System.Diagnostics.Metrics.IMeterFactory"/> from dependency injection; <see langword="null"/> (the
    /// default) makes a meter of the server's or client's own, disposed with it. The instruments cost nothing on the
    /// datagram path while nobody listens.
    /// </summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// The AppContext switch that must be on before <see cref="KeyLogPath"/> is honoured:
    /// <c>AppContext.SetSwitch("HotDtls.EnableKeyLogging", true)</c> in code, or
    /// <c>&lt;RuntimeHostConfigurationOption Include="HotDtls.EnableKeyLogging" Value="true" /&gt;</c> in the project.
    /// </summary>
    public const string KeyLoggingSwitch = "HotDtls.EnableKeyLogging";

    /// <summary>
    /// A file to append the NSS key log to (the SSLKEYLOGFILE format Wireshark reads): one line per session,
    /// <c>CLIENT_RANDOM &lt;client random&gt; &lt;master secret&gt;</c>, written as the handshake derives its keys — full and
    /// resumed handshakes alike. <see langword="null"/> (the default) writes nothing.
    /// <para>
    /// Whoever reads this file can decrypt every session logged in it, so it is for debugging only and needs two
    /// deliberate steps, as .NET's own SSLKEYLOGFILE support does: this property, and the
    /// <see cref="KeyLoggingSwitch"/> AppContext switch. Without the switch the options are refused (an
    /// <see cref="ArgumentException"/> from the <see cref="DtlsServer"/> constructor or
    /// <see cref="DtlsClient.ConnectAsync"/>). With both, a warning is logged when the file is opened
    /// (<see cref="DtlsServer.StartAsync"/>, <see cref="DtlsClient.ConnectAsync"/>, which throw <see cref="IOException"/>
    /// if it cannot be). Write failures never end a session; they are logged once.
    /// </para>
    /// </summary>
    public string? KeyLogPath { get; set; }

    internal void Validate()
    {
        ValidateKeyLog();
        if (CipherSuites.Count == 0)
        {
            throw new ArgumentException("CipherSuites is empty: name at least one suite, for example TLS_PSK_WITH_AES_128_GCM_SHA256.");
        }
        var needsGroups = false;
        for (var i = 0; i < CipherSuites.Count; i++)
        {
            var suite = CipherSuites[i];
            if (!Enum.IsDefined(suite))
            {
                throw new ArgumentException($"Cipher suite 0x{(ushort)suite:X4} is not supported; use the members of the CipherSuite enum.");
            }
            if (CipherSuites.IndexOf(suite) != i)
            {
                throw new ArgumentException($"CipherSuites names {suite} twice; name each suite once, most preferred first.");
            }
            // The IANA name says the key exchange (the provider table sits below this layer).
            needsGroups |= suite.ToString().StartsWith("TLS_ECDHE_PSK_", StringComparison.Ordinal);
        }
        for (var i = 0; i < NamedGroups.Count; i++)
        {
            var group = NamedGroups[i];
            if (group is not (NamedGroup.X25519 or NamedGroup.Secp256r1))
            {
                throw new ArgumentException($"Named group {(ushort)group} is not supported; use X25519 or Secp256r1.");
            }
            if (NamedGroups.IndexOf(group) != i)
            {
                throw new ArgumentException($"NamedGroups names {group} twice; name each group once, most preferred first.");
            }
        }
        if (needsGroups && NamedGroups.Count == 0)
        {
            throw new ArgumentException(
                "NamedGroups is empty but CipherSuites names ECDHE_PSK suites: add X25519 or Secp256r1, or remove the ECDHE_PSK suites.");
        }
        if (Mtu is < 256 or > 65507)
        {
            throw new ArgumentOutOfRangeException(nameof(Mtu), Mtu, "Mtu must be between 256 and 65507 bytes.");
        }
        if (RecordSizeLimit is < MinRecordSizeLimit or > MaxRecordSizeLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(RecordSizeLimit), RecordSizeLimit,
                $"RecordSizeLimit must be null (not announced) or {MinRecordSizeLimit} to {MaxRecordSizeLimit} bytes of plaintext per record (RFC 8449).");
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

    private void ValidateKeyLog()
    {
        if (KeyLogPath is null)
        {
            return;
        }
        if (KeyLogPath.Length == 0)
        {
            throw new ArgumentException("KeyLogPath is empty: name a file, or leave it null to log no keys.");
        }
        if (!AppContext.TryGetSwitch(KeyLoggingSwitch, out var enabled) || !enabled)
        {
            throw new ArgumentException(
                $"KeyLogPath is set, but key logging is not enabled. The key log holds every session's master secret: " +
                $"anyone who reads it can decrypt the traffic, so it is for debugging only. To use it anyway, also set the " +
                $"AppContext switch {KeyLoggingSwitch} (AppContext.SetSwitch(\"{KeyLoggingSwitch}\", true) before creating " +
                $"the server or client); otherwise leave KeyLogPath null.");
        }
    }

    private protected static void RequirePositive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
        }
    }
}
