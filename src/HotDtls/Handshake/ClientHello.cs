using System.Buffers.Binary;

namespace HotDtls.Handshake;

/// <summary>
/// ClientHello body, RFC 5246 §7.4.1.2 with the DTLS cookie of RFC 6347 §4.2.1:
/// <code>
/// struct {
///     ProtocolVersion client_version;                    // uint16
///     Random random;                                     // 32 bytes
///     SessionID session_id;                              // opaque &lt;0..32&gt;
///     opaque cookie&lt;0..2^8-1&gt;;                           // DTLS only
///     CipherSuite cipher_suites&lt;2..2^16-2&gt;;              // uint16 each
///     CompressionMethod compression_methods&lt;1..2^8-1&gt;;
///     select (extensions_present) {
///         case false: struct {};
///         case true:  Extension extensions&lt;0..2^16-1&gt;;
///     };
/// } ClientHello;
/// </code>
/// Every field is a slice of the body, so parsing a ClientHello before its cookie is checked costs no
/// allocation (HOSTILE 19, 20). The cookie binds the hello through <see cref="CookieBindingPrefix"/> and
/// <see cref="CookieBindingSuffix"/>, the bytes either side of the cookie field.
/// </summary>
internal readonly ref struct ClientHello
{
    public const int RandomLength = 32;
    public const int MaxSessionIdLength = 32;
    public const int MaxCookieLength = 255;

    private ClientHello(
        ushort clientVersion,
        ReadOnlySpan<byte> random,
        ReadOnlySpan<byte> sessionId,
        ReadOnlySpan<byte> cookie,
        ReadOnlySpan<byte> cipherSuites,
        ReadOnlySpan<byte> compressionMethods,
        ReadOnlySpan<byte> extensions,
        ReadOnlySpan<byte> cookieBindingPrefix,
        ReadOnlySpan<byte> cookieBindingSuffix,
        scoped in HelloExtensionSummary summary)
    {
        ClientVersion = clientVersion;
        Random = random;
        SessionId = sessionId;
        Cookie = cookie;
        CipherSuites = cipherSuites;
        CompressionMethods = compressionMethods;
        Extensions = extensions;
        CookieBindingPrefix = cookieBindingPrefix;
        CookieBindingSuffix = cookieBindingSuffix;
        OffersExtendedMasterSecret = summary.ExtendedMasterSecret;
        HasRenegotiationInfo = summary.HasRenegotiationInfo;
        RenegotiationInfo = summary.RenegotiationInfo;
        OffersEncryptThenMac = summary.EncryptThenMac;
        HasSupportedGroups = summary.HasSupportedGroups;
        SupportedGroups = summary.SupportedGroups;
        HasEcPointFormats = summary.HasEcPointFormats;
        EcPointFormats = summary.EcPointFormats;
        OffersConnectionId = summary.HasConnectionId;
        OffersReturnRoutabilityCheck = summary.ReturnRoutabilityCheck;
        ConnectionId = summary.ConnectionId;
        HasSessionTicket = summary.HasSessionTicket;
        SessionTicket = summary.SessionTicket;
        HasMaxFragmentLength = summary.HasMaxFragmentLength;
        MaxFragmentLength = summary.MaxFragmentLength;
        HasRecordSizeLimit = summary.HasRecordSizeLimit;
        RecordSizeLimit = summary.RecordSizeLimit;
    }

    public ushort ClientVersion { get; }

    public ReadOnlySpan<byte> Random { get; }

    public ReadOnlySpan<byte> SessionId { get; }

    public ReadOnlySpan<byte> Cookie { get; }

    /// <summary>The cipher_suites content: an even number (≥ 2) of bytes, big-endian uint16 code points.</summary>
    public ReadOnlySpan<byte> CipherSuites { get; }

    public ReadOnlySpan<byte> CompressionMethods { get; }

    /// <summary>Content of the extension block (without its length); empty when the block is absent.</summary>
    public ReadOnlySpan<byte> Extensions { get; }

    /// <summary>client_version, random and session_id with its length: everything before the cookie length byte.</summary>
    public ReadOnlySpan<byte> CookieBindingPrefix { get; }

    /// <summary>cipher_suites and compression_methods with their length fields: everything between the cookie and the extensions.</summary>
    public ReadOnlySpan<byte> CookieBindingSuffix { get; }

    public bool OffersExtendedMasterSecret { get; }

    public bool HasRenegotiationInfo { get; }

    /// <summary>renegotiated_connection of the renegotiation_info extension; must be empty on an initial handshake (RFC 5746 §3.6).</summary>
    public ReadOnlySpan<byte> RenegotiationInfo { get; }

    /// <summary>The encrypt_then_mac extension (RFC 7366) was offered: the only way HotDtls selects a CBC suite.</summary>
    public bool OffersEncryptThenMac { get; }

    /// <summary>The supported_groups extension (RFC 8422 §5.1.1) was present.</summary>
    public bool HasSupportedGroups { get; }

    /// <summary>named_group_list of supported_groups: big-endian uint16 code points, the client's preference first.</summary>
    public ReadOnlySpan<byte> SupportedGroups { get; }

    /// <summary>The ec_point_formats extension (RFC 8422 §5.1.2) was present.</summary>
    public bool HasEcPointFormats { get; }

    /// <summary>ec_point_format_list of ec_point_formats.</summary>
    public ReadOnlySpan<byte> EcPointFormats { get; }

    /// <summary>connection_id was offered (RFC 9146 §3).</summary>
    public bool OffersConnectionId { get; }

    /// <summary>The CID the client wants in the records the server sends (may be empty: none).</summary>
    public ReadOnlySpan<byte> ConnectionId { get; }

    /// <summary>rrc was offered (draft-ietf-tls-dtls-rrc): the client answers path_challenge.</summary>
    public bool OffersReturnRoutabilityCheck { get; }
    /// <summary>The SessionTicket extension (RFC 5077 §3.2) was present: the client takes tickets.</summary>
    public bool HasSessionTicket { get; }

    /// <summary>The ticket the client presents (empty when it only asks for one).</summary>
    public ReadOnlySpan<byte> SessionTicket { get; }

    /// <summary>
    /// Whether the client accepts uncompressed points, the only form HotDtls sends: true without ec_point_formats
    /// (RFC 8422 §5.1.2: uncompressed is then assumed), otherwise only if the list names it.
    /// </summary>
    public bool AcceptsUncompressedPoints => !HasEcPointFormats || EcPointFormats.Contains(HelloExtensions.UncompressedPointFormat);

    /// <summary>
    /// Whether the client can use <paramref name="group"/>: listed in supported_groups, or any group when the client
    /// sent no supported_groups (RFC 8422 §4 leaves the choice to the server then).
    /// </summary>
    public bool OffersGroup(ushort group)
    {
        if (!HasSupportedGroups)
        {
            return true;
        }
        ReadOnlySpan<byte> groups = SupportedGroups;
        for (int i = 0; i + 1 < groups.Length; i += 2)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(groups[i..]) == group)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>TLS_EMPTY_RENEGOTIATION_INFO_SCSV in cipher_suites, which RFC 5746 §3.6 treats like an empty renegotiation_info.</summary>
    public bool OffersRenegotiationScsv => OffersCipherSuite(HelloExtensions.EmptyRenegotiationInfoScsv);

    /// <summary>RFC 5246 §7.4.1.2: the list "MUST contain" null (0); a hello without it cannot be answered.</summary>
    public bool OffersNullCompression => CompressionMethods.Contains((byte)0);

    public bool OffersCipherSuite(ushort suite)
    {
        ReadOnlySpan<byte> suites = CipherSuites;
        for (int i = 0; i + 1 < suites.Length; i += 2)
        {
            if (BinaryPrimitives.ReadUInt16BigEndian(suites[i..]) == suite)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads just client_version, random, session_id and cookie from the start of a ClientHello — all a server
    /// needs to check a cookie when the hello arrives in fragments and only the first is at hand.
    /// </summary>
    /// <param name="start">The first bytes of the body (a fragment at offset 0); may end anywhere after the cookie.</param>
    /// <param name="cookieBindingPrefix">client_version through session_id, as in <see cref="CookieBindingPrefix"/>.</param>
    /// <param name="random">The client's random.</param>
    /// <param name="cookie">The cookie.</param>
    public static bool TryParseCookiePrefix(ReadOnlySpan<byte> start, out ReadOnlySpan<byte> cookieBindingPrefix,
        out ReadOnlySpan<byte> random, out ReadOnlySpan<byte> cookie)
    {
        cookieBindingPrefix = default;
        cookie = default;
        var reader = new HandshakeReader(start);
        if (!reader.TryReadUInt16(out _)
            || !reader.TryReadBytes(RandomLength, out random)
            || !reader.TryReadOpaque8(0, MaxSessionIdLength, out _))
        {
            random = default;
            return false;
        }
        var prefixEnd = reader.Consumed;
        if (!reader.TryReadOpaque8(0, MaxCookieLength, out cookie))
        {
            return false;
        }
        cookieBindingPrefix = start[..prefixEnd];
        return true;
    }

    /// <summary>max_fragment_length was present (RFC 6066 §4).</summary>
    public bool HasMaxFragmentLength { get; }

    /// <summary>The max_fragment_length code as sent (1..4 are legal: 2^9..2^12 bytes).</summary>
    public byte MaxFragmentLength { get; }

    /// <summary>record_size_limit was present (RFC 8449 §4).</summary>
    public bool HasRecordSizeLimit { get; }

    /// <summary>The largest plaintext the sender will receive in a protected record (legal: at least 64).</summary>
    public ushort RecordSizeLimit { get; }

    public static bool TryParse(ReadOnlySpan<byte> body, out ClientHello hello)
    {
        hello = default;
        var reader = new HandshakeReader(body);
        if (!reader.TryReadUInt16(out ushort clientVersion)
            || !reader.TryReadBytes(RandomLength, out ReadOnlySpan<byte> random)
            || !reader.TryReadOpaque8(0, MaxSessionIdLength, out ReadOnlySpan<byte> sessionId))
        {
            return false;
        }

        int prefixEnd = reader.Consumed;
        if (!reader.TryReadOpaque8(0, MaxCookieLength, out ReadOnlySpan<byte> cookie))
        {
            return false;
        }

        int suffixStart = reader.Consumed;

        // cipher_suites<2..2^16-2>: the length counts bytes of uint16 code points, so an odd one is malformed.
        if (!reader.TryReadOpaque16(2, ushort.MaxValue - 1, out ReadOnlySpan<byte> cipherSuites)
            || (cipherSuites.Length & 1) != 0
            || !reader.TryReadOpaque8(1, byte.MaxValue, out ReadOnlySpan<byte> compressionMethods))
        {
            return false;
        }

        int suffixEnd = reader.Consumed;
        if (!HelloExtensions.TryReadBlock(ref reader, out ReadOnlySpan<byte> extensions)
            || !HelloExtensions.TryScan(extensions, out HelloExtensionSummary summary))
        {
            return false;
        }

        hello = new ClientHello(
            clientVersion,
            random,
            sessionId,
            cookie,
            cipherSuites,
            compressionMethods,
            extensions,
            body[..prefixEnd],
            body[suffixStart..suffixEnd],
            summary);
        return true;
    }

    /// <summary>Where the extension block of a ClientHello <see cref="Write"/> made starts (for <see cref="HelloExtensions.AppendExtension(Span{byte}, int, int, ushort, ReadOnlySpan{byte})"/>).</summary>
    public static int GetExtensionBlockStart(int sessionIdLength, int cookieLength, int cipherSuiteCount)
        => 2 + RandomLength + 1 + sessionIdLength + 1 + cookieLength + 2 + (2 * cipherSuiteCount) + 1 + 1;

    /// <summary>Exact number of bytes <see cref="Write"/> produces for these arguments.</summary>
    public static int GetLength(int sessionIdLength, int cookieLength, int cipherSuiteCount, bool offerExtendedMasterSecret,
        bool offerRenegotiationInfo, bool offerEncryptThenMac = false, int supportedGroupCount = 0, int sessionTicketLength = -1,
        int connectionIdLength = -1, bool offerReturnRoutabilityCheck = false)
    {
        var block = HelloExtensions.GetBlockLength(offerRenegotiationInfo, offerExtendedMasterSecret, offerEncryptThenMac,
            supportedGroupCount, ecPointFormats: supportedGroupCount > 0, connectionIdLength, offerReturnRoutabilityCheck);
        return 2 + RandomLength
            + 1 + sessionIdLength
            + 1 + cookieLength
            + 2 + (2 * cipherSuiteCount)
            + 1 + 1
            + block + (sessionTicketLength < 0 ? 0 : HelloExtensions.GetAppendedLength(block, sessionTicketLength));
    }

    /// <summary>
    /// Writes a ClientHello body offering only the null compression method. Include
    /// <see cref="HelloExtensions.EmptyRenegotiationInfoScsv"/> in <paramref name="cipherSuites"/> to signal
    /// secure renegotiation that way instead of (or as well as) the extension. Non-empty
    /// <paramref name="supportedGroups"/> adds supported_groups and ec_point_formats (uncompressed), which ECDHE suites
    /// need (RFC 8422 §4); <paramref name="offerEncryptThenMac"/> adds encrypt_then_mac, which CBC suites need.
    /// </summary>
    public static int Write(
        Span<byte> destination,
        ushort clientVersion,
        ReadOnlySpan<byte> random,
        ReadOnlySpan<byte> sessionId,
        ReadOnlySpan<byte> cookie,
        ReadOnlySpan<ushort> cipherSuites,
        bool offerExtendedMasterSecret,
        bool offerRenegotiationInfo,
        bool offerEncryptThenMac = false,
        ReadOnlySpan<ushort> supportedGroups = default,
        bool offerSessionTicket = false,
        ReadOnlySpan<byte> sessionTicket = default,
        bool offerConnectionId = false,
        ReadOnlySpan<byte> connectionId = default,
        bool offerReturnRoutabilityCheck = false)
    {
        HandshakeWriter.EnsureLength(connectionId, 0, byte.MaxValue, nameof(connectionId));
        HandshakeWriter.EnsureLength(random, RandomLength, RandomLength, nameof(random));
        HandshakeWriter.EnsureLength(sessionId, 0, MaxSessionIdLength, nameof(sessionId));
        HandshakeWriter.EnsureLength(cookie, 0, MaxCookieLength, nameof(cookie));
        if (cipherSuites.IsEmpty || cipherSuites.Length > (ushort.MaxValue - 1) / 2)
        {
            HandshakeWriter.ThrowArgument(nameof(cipherSuites), "Between 1 and 32767 cipher suites must be offered.");
        }

        if (supportedGroups.Length > (ushort.MaxValue - 6) / 2)
        {
            HandshakeWriter.ThrowArgument(nameof(supportedGroups), "Too many groups for one supported_groups extension.");
        }

        HandshakeWriter.EnsureLength(sessionTicket, 0, ushort.MaxValue, nameof(sessionTicket));
        int length = GetLength(sessionId.Length, cookie.Length, cipherSuites.Length, offerExtendedMasterSecret,
            offerRenegotiationInfo, offerEncryptThenMac, supportedGroups.Length, offerSessionTicket ? sessionTicket.Length : -1,
            offerConnectionId ? connectionId.Length : -1, offerReturnRoutabilityCheck);
        HandshakeWriter.EnsureCapacity(destination, length);

        var writer = new HandshakeWriter(destination);
        writer.WriteUInt16(clientVersion);
        writer.WriteBytes(random);
        writer.WriteOpaque8(sessionId);
        writer.WriteOpaque8(cookie);
        writer.WriteUInt16((ushort)(2 * cipherSuites.Length));
        foreach (ushort suite in cipherSuites)
        {
            writer.WriteUInt16(suite);
        }

        writer.WriteUInt8(1);
        writer.WriteUInt8(0);
        var blockStart = writer.Written;
        HelloExtensions.Write(ref writer, offerRenegotiationInfo, offerExtendedMasterSecret, offerEncryptThenMac,
            supportedGroups, ecPointFormats: !supportedGroups.IsEmpty, offerConnectionId, connectionId, offerReturnRoutabilityCheck);
        if (offerSessionTicket)
        {
            // RFC 5077 §3.2: empty to ask for a ticket, the ticket to resume with one.
            HelloExtensions.AppendExtension(destination, blockStart, ref writer, HelloExtensions.SessionTicket, sessionTicket);
        }
        return writer.Written;
    }
}
