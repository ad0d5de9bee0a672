using System.Net;

namespace HotDtls;

/// <summary>
/// What a <see cref="DtlsSession"/> needs from the association behind it. The server's connections implement it,
/// so the public session depends on this interface and not on the engine: the public vocabulary stays below the
/// implementation (docs/design.md, the dependency rule).
/// </summary>
internal interface ISessionChannel
{
    /// <summary>The peer's address and port as a new <see cref="IPEndPoint"/> (made when the application asks).</summary>
    IPEndPoint CreateRemoteEndPoint();

    CipherSuite? NegotiatedSuite { get; }

    bool UsesExtendedMasterSecret { get; }

    /// <summary>Whether the peer's records carry a CID this server issued (the session can follow the peer's moves).</summary>
    bool HasConnectionId { get; }
    /// <summary>Whether the session was resumed with the abbreviated handshake.</summary>
    bool IsResumed { get; }

    /// <summary>The psk_identity the client sent (empty until its ClientKeyExchange).</summary>
    byte[] PskIdentity { get; }

    bool IsEstablished { get; }

    /// <summary>Whether the association has ended.</summary>
    bool IsClosed { get; }

    /// <summary>The largest datagram one record carries: 2^14, or the limit the peer negotiated (RFC 8449, RFC 6066 §4).</summary>
    int MaxSendSize { get; }

    /// <summary>Whether <see cref="MaxSendSize"/> is below 2^14 because the peer asked for it.</summary>
    bool PeerLimitsRecordSize { get; }

    /// <summary>Protects and sends one datagram under the owner's lock; false if the session cannot send.</summary>
    bool TrySend(ReadOnlySpan<byte> datagram);

    /// <summary>Sends close_notify (if established) and closes, under the owner's lock.</summary>
    void Close();
}
