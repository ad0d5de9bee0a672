namespace HotDtls.Handshake;

/// <summary>
/// The extension block shared by ClientHello and ServerHello, RFC 5246 §7.4.1.4:
/// <code>
/// struct {
///     ExtensionType extension_type;            // uint16
///     opaque extension_data&lt;0..2^16-1&gt;;
/// } Extension;
///
/// select (extensions_present) {
///     case false: struct {};                   // the hello simply ends
///     case true:  Extension extensions&lt;0..2^16-1&gt;;
/// };
/// </code>
/// Only the extensions HotDtls negotiates are interpreted (extended_master_secret, renegotiation_info,
/// encrypt_then_mac, supported_groups, ec_point_formats, connection_id, rrc, SessionTicket, max_fragment_length,
/// record_size_limit); every other one is skipped but still has to be well formed
/// and unique.
/// </summary>
internal static class HelloExtensions
{
    /// <summary>extended_master_secret, RFC 7627 §5.1: <c>extension_data</c> is empty.</summary>
    public const ushort ExtendedMasterSecret = 0x0017;

    /// <summary>renegotiation_info, RFC 5746 §3.2: <c>opaque renegotiated_connection&lt;0..255&gt;</c>.</summary>
    public const ushort RenegotiationInfo = 0xFF01;

    /// <summary>encrypt_then_mac, RFC 7366 §2: <c>extension_data</c> is empty.</summary>
    public const ushort EncryptThenMac = 0x0016;

    /// <summary>supported_groups (elliptic_curves), RFC 8422 §5.1.1: <c>NamedGroup named_group_list&lt;2..2^16-1&gt;</c>.</summary>
    public const ushort SupportedGroups = 0x000A;

    /// <summary>ec_point_formats, RFC 8422 §5.1.2: <c>ECPointFormat ec_point_format_list&lt;1..2^8-1&gt;</c>.</summary>
    public const ushort EcPointFormats = 0x000B;

    /// <summary>connection_id, RFC 9146 §3: <c>opaque cid&lt;0..2^8-1&gt;</c>, the CID its sender wants to receive.</summary>
    public const ushort ConnectionId = 0x0036;

    /// <summary>
    /// rrc, draft-ietf-tls-dtls-rrc (code point 61, IANA early allocation): <c>extension_data</c> is empty; both sides
    /// answer return_routability_check messages, with which a server checks that a CID peer's new address is reachable.
    /// </summary>
    public const ushort ReturnRoutabilityCheck = 0x003D;
    /// <summary>
    /// SessionTicket, RFC 5077 §3.2: in a ClientHello <c>opaque ticket&lt;0..2^16-1&gt;</c> as the whole extension_data
    /// (empty to ask for one); in a ServerHello always empty (a NewSessionTicket follows).
    /// </summary>
    public const ushort SessionTicket = 0x0023;

    /// <summary>
    /// max_fragment_length, RFC 6066 §4: <c>enum { 2^9(1), 2^10(2), 2^11(3), 2^12(4), (255) } MaxFragmentLength;</c>
    /// one byte, the same in the ClientHello and the server's echo.
    /// </summary>
    public const ushort MaxFragmentLength = 0x0001;

    /// <summary>record_size_limit, RFC 8449 §4: <c>uint16 RecordSizeLimit;</c> the largest plaintext its sender will receive.</summary>
    public const ushort RecordSizeLimit = 0x001C;

    /// <summary>RFC 8449 §4: "Endpoints MUST NOT send a "record_size_limit" extension with a value smaller than 64."</summary>
    public const int MinRecordSizeLimit = 64;

    /// <summary>ECPointFormat uncompressed (RFC 8422 §5.1.2), the only point format RFC 8422 still defines.</summary>
    public const byte UncompressedPointFormat = 0;

    /// <summary>TLS_EMPTY_RENEGOTIATION_INFO_SCSV, RFC 5746 §3.3: a cipher suite standing for an empty renegotiation_info.</summary>
    public const ushort EmptyRenegotiationInfoScsv = 0x00FF;

    /// <summary>
    /// Up to this many extensions, duplicates are found by comparing every pair (at most 496 compares);
    /// above it, by an 8 KiB bitmap over all 2^16 types, so a peer packing thousands of tiny extensions into
    /// a hello cannot make the check quadratic.
    /// </summary>
    private const int PairwiseDuplicateLimit = 32;

    private const int RenegotiationInfoExtensionLength = 2 + 2 + 1;
    private const int ExtendedMasterSecretExtensionLength = 2 + 2;
    private const int EncryptThenMacExtensionLength = 2 + 2;
    // ec_point_formats carrying only uncompressed: type, length, list length, 0.
    private const int EcPointFormatsExtensionLength = 2 + 2 + 1 + 1;

    /// <summary>
    /// Reads the optional block that ends a hello: absent when nothing is left, otherwise a uint16 length
    /// that must cover exactly the rest of the message.
    /// </summary>
    public static bool TryReadBlock(scoped ref HandshakeReader reader, out ReadOnlySpan<byte> extensions)
    {
        if (reader.IsEmpty)
        {
            extensions = default;
            return true;
        }

        return reader.TryReadOpaque16(0, ushort.MaxValue, out extensions) && reader.IsEmpty;
    }

    /// <summary>
    /// Walks the content of an extension block. Fails on a truncated extension, a malformed extension we
    /// interpret, or a repeated type: "There MUST NOT be more than one extension of the same type"
    /// (RFC 5246 §7.4.1.4).
    /// </summary>
    public static bool TryScan(
        ReadOnlySpan<byte> extensions,
        out bool extendedMasterSecret,
        out bool hasRenegotiationInfo,
        out ReadOnlySpan<byte> renegotiationInfo,
        out bool hasUnknown)
    {
        var ok = TryScan(extensions, out HelloExtensionSummary summary);
        extendedMasterSecret = summary.ExtendedMasterSecret;
        hasRenegotiationInfo = summary.HasRenegotiationInfo;
        renegotiationInfo = summary.RenegotiationInfo;
        hasUnknown = summary.HasUnknown;
        return ok;
    }

    /// <summary>
    /// Walks the content of an extension block, interpreting every extension HotDtls negotiates. Fails on a
    /// truncated extension, a malformed extension we interpret, or a repeated type (RFC 5246 §7.4.1.4).
    /// </summary>
    public static bool TryScan(ReadOnlySpan<byte> extensions, out HelloExtensionSummary summary)
    {
        summary = default;
        var reader = new HandshakeReader(extensions);
        int count = 0;
        while (!reader.IsEmpty)
        {
            if (!reader.TryReadUInt16(out ushort type) || !reader.TryReadOpaque16(0, ushort.MaxValue, out ReadOnlySpan<byte> data))
            {
                summary = default;
                return false;
            }

            count++;
            if (!TryInterpret(type, data, ref summary))
            {
                summary = default;
                return false;
            }
        }

        if (HasDuplicate(extensions, count))
        {
            summary = default;
            return false;
        }
        return true;
    }

    private static bool TryInterpret(ushort type, ReadOnlySpan<byte> data, ref HelloExtensionSummary summary)
    {
        switch (type)
        {
            case ExtendedMasterSecret:
                // RFC 7627 §5.1: "The extension_data field of this extension is empty."
                summary.ExtendedMasterSecret = true;
                return data.IsEmpty;

            case EncryptThenMac:
                // RFC 7366 §2: the extension_data field is empty.
                summary.EncryptThenMac = true;
                return data.IsEmpty;

            case RenegotiationInfo:
            {
                var inner = new HandshakeReader(data);
                if (!inner.TryReadOpaque8(0, byte.MaxValue, out var renegotiationInfo) || !inner.IsEmpty)
                {
                    return false;
                }
                summary.RenegotiationInfo = renegotiationInfo;
                summary.HasRenegotiationInfo = true;
                return true;
            }

            case SupportedGroups:
            {
                // named_group_list<2..2^16-1> of uint16 code points: an odd length is malformed.
                var inner = new HandshakeReader(data);
                if (!inner.TryReadOpaque16(2, ushort.MaxValue - 1, out var groups) || (groups.Length & 1) != 0 || !inner.IsEmpty)
                {
                    return false;
                }
                summary.SupportedGroups = groups;
                summary.HasSupportedGroups = true;
                return true;
            }

            case EcPointFormats:
            {
                var inner = new HandshakeReader(data);
                if (!inner.TryReadOpaque8(1, byte.MaxValue, out var formats) || !inner.IsEmpty)
                {
                    return false;
                }
                summary.EcPointFormats = formats;
                summary.HasEcPointFormats = true;
                return true;
            }

            case ReturnRoutabilityCheck:
                summary.ReturnRoutabilityCheck = true;
                return data.IsEmpty;

            case ConnectionId:
            {
                var inner = new HandshakeReader(data);
                if (!inner.TryReadOpaque8(0, byte.MaxValue, out var connectionId) || !inner.IsEmpty)
                {
                    return false;
                }
                summary.ConnectionId = connectionId;
                summary.HasConnectionId = true;
                return true;
            }
            case MaxFragmentLength:
            {
                // RFC 6066 §4: the one-byte code; whether the code is legal is for the role to judge (illegal_parameter),
                // not the parser (decode_error).
                if (data.Length != 1)
                {
                    return false;
                }
                summary.HasMaxFragmentLength = true;
                summary.MaxFragmentLength = data[0];
                return true;
            }

            case RecordSizeLimit:
            {
                // RFC 8449 §4: a uint16; a value below 64 is the role's illegal_parameter, a wrong length malformed.
                var inner = new HandshakeReader(data);
                if (!inner.TryReadUInt16(out var limit) || !inner.IsEmpty)
                {
                    return false;
                }
                summary.HasRecordSizeLimit = true;
                summary.RecordSizeLimit = limit;
                return true;
            }

            case SessionTicket:
                // RFC 5077 §3.2: the extension_data is the ticket itself (no inner length).
                summary.HasSessionTicket = true;
                summary.SessionTicket = data;
                return true;

            default:
                summary.HasUnknown = true;
                return true;
        }
    }

    /// <summary>Size <see cref="AppendExtension(Span{byte}, int, ref HandshakeWriter, ushort, ReadOnlySpan{byte})"/> adds to a message whose block held <paramref name="blockLength"/> bytes.</summary>
    public static int GetAppendedLength(int blockLength, int dataLength) => (blockLength == 0 ? 2 : 0) + 2 + 2 + dataLength;

    /// <summary>
    /// Adds one extension at the end of the block a <see cref="Write(ref HandshakeWriter, bool, bool, bool, ReadOnlySpan{ushort}, bool)"/>
    /// just wrote (starting at <paramref name="blockStart"/> of <paramref name="message"/>), starting the block if it
    /// wrote none: extensions that only some hellos carry (session_ticket) are added this way.
    /// </summary>
    public static void AppendExtension(Span<byte> message, int blockStart, ref HandshakeWriter writer, ushort type, ReadOnlySpan<byte> data)
    {
        if (writer.Written == blockStart)
        {
            writer.WriteUInt16(0);
        }
        writer.WriteUInt16(type);
        writer.WriteOpaque16(data);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(message[blockStart..], (ushort)(writer.Written - blockStart - 2));
    }

    /// <summary>
    /// Adds one extension at the end of a hello already written (<paramref name="length"/> bytes of
    /// <paramref name="message"/>, its extension block starting at <paramref name="blockStart"/>), starting the block if
    /// the hello has none; returns the new length. The destination must have room for
    /// <see cref="GetAppendedLength"/> more bytes. record_size_limit and max_fragment_length are added this way.
    /// </summary>
    public static int AppendExtension(Span<byte> message, int length, int blockStart, ushort type, ReadOnlySpan<byte> data)
    {
        if (length == blockStart)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(message[length..], 0);
            length += 2;
        }
        var extension = message.Slice(length, 4 + data.Length);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(extension, type);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(extension[2..], (ushort)data.Length);
        data.CopyTo(extension[4..]);
        length += extension.Length;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(message[blockStart..], (ushort)(length - blockStart - 2));
        return length;
    }

    /// <summary>
    /// Appends record_size_limit (<paramref name="recordSizeLimit"/>, 0: none) and max_fragment_length
    /// (<paramref name="maxFragmentLengthCode"/>, 0: none) to a hello, as <see cref="AppendExtension(Span{byte}, int, int, ushort, ReadOnlySpan{byte})"/>.
    /// At most <see cref="RecordLimitsAppendedLength"/> more bytes.
    /// </summary>
    public static int AppendRecordLimits(Span<byte> message, int length, int blockStart, int recordSizeLimit, byte maxFragmentLengthCode)
    {
        if (recordSizeLimit != 0)
        {
            Span<byte> value = stackalloc byte[2];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(value, (ushort)recordSizeLimit);
            length = AppendExtension(message, length, blockStart, RecordSizeLimit, value);
        }
        if (maxFragmentLengthCode != 0)
        {
            length = AppendExtension(message, length, blockStart, MaxFragmentLength, [maxFragmentLengthCode]);
        }
        return length;
    }

    /// <summary>The most <see cref="AppendRecordLimits"/> adds: a block length, then 6 and 5 bytes of extensions.</summary>
    public const int RecordLimitsAppendedLength = 2 + 6 + 5;

    /// <summary>The max_fragment_length code (RFC 6066 §4) of a limit of 512, 1024, 2048 or 4096 bytes; 0 for any other.</summary>
    public static byte MaxFragmentLengthCode(int length) => length switch
    {
        512 => 1,
        1024 => 2,
        2048 => 3,
        4096 => 4,
        _ => 0,
    };

    /// <summary>The limit a max_fragment_length code stands for (2^(8+code)); 0 for a code outside 1..4.</summary>
    public static int MaxFragmentLengthOf(byte code) => code is >= 1 and <= 4 ? 1 << (8 + code) : 0;

    /// <summary>Exact size of the block <see cref="Write(ref HandshakeWriter, bool, bool)"/> produces: 0 when no extension is written.</summary>
    public static int GetBlockLength(bool renegotiationInfo, bool extendedMasterSecret)
        => GetBlockLength(renegotiationInfo, extendedMasterSecret, encryptThenMac: false, supportedGroupCount: 0, ecPointFormats: false);

    /// <summary>
    /// Exact size of the block <see cref="Write(ref HandshakeWriter, bool, bool, bool, ReadOnlySpan{ushort}, bool)"/>
    /// produces: 0 when no extension is written.
    /// </summary>
    public static int GetBlockLength(bool renegotiationInfo, bool extendedMasterSecret, bool encryptThenMac,
        int supportedGroupCount, bool ecPointFormats)
        => GetBlockLength(renegotiationInfo, extendedMasterSecret, encryptThenMac, supportedGroupCount, ecPointFormats, -1);

    /// <summary>
    /// As above, with a connection_id extension carrying <paramref name="connectionIdLength"/> bytes (-1: none), and
    /// then rrc when <paramref name="returnRoutabilityCheck"/>.
    /// </summary>
    public static int GetBlockLength(bool renegotiationInfo, bool extendedMasterSecret, bool encryptThenMac,
        int supportedGroupCount, bool ecPointFormats, int connectionIdLength, bool returnRoutabilityCheck = false)
    {
        int content = (connectionIdLength >= 0 ? 2 + 2 + 1 + connectionIdLength : 0) + (returnRoutabilityCheck ? 2 + 2 : 0)
            + (renegotiationInfo ? RenegotiationInfoExtensionLength : 0)
            + (extendedMasterSecret ? ExtendedMasterSecretExtensionLength : 0)
            + (encryptThenMac ? EncryptThenMacExtensionLength : 0)
            + (supportedGroupCount > 0 ? 2 + 2 + 2 + (2 * supportedGroupCount) : 0)
            + (ecPointFormats ? EcPointFormatsExtensionLength : 0);
        return content == 0 ? 0 : 2 + content;
    }

    /// <summary>
    /// Writes the block, or nothing when neither extension is wanted (a hello without extensions ends
    /// after its compression field). renegotiation_info is always the empty one of an initial handshake
    /// (FF01 0001 00): HotDtls never renegotiates.
    /// </summary>
    public static void Write(ref HandshakeWriter writer, bool renegotiationInfo, bool extendedMasterSecret)
        => Write(ref writer, renegotiationInfo, extendedMasterSecret, encryptThenMac: false, supportedGroups: default, ecPointFormats: false);

    /// <summary>
    /// Writes the block with every extension asked for, or nothing when none is. renegotiation_info is the empty one
    /// of an initial handshake; ec_point_formats lists only uncompressed (RFC 8422 §5.1.2); supported_groups lists
    /// <paramref name="supportedGroups"/> in order (a client's preference).
    /// </summary>
    public static void Write(ref HandshakeWriter writer, bool renegotiationInfo, bool extendedMasterSecret, bool encryptThenMac,
        ReadOnlySpan<ushort> supportedGroups, bool ecPointFormats)
        => Write(ref writer, renegotiationInfo, extendedMasterSecret, encryptThenMac, supportedGroups, ecPointFormats, false, default);

    /// <summary>
    /// As above, plus connection_id carrying <paramref name="connectionId"/> when <paramref name="writeConnectionId"/>,
    /// and rrc when <paramref name="returnRoutabilityCheck"/>.
    /// </summary>
    public static void Write(ref HandshakeWriter writer, bool renegotiationInfo, bool extendedMasterSecret, bool encryptThenMac,
        ReadOnlySpan<ushort> supportedGroups, bool ecPointFormats, bool writeConnectionId, ReadOnlySpan<byte> connectionId,
        bool returnRoutabilityCheck = false)
    {
        int length = GetBlockLength(renegotiationInfo, extendedMasterSecret, encryptThenMac, supportedGroups.Length, ecPointFormats,
            writeConnectionId ? connectionId.Length : -1, returnRoutabilityCheck);
        if (length == 0)
        {
            return;
        }

        writer.WriteUInt16((ushort)(length - 2));
        if (renegotiationInfo)
        {
            writer.WriteUInt16(RenegotiationInfo);
            writer.WriteUInt16(1);
            writer.WriteUInt8(0);
        }

        if (extendedMasterSecret)
        {
            writer.WriteUInt16(ExtendedMasterSecret);
            writer.WriteUInt16(0);
        }

        if (encryptThenMac)
        {
            writer.WriteUInt16(EncryptThenMac);
            writer.WriteUInt16(0);
        }

        if (!supportedGroups.IsEmpty)
        {
            writer.WriteUInt16(SupportedGroups);
            writer.WriteUInt16((ushort)(2 + (2 * supportedGroups.Length)));
            writer.WriteUInt16((ushort)(2 * supportedGroups.Length));
            foreach (var group in supportedGroups)
            {
                writer.WriteUInt16(group);
            }
        }

        if (ecPointFormats)
        {
            writer.WriteUInt16(EcPointFormats);
            writer.WriteUInt16(2);
            writer.WriteUInt8(1);
            writer.WriteUInt8(UncompressedPointFormat);
        }

        if (writeConnectionId)
        {
            writer.WriteUInt16(ConnectionId);
            writer.WriteUInt16((ushort)(1 + connectionId.Length));
            writer.WriteOpaque8(connectionId);
        }

        if (returnRoutabilityCheck)
        {
            writer.WriteUInt16(ReturnRoutabilityCheck);
            writer.WriteUInt16(0);
        }
    }

    /// <summary>Duplicate check over a block <see cref="TryScan(ReadOnlySpan{byte}, out HelloExtensionSummary)"/> has already found well formed.</summary>
    private static bool HasDuplicate(ReadOnlySpan<byte> extensions, int count)
    {
        if (count <= 1)
        {
            return false;
        }

        if (count <= PairwiseDuplicateLimit)
        {
            Span<ushort> types = stackalloc ushort[PairwiseDuplicateLimit];
            CollectTypes(extensions, types);
            for (int i = 1; i < count; i++)
            {
                for (int j = 0; j < i; j++)
                {
                    if (types[i] == types[j])
                    {
                        return true;
                    }
                }
            }

            return false;
        }

        Span<ulong> seen = stackalloc ulong[(ushort.MaxValue + 1) / 64];
        seen.Clear();
        var reader = new HandshakeReader(extensions);
        while (reader.TryReadUInt16(out ushort type) && reader.TryReadOpaque16(0, ushort.MaxValue, out _))
        {
            ulong bit = 1UL << (type & 63);
            ref ulong word = ref seen[type >> 6];
            if ((word & bit) != 0)
            {
                return true;
            }

            word |= bit;
        }

        return false;
    }

    private static void CollectTypes(ReadOnlySpan<byte> extensions, Span<ushort> types)
    {
        var reader = new HandshakeReader(extensions);
        int i = 0;
        while (reader.TryReadUInt16(out ushort type) && reader.TryReadOpaque16(0, ushort.MaxValue, out _))
        {
            types[i++] = type;
        }
    }
}
