using HotDtls.Crypto;
using HotDtls.Transport;

namespace HotDtls.Connection;

/// <summary>
/// What every connection of one engine (or one client) shares: options, where datagrams go, the scratch buffer
/// records are built in, who is told about events, the random source, and on a server the identity hint and the
/// stand-in key. A connection holds one reference to this instead of one per item (issue 4: memory per session).
/// </summary>
internal sealed class ConnectionServices
{
    public ConnectionServices(DtlsOptions options, IDatagramSender sender, byte[] scratch, IConnectionObserver observer,
        IRandomSource random, byte[]? identityHint = null, StandInKey? standInKey = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(scratch);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(random);
        Options = options;
        Sender = sender;
        Scratch = scratch;
        Observer = observer;
        Random = random;
        IdentityHint = identityHint;
        StandInKey = standInKey;
    }

    public DtlsOptions Options { get; }

    public IDatagramSender Sender { get; }

    /// <summary>Where records are built before they are sent; used under the owner's lock, never kept.</summary>
    public byte[] Scratch { get; }

    public IConnectionObserver Observer { get; }

    public IRandomSource Random { get; }

    /// <summary>Server: the psk_identity_hint sent in ServerKeyExchange (UTF-8), or null to send none.</summary>
    public byte[]? IdentityHint { get; }

    /// <summary>Server: the key unknown identities are answered with (RFC 4279 §2); null on a client.</summary>
    public StandInKey? StandInKey { get; }
}
