using System.Buffers.Binary;
using System.Security.Cryptography;

namespace HotDtls;

/// <summary>
/// A client's DTLS session kept for resumption (RFC 5246 §7.3, the abbreviated handshake): take it from an
/// established <see cref="DtlsClient"/> with <see cref="DtlsClient.SaveSession"/>, then set it as
/// <see cref="DtlsClientOptions.Session"/> of the next connection to the same server. If the server still has the
/// session, that handshake skips the key exchange (one round trip less; <see cref="DtlsClient.IsResumed"/> tells);
/// otherwise it runs a full handshake as usual.
/// </summary>
/// <remarks>
/// <b>This object holds the session's master secret.</b> Whoever has it can decrypt and forge that session's traffic
/// and resume it: keep it, and anything <see cref="Export"/> writes, as carefully as the PSK itself. <see cref="Dispose"/>
/// zeroes the secret; a disposed session is simply not offered. A session is resumed only under the PSK identity it
/// was made with: a client whose <see cref="DtlsClientOptions.PskIdentity"/> differs does not offer it.
/// Thread-safe.
/// </remarks>
public sealed class DtlsSavedSession : IDisposable
{
    private const byte FormatVersion = 1;
    private const int MasterSecretLength = 48;
    private const int MaxSessionIdLength = 32;

    private readonly Lock _lock = new();
    private readonly byte[] _sessionId;
    private readonly byte[] _masterSecret;
    private readonly byte[] _pskIdentity;
    private readonly byte[] _ticket;
    private bool _disposed;

    internal DtlsSavedSession(ReadOnlySpan<byte> sessionId, CipherSuite cipherSuite, bool extendedMasterSecret,
        ReadOnlySpan<byte> masterSecret, ReadOnlySpan<byte> pskIdentity, ReadOnlySpan<byte> ticket = default)
    {
        if (sessionId.Length > MaxSessionIdLength || (sessionId.IsEmpty && ticket.IsEmpty) || ticket.Length > ushort.MaxValue
            || pskIdentity.Length > ushort.MaxValue || masterSecret.Length != MasterSecretLength)
        {
            throw new ArgumentException("A saved session needs a session_id (1 to 32 bytes) or a ticket, and a 48-byte master secret.");
        }
        _ticket = ticket.ToArray();
        _sessionId = sessionId.ToArray();
        _masterSecret = masterSecret.ToArray();
        _pskIdentity = pskIdentity.ToArray();
        CipherSuite = cipherSuite;
        UsesExtendedMasterSecret = extendedMasterSecret;
    }

    /// <summary>The session's cipher suite: a resumed session keeps it, so the client must still offer it.</summary>
    public CipherSuite CipherSuite { get; }

    /// <summary>Whether the session was made with the extended master secret (RFC 7627); a resumption must agree.</summary>
    public bool UsesExtendedMasterSecret { get; }

    /// <summary>The PSK identity the session was made with (UTF-8 decoded).</summary>
    public string PskIdentity => System.Text.Encoding.UTF8.GetString(_pskIdentity);

    /// <summary>Whether <see cref="Dispose"/> has zeroed the secret (the session can no longer be offered).</summary>
    public bool IsDisposed
    {
        get
        {
            lock (_lock)
            {
                return _disposed;
            }
        }
    }

    /// <summary>Whether the session is an RFC 5077 ticket (the server keeps nothing) rather than a server-cached session_id.</summary>
    public bool HasTicket => _ticket.Length > 0;

    internal ReadOnlySpan<byte> SessionId => _sessionId;

    internal ReadOnlySpan<byte> Ticket => _ticket;

    internal ReadOnlySpan<byte> PskIdentityBytes => _pskIdentity;

    /// <summary>Copies the master secret out, unless disposed.</summary>
    internal bool TryCopyMasterSecret(Span<byte> destination)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return false;
            }
            _masterSecret.CopyTo(destination);
            return true;
        }
    }

    /// <summary>
    /// Writes the session out so that a device can keep it across a restart or a sleep: <see cref="Import"/> reads it
    /// back. <b>The bytes contain the master secret</b>: store them as a key is stored, and zero them when done.
    /// </summary>
    /// <remarks>
    /// Format (version 1): <c>version(1) = 1 | cipher_suite(2) | flags(1, bit 0: extended master secret) |
    /// session_id&lt;0..32&gt; | master_secret(48) | psk_identity&lt;0..2^16-1&gt; | ticket&lt;0..2^16-1&gt;</c>,
    /// big-endian lengths; a session_id or a ticket, or both, is present.
    /// </remarks>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public byte[] Export()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var bytes = new byte[1 + 2 + 1 + 1 + _sessionId.Length + MasterSecretLength + 2 + _pskIdentity.Length + 2 + _ticket.Length];
            var offset = 0;
            bytes[offset++] = FormatVersion;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(offset), (ushort)CipherSuite);
            offset += 2;
            bytes[offset++] = UsesExtendedMasterSecret ? (byte)1 : (byte)0;
            bytes[offset++] = (byte)_sessionId.Length;
            _sessionId.CopyTo(bytes, offset);
            offset += _sessionId.Length;
            _masterSecret.CopyTo(bytes, offset);
            offset += MasterSecretLength;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(offset), (ushort)_pskIdentity.Length);
            offset += 2;
            _pskIdentity.CopyTo(bytes, offset);
            offset += _pskIdentity.Length;
            BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(offset), (ushort)_ticket.Length);
            _ticket.CopyTo(bytes, offset + 2);
            return bytes;
        }
    }

    /// <summary>Reads a session written by <see cref="Export"/>.</summary>
    /// <exception cref="ArgumentException">The bytes are not an exported session of a format this version reads.</exception>
    public static DtlsSavedSession Import(ReadOnlySpan<byte> exported)
    {
        const string Malformed = "These bytes are not a session written by DtlsSavedSession.Export (or come from a newer format).";
        if (exported.Length < 5 || exported[0] != FormatVersion || exported[3] > 1)
        {
            throw new ArgumentException(Malformed, nameof(exported));
        }
        var suite = (CipherSuite)BinaryPrimitives.ReadUInt16BigEndian(exported[1..]);
        var extendedMasterSecret = exported[3] == 1;
        int idLength = exported[4];
        var rest = exported[5..];
        if (!Enum.IsDefined(suite) || idLength > MaxSessionIdLength || rest.Length < idLength + MasterSecretLength + 2)
        {
            throw new ArgumentException(Malformed, nameof(exported));
        }
        var sessionId = rest[..idLength];
        var masterSecret = rest.Slice(idLength, MasterSecretLength);
        rest = rest[(idLength + MasterSecretLength)..];
        int identityLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
        if (rest.Length < 2 + identityLength + 2)
        {
            throw new ArgumentException(Malformed, nameof(exported));
        }
        var identity = rest.Slice(2, identityLength);
        rest = rest[(2 + identityLength)..];
        int ticketLength = BinaryPrimitives.ReadUInt16BigEndian(rest);
        if (rest.Length != 2 + ticketLength || (idLength == 0 && ticketLength == 0))
        {
            throw new ArgumentException(Malformed, nameof(exported));
        }
        return new DtlsSavedSession(sessionId, suite, extendedMasterSecret, masterSecret, identity, rest[2..]);
    }

    /// <summary>Zeroes the master secret; the session is no longer offered.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            CryptographicOperations.ZeroMemory(_masterSecret);
            _disposed = true;
        }
    }
}
