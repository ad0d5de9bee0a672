using HotDtls.Handshake;

namespace HotDtls.Client;

/// <summary>What a <see cref="ClientEngine"/> tells its owner. Called under the engine's lock: keep it short.</summary>
internal interface IClientEvents
{
    /// <summary>The handshake finished: the engine can send.</summary>
    void OnEstablished();

    /// <summary>An authenticated datagram arrived; <paramref name="plaintext"/> is valid only during the call.</summary>
    void OnApplicationData(ReadOnlySpan<byte> plaintext);

    /// <summary>The association ended: why, the handshake error if one ended it, and the alert sent or received.</summary>
    void OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert);

    /// <summary>A record or message was discarded (RFC 6347 §4.1.2.7: silently, but counted).</summary>
    void OnDropped(DropReason reason);
}
