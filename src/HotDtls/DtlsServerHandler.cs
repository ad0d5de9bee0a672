namespace HotDtls;

/// <summary>
/// What a <see cref="DtlsServer"/> tells the application. The methods run on the server's receive loop or its
/// timer, one at a time, never concurrently: keep them short and never block. <see cref="DtlsSession.Send"/> may
/// be called from inside them. An exception thrown here is logged and does not affect the server.
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
    /// <param name="ciphertext">
    /// The protected record as received (header included) when <see cref="DtlsServerOptions.CaptureCiphertext"/>
    /// is on; otherwise empty.
    /// </param>
    public abstract void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ciphertext);

    /// <summary>The session ended; it can no longer send.</summary>
    /// <param name="session">The session that ended.</param>
    /// <param name="reason">Why it ended.</param>
    public virtual void OnSessionClosed(DtlsSession session, DtlsCloseReason reason)
    {
    }
}
