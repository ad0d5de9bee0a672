using System.Net;
using System.Runtime.CompilerServices;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Server;
using HotDtls.Transport;

namespace HotDtls;

/// <summary>
/// One peer of a <see cref="DtlsServer"/>: who it is, what was negotiated, and how to answer it.
/// Thread-safe: <see cref="Send"/> may be called from the handler or from any thread.
/// </summary>
public sealed class DtlsSession
{
    /// <summary>Largest payload of one datagram: the DTLS plaintext limit, 2^14 bytes (RFC 6347 §4.1).</summary>
    public const int MaxDatagramSize = 16384;

    private readonly ServerEngine _engine;
    private readonly ServerConnection _connection;
    private string? _identity;
    // Made on first use from the connection's SocketAddress: most idle sessions are never asked, and an IPEndPoint
    // with its IPAddress is ≈ 80 bytes each (issue 4: memory per session).
    private IPEndPoint? _remoteEndPoint;

    internal DtlsSession(ServerEngine engine, ServerConnection connection)
    {
        _engine = engine;
        _connection = connection;
    }

    /// <summary>The connection behind this session (for tests and the engine).</summary>
    internal ServerConnection Connection => _connection;

    /// <summary>The peer's address and port.</summary>
    /// <remarks>Two threads asking at once may each make one; they are equal, and either is kept.</remarks>
    public IPEndPoint RemoteEndPoint => _remoteEndPoint ??= _connection.Peer.ToEndPoint();

    /// <summary>The negotiated cipher suite, once the ServerHello is sent.</summary>
    public CipherSuite? CipherSuite => _connection.NegotiatedSuite;

    /// <summary>Whether the extended master secret (RFC 7627) protects this session.</summary>
    public bool UsesExtendedMasterSecret => _connection.UsesExtendedMasterSecret;

    /// <summary>The PSK identity the client presented (UTF-8 decoded), or empty before its ClientKeyExchange.</summary>
    public string PskIdentity => _identity ??= _connection.PskIdentity.Length == 0
        ? string.Empty
        : System.Text.Encoding.UTF8.GetString(_connection.PskIdentity);

    /// <summary>The PSK identity as the raw bytes the client sent.</summary>
    public ReadOnlyMemory<byte> PskIdentityBytes => _connection.PskIdentity;

    /// <summary>Whether the handshake has finished and the session is still open.</summary>
    public bool IsEstablished => _connection.IsEstablished;

    /// <summary>Sends <paramref name="datagram"/> as one protected application-data record.</summary>
    /// <returns><see langword="false"/> if the session is not established or already closed.</returns>
    /// <exception cref="ArgumentException">The datagram is longer than <see cref="MaxDatagramSize"/>.</exception>
    public bool Send(ReadOnlySpan<byte> datagram)
    {
        if (datagram.Length > MaxDatagramSize)
        {
            ThrowTooLarge(datagram.Length);
        }
        return _engine.Send(_connection, datagram);
    }

    /// <summary>Sends close_notify (if established) and forgets the session.</summary>
    public void Close() => _engine.CloseSession(_connection);

    /// <inheritdoc/>
    public override string ToString() => RemoteEndPoint.ToString();

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowTooLarge(int length)
        => throw new ArgumentException(
            $"A DTLS datagram carries at most {MaxDatagramSize} bytes; this one has {length}. Split it.", "datagram");
}
