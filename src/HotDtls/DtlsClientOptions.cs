using System.Net;
using Microsoft.Extensions.Logging;

namespace HotDtls;

/// <summary>Settings of a <see cref="DtlsClient"/>.</summary>
public sealed class DtlsClientOptions : DtlsOptions
{
    /// <summary>The psk_identity sent in ClientKeyExchange (UTF-8, at most 65535 bytes).</summary>
    public string PskIdentity { get; set; } = "";

    /// <summary>The pre-shared key, 1 to 64 bytes. Required.</summary>
    public byte[]? PskKey { get; set; }

    /// <summary>
    /// The local address and port to send from; <see langword="null"/> (the default) lets the operating system pick
    /// them. Set it to come back from the same address and port as an earlier client, as a device does after a
    /// reboot (RFC 6347 §4.2.8: the server replaces the old session once the new handshake completes). Its address
    /// family must match the server's.
    /// </summary>
    public IPEndPoint? LocalEndPoint { get; set; }

    /// <summary>The largest <see cref="ConnectionIdLength"/> a client may ask for.</summary>
    public const int MaxConnectionIdLength = 32;

    /// <summary>
    /// Connection ID (RFC 9146): offer the connection_id extension so the session survives a change of this client's
    /// address or port (NAT rebinding, a device waking behind a new port), asking for a CID of this many bytes in the
    /// records the server sends (0: the server's records need none, the usual choice; up to
    /// <see cref="MaxConnectionIdLength"/>). <see langword="null"/> (the default) does not offer the extension.
    /// </summary>
    public int? ConnectionIdLength { get; set; }

    /// <summary>
    /// A session saved from an earlier connection (<see cref="DtlsClient.SaveSession"/>) to resume (RFC 5246 §7.3):
    /// the ClientHello offers its session_id, and if the server's ServerHello echoes it the abbreviated handshake runs,
    /// otherwise the full one (<see cref="DtlsClient.IsResumed"/> tells which). It is offered only if its cipher suite
    /// is among <see cref="DtlsOptions.CipherSuites"/>, its identity is <see cref="PskIdentity"/>, it is not disposed,
    /// and (with <see cref="DtlsOptions.RequireExtendedMasterSecret"/>) it used the extended master secret.
    /// <see langword="null"/> (the default) always runs a full handshake.
    /// </summary>
    public DtlsSavedSession? Session { get; set; }

    /// <summary>
    /// Ask the server for an RFC 5077 session ticket (the SessionTicket extension): a session saved with one
    /// (<see cref="DtlsClient.SaveSession"/>) then carries the ticket, and the next connection presents it, with a
    /// fresh random session_id so that the server's echo tells whether it was accepted (RFC 5077 §3.4). Servers that
    /// do not know the extension ignore it. Default <see langword="true"/>.
    /// </summary>
    public bool UseSessionTickets { get; set; } = true;

    /// <summary>
    /// Ask the server to limit every record of the session, both ways, to this many bytes of plaintext with the
    /// max_fragment_length extension (RFC 6066 §4): 512, 1024, 2048 or 4096. <see langword="null"/> (the default) does
    /// not ask. Prefer <see cref="DtlsOptions.RecordSizeLimit"/> (RFC 8449), which a server uses instead when both are
    /// sent; this one is for servers that only know max_fragment_length (OpenSSL, Mbed TLS). A server that answers
    /// with another length is refused (illegal_parameter); one that does not answer leaves records unlimited.
    /// </summary>
    public int? MaxFragmentLength { get; set; }

    /// <summary>
    /// Where the client logs its handshake steps (ClientHello sent, HelloVerifyRequest and ServerHello received,
    /// retransmissions, alerts, closure), all at Debug under the category "HotDtls.Client", and its warnings (that
    /// <see cref="DtlsOptions.KeyLogPath"/> is on, a failure to write it); keys never appear. <see langword="null"/>
    /// (the default) logs nothing.
    /// </summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    internal void ValidateClient()
    {
        Validate();
        if (PskKey is null)
        {
            throw new ArgumentException("DtlsClientOptions.PskKey is required (1 to 64 bytes).");
        }
        _ = HotDtls.PskStore.ValidateKey(PskKey);
        ArgumentNullException.ThrowIfNull(PskIdentity);
        if (ConnectionIdLength is < 0 or > MaxConnectionIdLength)
        {
            throw new ArgumentOutOfRangeException(nameof(ConnectionIdLength), ConnectionIdLength,
                $"ConnectionIdLength must be null (no Connection ID) or 0 to {MaxConnectionIdLength} bytes; 0 is usual for a client.");
        }
        if (MaxFragmentLength is { } maxFragmentLength && maxFragmentLength is not (512 or 1024 or 2048 or 4096))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFragmentLength), MaxFragmentLength,
                "MaxFragmentLength must be null (not requested) or one of 512, 1024, 2048, 4096 (RFC 6066 §4 defines no other); "
                + "for any other limit use RecordSizeLimit (RFC 8449).");
        }
        if (System.Text.Encoding.UTF8.GetByteCount(PskIdentity) > 65535)
        {
            throw new ArgumentException("PskIdentity must fit in 65535 bytes of UTF-8.");
        }
    }

    internal void ValidateLocalEndPoint(IPEndPoint remote)
    {
        if (LocalEndPoint is { } local && local.AddressFamily != remote.AddressFamily)
        {
            throw new ArgumentException(
                $"LocalEndPoint {local} is {local.AddressFamily} but the server {remote} is {remote.AddressFamily}: use addresses of one family.");
        }
    }
}
