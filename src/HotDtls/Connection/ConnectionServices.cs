using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Transport;
using Microsoft.Extensions.ObjectPool;

namespace HotDtls.Connection;

/// <summary>
/// What every connection of one engine (or one client) shares: options, the lock that serialises them, where
/// datagrams go, the scratch buffer records are built in, who is told about events, the random source, the pool of
/// handshake contexts, and on a server the encoded ServerKeyExchange and the stand-in key. A connection holds one
/// reference to this instead of one per item (memory per session: docs/design.md).
/// </summary>
internal sealed class ConnectionServices
{
    public ConnectionServices(DtlsOptions options, Lock gate, IDatagramSender sender, byte[] scratch,
        IConnectionObserver observer, IRandomSource random, ObjectPool<HandshakeContext>? handshakePool = null,
        byte[]? identityHint = null, StandInKey? standInKey = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (gate is null)
        {
            throw new ArgumentNullException(nameof(gate));
        }
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(random);
        Options = options;
        Gate = gate;
        Sender = sender;
        Scratch = scratch;
        Observer = observer;
        Random = random;
        HandshakePool = handshakePool;
        StandInKey = standInKey;
        IdentityHint = identityHint ?? [];
        if (identityHint is not null)
        {
            // Fixed per engine: encoded once, copied into each flight 4.
            ServerKeyExchangeBody = new byte[2 + identityHint.Length];
            ServerKeyExchangePsk.Write(ServerKeyExchangeBody, identityHint);
        }
    }

    public DtlsOptions Options { get; }

    /// <summary>Serialises the engine (or client) and all its connections; held for every call into them.</summary>
    public Lock Gate { get; }

    public IDatagramSender Sender { get; }

    /// <summary>Where records are built before they are sent; used under <see cref="Gate"/>, never kept.</summary>
    public byte[] Scratch { get; }

    public IConnectionObserver Observer { get; }

    public IRandomSource Random { get; }

    /// <summary>Where handshake contexts come from and go back to; null: each handshake makes its own.</summary>
    public ObjectPool<HandshakeContext>? HandshakePool { get; }

    /// <summary>Server: the ServerKeyExchange body carrying the psk_identity_hint (RFC 4279 §2), or null to send none.</summary>
    public byte[]? ServerKeyExchangeBody { get; }

    /// <summary>Server: the psk_identity_hint bytes (empty without one), which an ECDHE_PSK ServerKeyExchange always carries.</summary>
    public byte[] IdentityHint { get; }

    /// <summary>Server: the key unknown identities are answered with (RFC 4279 §2); null on a client.</summary>
    public StandInKey? StandInKey { get; }

    /// <summary>
    /// Server: the session-ID cache shared by every loop of the server (RFC 5246 §7.3), or null when
    /// <see cref="DtlsServerOptions.EnableSessionResumption"/> is off: then no session_id is issued and none resumed.
    /// </summary>
    public SessionCache? SessionCache { get; init; }

    /// <summary>
    /// Server: seals and opens RFC 5077 session tickets (shared by every loop), or null when
    /// <see cref="DtlsServerOptions.EnableSessionTickets"/> is off.
    /// </summary>
    public SessionTicketProtector? Tickets { get; init; }

    /// <summary>
    /// The NSS key log (<see cref="DtlsOptions.KeyLogPath"/>), or null, the default: written once per handshake as the
    /// master secret is derived, never on the per-datagram path.
    /// </summary>
    public Diagnostics.KeyLogWriter? KeyLog { get; init; }

    /// <summary>Set when the owner is disposed: connections refuse to send from then on.</summary>
    public bool IsShutDown { get; set; }

    /// <summary>Datagrams the engine's connections did not send because a moved peer's unproven address had too little credit.</summary>
    public long DatagramsWithheld { get; set; }

    /// <summary>Server: the CIDs the engine's connections issue (RFC 9146), or null when they issue none.</summary>
    public ConnectionIdTable? ConnectionIds { get; set; }

    /// <summary>A context for a new handshake that must finish by <paramref name="deadlineMs"/>.</summary>
    public HandshakeContext RentHandshake(long deadlineMs)
    {
        var context = HandshakePool?.Get() ?? new HandshakeContext(Options);
        // A high-resolution stamp (the millisecond clock is too coarse for a 100 µs handshake); read once per handshake.
        context.Begin(deadlineMs, Options.TimeProvider.GetTimestamp());
        return context;
    }

    /// <summary>Gives a finished handshake's context back: reset into the pool, or disposed.</summary>
    public void ReturnHandshake(HandshakeContext context)
    {
        if (HandshakePool is { } pool)
        {
            pool.Return(context);
        }
        else
        {
            context.Dispose();
        }
    }
}
