using System.Net;
using System.Runtime.CompilerServices;

namespace HotDtls;

/// <summary>
/// One peer of a <see cref="DtlsServer"/>: who it is, what was negotiated, and how to answer it.
/// Thread-safe: <see cref="Send"/> and <see cref="TrySend"/> may be called from the handler or from any thread.
/// </summary>
public sealed class DtlsSession
{
    /// <summary>The DTLS plaintext limit, 2^14 bytes (RFC 6347 §4.1, RFC 5246 §6.2.1).</summary>
    internal const int MaxPlaintextLength = 16384;

    private readonly ISessionChannel _channel;
    private string? _identity;
    // Made on first use from the connection's SocketAddress: most idle sessions are never asked, and an IPEndPoint
    // with its IPAddress would be a large part of an idle session (memory per session: docs/design.md).
    private IPEndPoint? _remoteEndPoint;

    internal DtlsSession(ISessionChannel channel)
    {
        _channel = channel;
    }

    /// <summary>The association behind this session (for tests).</summary>
    internal ISessionChannel Channel => _channel;

    /// <summary>
    /// The peer's address and port. A session that negotiated a Connection ID (RFC 9146) follows its peer to a new
    /// address or port (NAT rebinding); this then tells the new one.
    /// </summary>
    /// <remarks>Two threads asking at once may each make one; they are equal, and either is kept.</remarks>
    public IPEndPoint RemoteEndPoint => _remoteEndPoint ??= _channel.CreateRemoteEndPoint();

    /// <summary>The peer moved (a CID session): the next <see cref="RemoteEndPoint"/> is made from the new address.</summary>
    internal void OnPeerMoved() => _remoteEndPoint = null;

    /// <summary>The negotiated cipher suite, once the ServerHello is sent; <see langword="null"/> before.</summary>
    public CipherSuite? CipherSuite => _channel.NegotiatedSuite;

    /// <summary>Whether the extended master secret (RFC 7627) protects this session.</summary>
    public bool UsesExtendedMasterSecret => _channel.UsesExtendedMasterSecret;

    /// <summary>
    /// Whether the client's records carry a Connection ID this server issued (RFC 9146): the session then follows the
    /// client to a new address or port (<see cref="RemoteEndPoint"/> changes).
    /// </summary>
    public bool UsesConnectionId => _channel.HasConnectionId;

    /// <summary>
    /// Whether the client resumed a cached session (the abbreviated handshake of RFC 5246 §7.3,
    /// <see cref="DtlsServerOptions.EnableSessionResumption"/>) instead of running a full handshake.
    /// </summary>
    public bool IsResumed => _channel.IsResumed;

    /// <summary>The PSK identity the client presented (UTF-8 decoded), or empty before its ClientKeyExchange.</summary>
    public string PskIdentity => _identity ??= _channel.PskIdentity.Length == 0
        ? string.Empty
        : System.Text.Encoding.UTF8.GetString(_channel.PskIdentity);

    /// <summary>The PSK identity as the raw bytes the client sent.</summary>
    public ReadOnlyMemory<byte> PskIdentityBytes => _channel.PskIdentity;

    /// <summary>Whether the handshake has finished and the session is still open: only then can it send.</summary>
    public bool IsEstablished => _channel.IsEstablished;

    /// <summary>
    /// The largest datagram <see cref="Send"/> takes, in bytes: the DTLS plaintext limit, 2^14, or less when the client
    /// limited the records it receives (record_size_limit, RFC 8449; max_fragment_length, RFC 6066 §4). A datagram is
    /// one record and is never split. Known once the ServerHello is sent.
    /// </summary>
    public int MaxSendSize => _channel.MaxSendSize;

    /// <summary>The largest datagram the handler can receive from this peer, in bytes (the DTLS plaintext limit, 2^14).</summary>
    public int MaxReceiveSize => MaxPlaintextLength;

    /// <summary>Sends <paramref name="datagram"/> as one protected application-data record.</summary>
    /// <exception cref="ArgumentException">The datagram is longer than <see cref="MaxSendSize"/>.</exception>
    /// <exception cref="DtlsException">
    /// The session cannot send: <see cref="DtlsExceptionReason.NotEstablished"/> during the handshake,
    /// <see cref="DtlsExceptionReason.SessionClosed"/> once it has ended.
    /// </exception>
    public void Send(ReadOnlySpan<byte> datagram)
    {
        if (!TrySend(datagram))
        {
            ThrowCannotSend();
        }
    }

    /// <summary>Sends <paramref name="datagram"/> as one protected application-data record, if the session can send.</summary>
    /// <returns><see langword="false"/> if the session is not established or already closed.</returns>
    /// <exception cref="ArgumentException">The datagram is longer than <see cref="MaxSendSize"/>.</exception>
    public bool TrySend(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > _channel.MaxSendSize)
        {
            ThrowTooLarge(datagram.Length);
        }
        return _channel.TrySend(datagram);
    }

    /// <summary>Sends close_notify (if established) and forgets the session.</summary>
    public void Close() => _channel.Close();

    /// <inheritdoc/>
    public override string ToString() => RemoteEndPoint.ToString();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowCannotSend()
        => throw (_channel.IsClosed
            ? new DtlsException($"The DTLS session with {RemoteEndPoint} is closed: it can no longer send.", DtlsExceptionReason.SessionClosed)
            : new DtlsException($"The DTLS session with {RemoteEndPoint} is not established yet: send from OnSessionEstablished or later.", DtlsExceptionReason.NotEstablished));

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowTooLarge(int length)
        => throw new ArgumentException(TooLargeMessage(length, _channel.MaxSendSize, _channel.PeerLimitsRecordSize), "datagram");

    /// <summary>Why a datagram is refused: the limit, and who set it (the protocol or the peer).</summary>
    internal static string TooLargeMessage(int length, int limit, bool peerSetIt)
        => peerSetIt
            ? $"This datagram has {length} bytes, but the peer limited every record it receives to {limit} bytes of plaintext "
                + $"(record_size_limit or max_fragment_length), so MaxSendSize is {limit}. A datagram is one record and is never split: send it in parts."
            : $"A DTLS datagram carries at most {limit} bytes (MaxSendSize); this one has {length}. Split it.";
}
