namespace HotDtls;

/// <summary>
/// What a <see cref="DtlsServer"/> tells the application. The methods run on the server's receive loop or its
/// timer, one at a time per loop, never concurrently for one session: keep them short and never block.
/// <see cref="DtlsSession.Send"/> may be called from inside them. An exception thrown here is logged and does not
/// affect the server.
/// </summary>
public abstract class DtlsServerHandler
{
    /// <summary>A peer passed the cookie check and its handshake began.</summary>
    /// <param name="session">The new session (not yet usable for sending).</param>
    public virtual void OnHandshakeStarted(DtlsSession session)
    {
    }

    /// <summary>The handshake finished: <paramref name="session"/> can now send and receive.</summary>
    /// <param name="session">The established session.</param>
    public virtual void OnSessionEstablished(DtlsSession session)
    {
    }

    /// <summary>An authenticated application-data record arrived.</summary>
    /// <param name="session">The session it arrived on.</param>
    /// <param name="plaintext">The decrypted payload, a slice of the receive buffer: valid only during this call.</param>
    public abstract void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext);

    /// <summary>
    /// Whether the server calls <see cref="OnProtectedDatagram"/>. Read once, when the server starts. Off by default:
    /// seeing the protected bytes costs a call per datagram before decryption, which decrypts them in place.
    /// </summary>
    public virtual bool ObservesProtectedDatagrams => false;

    /// <summary>
    /// A datagram from an established session, as received, before it is authenticated and decrypted (only when
    /// <see cref="ObservesProtectedDatagrams"/> is true). For diagnostics, like the Qt example's printout of the
    /// ciphertext; it may carry several records, or ones that then fail authentication.
    /// </summary>
    /// <param name="session">The session whose peer sent it.</param>
    /// <param name="datagram">The whole UDP payload, valid only during this call.</param>
    public virtual void OnProtectedDatagram(DtlsSession session, ReadOnlySpan<byte> datagram)
    {
    }

    /// <summary>The session ended; it can no longer send.</summary>
    /// <param name="session">The session that ended.</param>
    /// <param name="reason">Why it ended.</param>
    public virtual void OnSessionClosed(DtlsSession session, DtlsCloseReason reason)
    {
    }
}
