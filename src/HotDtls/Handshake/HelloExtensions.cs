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
/// Only the two extensions HotDtls negotiates are interpreted; every other one is skipped but still has
/// to be well formed and unique.
/// </summary>
internal static class HelloExtensions
{
    /// <summary>extended_master_secret, RFC 7627 §5.1: <c>extension_data</c> is empty.</summary>
    public const ushort ExtendedMasterSecret = 0x0017;

    /// <summary>renegotiation_info, RFC 5746 §3.2: <c>opaque renegotiated_connection&lt;0..255&gt;</c>.</summary>
    public const ushort RenegotiationInfo = 0xFF01;

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
        extendedMasterSecret = false;
        hasRenegotiationInfo = false;
        renegotiationInfo = default;
        hasUnknown = false;

        var reader = new HandshakeReader(extensions);
        int count = 0;
        while (!reader.IsEmpty)
        {
            if (!reader.TryReadUInt16(out ushort type) || !reader.TryReadOpaque16(0, ushort.MaxValue, out ReadOnlySpan<byte> data))
            {
                return false;
            }

            count++;
            switch (type)
            {
                case ExtendedMasterSecret:
                    // RFC 7627 §5.1: "The extension_data field of this extension is empty."
                    if (!data.IsEmpty)
                    {
                        return false;
                    }

                    extendedMasterSecret = true;
                    break;

                case RenegotiationInfo:
                    var inner = new HandshakeReader(data);
                    if (!inner.TryReadOpaque8(0, byte.MaxValue, out renegotiationInfo) || !inner.IsEmpty)
                    {
                        return false;
                    }

                    hasRenegotiationInfo = true;
                    break;

                default:
                    hasUnknown = true;
                    break;
            }
        }

        return !HasDuplicate(extensions, count);
    }

    /// <summary>Exact size of the block <see cref="Write"/> produces: 0 when no extension is written.</summary>
    public static int GetBlockLength(bool renegotiationInfo, bool extendedMasterSecret)
    {
        int content = (renegotiationInfo ? RenegotiationInfoExtensionLength : 0)
            + (extendedMasterSecret ? ExtendedMasterSecretExtensionLength : 0);
        return content == 0 ? 0 : 2 + content;
    }

    /// <summary>
    /// Writes the block, or nothing when neither extension is wanted (a hello without extensions ends
    /// after its compression field). renegotiation_info is always the empty one of an initial handshake
    /// (FF01 0001 00): HotDtls never renegotiates.
    /// </summary>
    public static void Write(ref HandshakeWriter writer, bool renegotiationInfo, bool extendedMasterSecret)
    {
        int length = GetBlockLength(renegotiationInfo, extendedMasterSecret);
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
    }

    /// <summary>Duplicate check over a block <see cref="TryScan"/> has already found well formed.</summary>
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
