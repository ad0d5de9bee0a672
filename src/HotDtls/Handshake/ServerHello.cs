namespace HotDtls.Handshake;

/// <summary>
/// ServerHello body, RFC 5246 §7.4.1.3 (unchanged in DTLS, RFC 6347 §4.2):
/// <code>
/// struct {
///     ProtocolVersion server_version;          // uint16
///     Random random;                           // 32 bytes
///     SessionID session_id;                    // opaque &lt;0..32&gt;
///     CipherSuite cipher_suite;                // uint16
///     CompressionMethod compression_method;    // uint8
///     select (extensions_present) {
///         case false: struct {};
///         case true:  Extension extensions&lt;0..2^16-1&gt;;
///     };
/// } ServerHello;
/// </code>
/// RFC 5246 §7.4.1.4: a client receiving an extension it did not offer "MUST abort the handshake with an
/// unsupported_extension fatal alert"; <see cref="HasUnknownExtension"/> lets the client do that for any
/// type this parser does not interpret, the others it checks against what it offered.
/// </summary>
internal readonly ref struct ServerHello
{
    private ServerHello(
        ushort serverVersion,
        ReadOnlySpan<byte> random,
        ReadOnlySpan<byte> sessionId,
        ushort cipherSuite,
        byte compressionMethod,
        scoped in HelloExtensionSummary summary)
    {
        ServerVersion = serverVersion;
        Random = random;
        SessionId = sessionId;
        CipherSuite = cipherSuite;
        CompressionMethod = compressionMethod;
        HasExtendedMasterSecret = summary.ExtendedMasterSecret;
        HasRenegotiationInfo = summary.HasRenegotiationInfo;
        RenegotiationInfo = summary.RenegotiationInfo;
        HasEncryptThenMac = summary.EncryptThenMac;
        HasEcPointFormats = summary.HasEcPointFormats;
        EcPointFormats = summary.EcPointFormats;
        HasConnectionId = summary.HasConnectionId;
        ConnectionId = summary.ConnectionId;
        HasReturnRoutabilityCheck = summary.ReturnRoutabilityCheck;
        // RFC 5077 §3.2: the server's SessionTicket extension is always empty.
        HasSessionTicket = summary.HasSessionTicket;
        HasNonEmptySessionTicket = !summary.SessionTicket.IsEmpty;
        HasMaxFragmentLength = summary.HasMaxFragmentLength;
        MaxFragmentLength = summary.MaxFragmentLength;
        HasRecordSizeLimit = summary.HasRecordSizeLimit;
        RecordSizeLimit = summary.RecordSizeLimit;
        // A TLS 1.2 server never sends supported_groups (RFC 8422 §5.2): to a client it is an extension it did not
        // offer in a ServerHello.
        HasUnknownExtension = summary.HasUnknown || summary.HasSupportedGroups;
    }

    public ushort ServerVersion { get; }

    public ReadOnlySpan<byte> Random { get; }

    public ReadOnlySpan<byte> SessionId { get; }

    public ushort CipherSuite { get; }

    public byte CompressionMethod { get; }

    public bool HasExtendedMasterSecret { get; }

    public bool HasRenegotiationInfo { get; }

    /// <summary>renegotiated_connection; on an initial handshake RFC 5746 §3.4 requires it empty.</summary>
    public ReadOnlySpan<byte> RenegotiationInfo { get; }

    /// <summary>encrypt_then_mac was echoed (RFC 7366 §2): CBC records are MACed after encryption.</summary>
    public bool HasEncryptThenMac { get; }

    /// <summary>ec_point_formats was sent (RFC 8422 §5.2).</summary>
    public bool HasEcPointFormats { get; }

    /// <summary>ec_point_format_list of ec_point_formats.</summary>
    public ReadOnlySpan<byte> EcPointFormats { get; }

    /// <summary>connection_id was sent (RFC 9146 §3).</summary>
    public bool HasConnectionId { get; }

    /// <summary>The CID the server wants in the records the client sends (may be empty: none).</summary>
    public ReadOnlySpan<byte> ConnectionId { get; }

    /// <summary>rrc was sent (draft-ietf-tls-dtls-rrc): the server may check a new address with path_challenge.</summary>
    public bool HasReturnRoutabilityCheck { get; }
    /// <summary>The (empty) SessionTicket extension: a NewSessionTicket follows (RFC 5077 §3.2).</summary>
    public bool HasSessionTicket { get; }

    /// <summary>A SessionTicket extension with data, which RFC 5077 §3.2 does not allow in a ServerHello.</summary>
    public bool HasNonEmptySessionTicket { get; }

    /// <summary>Any extension this parser does not interpret, or supported_groups, was present.</summary>
    public bool HasUnknownExtension { get; }

    /// <summary>max_fragment_length was present (RFC 6066 §4).</summary>
    public bool HasMaxFragmentLength { get; }

    /// <summary>The max_fragment_length code as sent (1..4 are legal: 2^9..2^12 bytes).</summary>
    public byte MaxFragmentLength { get; }

    /// <summary>record_size_limit was present (RFC 8449 §4).</summary>
    public bool HasRecordSizeLimit { get; }

    /// <summary>The largest plaintext the sender will receive in a protected record (legal: at least 64).</summary>
    public ushort RecordSizeLimit { get; }

    public static bool TryParse(ReadOnlySpan<byte> body, out ServerHello hello)
    {
        hello = default;
        var reader = new HandshakeReader(body);
        if (!reader.TryReadUInt16(out ushort serverVersion)
            || !reader.TryReadBytes(ClientHello.RandomLength, out ReadOnlySpan<byte> random)
            || !reader.TryReadOpaque8(0, ClientHello.MaxSessionIdLength, out ReadOnlySpan<byte> sessionId)
            || !reader.TryReadUInt16(out ushort cipherSuite)
            || !reader.TryReadUInt8(out byte compressionMethod)
            || !HelloExtensions.TryReadBlock(ref reader, out ReadOnlySpan<byte> extensions)
            || !HelloExtensions.TryScan(extensions, out HelloExtensionSummary summary))
        {
            return false;
        }

        hello = new ServerHello(serverVersion, random, sessionId, cipherSuite, compressionMethod, summary);
        return true;
    }

    /// <summary>Where the extension block of a ServerHello <see cref="Write"/> made starts (for <see cref="HelloExtensions.AppendExtension(Span{byte}, int, int, ushort, ReadOnlySpan{byte})"/>).</summary>
    public static int GetExtensionBlockStart(int sessionIdLength) => 2 + ClientHello.RandomLength + 1 + sessionIdLength + 2 + 1;

    /// <summary>Exact number of bytes <see cref="Write"/> produces for these arguments.</summary>
    public static int GetLength(int sessionIdLength, bool extendedMasterSecret, bool renegotiationInfo,
        bool encryptThenMac = false, bool ecPointFormats = false, bool sessionTicket = false, int connectionIdLength = -1,
        bool returnRoutabilityCheck = false)
    {
        var block = HelloExtensions.GetBlockLength(renegotiationInfo, extendedMasterSecret, encryptThenMac, supportedGroupCount: 0, ecPointFormats,
            connectionIdLength, returnRoutabilityCheck);
        return 2 + ClientHello.RandomLength + 1 + sessionIdLength + 2 + 1 + block
            + (sessionTicket ? HelloExtensions.GetAppendedLength(block, 0) : 0);
    }

    /// <summary>
    /// Writes a ServerHello body with compression_method null. The extension block is omitted when neither
    /// extension is echoed, so a ServerHello to a client that offered none carries no extensions at all.
    /// </summary>
    public static int Write(
        Span<byte> destination,
        ushort serverVersion,
        ReadOnlySpan<byte> random,
        ReadOnlySpan<byte> sessionId,
        ushort cipherSuite,
        bool extendedMasterSecret,
        bool renegotiationInfo,
        bool encryptThenMac = false,
        bool ecPointFormats = false,
        bool sessionTicket = false,
        bool connectionIdExtension = false,
        ReadOnlySpan<byte> connectionId = default,
        bool returnRoutabilityCheck = false)
    {
        HandshakeWriter.EnsureLength(connectionId, 0, byte.MaxValue, nameof(connectionId));
        HandshakeWriter.EnsureLength(random, ClientHello.RandomLength, ClientHello.RandomLength, nameof(random));
        HandshakeWriter.EnsureLength(sessionId, 0, ClientHello.MaxSessionIdLength, nameof(sessionId));
        int length = GetLength(sessionId.Length, extendedMasterSecret, renegotiationInfo, encryptThenMac, ecPointFormats, sessionTicket,
            connectionIdExtension ? connectionId.Length : -1, returnRoutabilityCheck);
        HandshakeWriter.EnsureCapacity(destination, length);

        var writer = new HandshakeWriter(destination);
        writer.WriteUInt16(serverVersion);
        writer.WriteBytes(random);
        writer.WriteOpaque8(sessionId);
        writer.WriteUInt16(cipherSuite);
        writer.WriteUInt8(0);
        var blockStart = writer.Written;
        HelloExtensions.Write(ref writer, renegotiationInfo, extendedMasterSecret, encryptThenMac, supportedGroups: default, ecPointFormats,
            connectionIdExtension, connectionId, returnRoutabilityCheck);
        if (sessionTicket)
        {
            HelloExtensions.AppendExtension(destination, blockStart, ref writer, HelloExtensions.SessionTicket, []);
        }
        return writer.Written;
    }
}
