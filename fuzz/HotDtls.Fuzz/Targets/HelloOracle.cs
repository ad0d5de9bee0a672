using System.Buffers.Binary;
using HotDtls.Handshake;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// A second, independent reading of the hellos (RFC 5246 §7.4.1.2–7.4.1.4) and of the extensions HotDtls interprets,
/// written with plain index arithmetic rather than <see cref="HandshakeReader"/>, so the targets can check the
/// library's parsers against it in both directions: what one accepts the other must accept, field for field.
/// </summary>
/// <remarks>
/// <code>
///   extension block content: { uint16 type; uint16 length; opaque data[length]; } ... to the end, no type twice
///   extended_master_secret 0x0017, encrypt_then_mac 0x0016    data empty            (RFC 7627 §5.1, RFC 7366 §2)
///   renegotiation_info     0xFF01                             opaque &lt;0..255&gt;      (RFC 5746 §3.2)
///   supported_groups       0x000A                             uint16 list &lt;2..2^16-1&gt;, even (RFC 8422 §5.1.1)
///   ec_point_formats       0x000B                             uint8 list &lt;1..255&gt;   (RFC 8422 §5.1.2)
///   session_ticket         0x0023                             the ticket itself, any length, maybe empty (RFC 5077 §3.2)
///   connection_id          0x0036                             opaque cid &lt;0..255&gt;  (RFC 9146 §3)
///   rrc                    0x003D                             data empty            (draft-ietf-tls-dtls-rrc)
///   max_fragment_length    0x0001                             one byte, any code    (RFC 6066 §4; the code is the role's)
///   record_size_limit      0x001C                             uint16, any value     (RFC 8449 §4; the value is the role's)
/// </code>
/// </remarks>
internal static class HelloOracle
{
    /// <summary>What the extension block should scan to; <see cref="Valid"/> false when TryScan must refuse it.</summary>
    public ref struct Expected
    {
        public bool Valid;
        public int Count;
        public bool ExtendedMasterSecret;
        public bool EncryptThenMac;
        public bool HasRenegotiationInfo;
        public ReadOnlySpan<byte> RenegotiationInfo;
        public bool HasSupportedGroups;
        public ReadOnlySpan<byte> SupportedGroups;
        public bool HasEcPointFormats;
        public ReadOnlySpan<byte> EcPointFormats;
        public bool HasSessionTicket;
        public ReadOnlySpan<byte> SessionTicket;
        public bool HasConnectionId;
        public ReadOnlySpan<byte> ConnectionId;
        public bool ReturnRoutabilityCheck;
        public bool HasMaxFragmentLength;
        public byte MaxFragmentLength;
        public bool HasRecordSizeLimit;
        public ushort RecordSizeLimit;
        public bool HasUnknown;
    }

    /// <summary>Reads an extension block's content (without its length) the long way.</summary>
    public static Expected ReadExtensions(ReadOnlySpan<byte> block)
    {
        var expected = new Expected { Valid = true };
        Span<ulong> seen = stackalloc ulong[(ushort.MaxValue + 1) / 64];
        seen.Clear();
        var position = 0;
        while (position < block.Length)
        {
            if (block.Length - position < 4)
            {
                return Invalid();
            }
            var type = BinaryPrimitives.ReadUInt16BigEndian(block[position..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(block[(position + 2)..]);
            if (block.Length - position - 4 < length)
            {
                return Invalid();
            }
            var data = block.Slice(position + 4, length);
            position += 4 + length;
            expected.Count++;
            var bit = 1UL << (type & 63);
            if ((seen[type >> 6] & bit) != 0)
            {
                return Invalid();
            }
            seen[type >> 6] |= bit;
            switch (type)
            {
                case HelloExtensions.ExtendedMasterSecret:
                    expected.ExtendedMasterSecret = true;
                    if (length != 0)
                    {
                        return Invalid();
                    }
                    break;
                case HelloExtensions.EncryptThenMac:
                    expected.EncryptThenMac = true;
                    if (length != 0)
                    {
                        return Invalid();
                    }
                    break;
                case HelloExtensions.RenegotiationInfo:
                    if (length < 1 || data[0] != length - 1)
                    {
                        return Invalid();
                    }
                    expected.HasRenegotiationInfo = true;
                    expected.RenegotiationInfo = data[1..];
                    break;
                case HelloExtensions.SupportedGroups:
                    if (length < 2 || BinaryPrimitives.ReadUInt16BigEndian(data) != length - 2 || length - 2 < 2 || (length & 1) != 0)
                    {
                        return Invalid();
                    }
                    expected.HasSupportedGroups = true;
                    expected.SupportedGroups = data[2..];
                    break;
                case HelloExtensions.EcPointFormats:
                    if (length < 2 || data[0] != length - 1)
                    {
                        return Invalid();
                    }
                    expected.HasEcPointFormats = true;
                    expected.EcPointFormats = data[1..];
                    break;
                case HelloExtensions.SessionTicket:
                    expected.HasSessionTicket = true;
                    expected.SessionTicket = data;
                    break;
                case HelloExtensions.ConnectionId:
                    if (length < 1 || data[0] != length - 1)
                    {
                        return Invalid();
                    }
                    expected.HasConnectionId = true;
                    expected.ConnectionId = data[1..];
                    break;
                case HelloExtensions.ReturnRoutabilityCheck:
                    expected.ReturnRoutabilityCheck = true;
                    if (length != 0)
                    {
                        return Invalid();
                    }
                    break;
                case HelloExtensions.MaxFragmentLength:
                    if (length != 1)
                    {
                        return Invalid();
                    }
                    expected.HasMaxFragmentLength = true;
                    expected.MaxFragmentLength = data[0];
                    break;
                case HelloExtensions.RecordSizeLimit:
                    if (length != 2)
                    {
                        return Invalid();
                    }
                    expected.HasRecordSizeLimit = true;
                    expected.RecordSizeLimit = BinaryPrimitives.ReadUInt16BigEndian(data);
                    break;
                default:
                    expected.HasUnknown = true;
                    break;
            }
        }
        return expected;

        static Expected Invalid() => default;
    }

    /// <summary>
    /// Finds the extension block of a ClientHello body the long way: false when anything before it is malformed or
    /// the block's length does not cover exactly the rest. An absent block is an empty one.
    /// </summary>
    public static bool TryLocateClientHelloExtensions(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> block)
    {
        block = default;
        // client_version (2), random (32), then session_id <0..32>.
        var position = 2 + ClientHello.RandomLength;
        if (body.Length < position + 1 || body[position] > ClientHello.MaxSessionIdLength)
        {
            return false;
        }
        position += 1 + body[position];
        // cookie <0..255>.
        if (body.Length < position + 1)
        {
            return false;
        }
        position += 1 + body[position];
        // cipher_suites <2..2^16-2>, whole code points.
        if (body.Length < position + 2)
        {
            return false;
        }
        var suites = BinaryPrimitives.ReadUInt16BigEndian(body[position..]);
        if (suites < 2 || (suites & 1) != 0)
        {
            return false;
        }
        position += 2 + suites;
        // compression_methods <1..255>.
        if (body.Length < position + 1 || body[position] < 1)
        {
            return false;
        }
        position += 1 + body[position];
        return TryLocateBlock(body, position, out block);
    }

    /// <summary>As <see cref="TryLocateClientHelloExtensions"/>, for a ServerHello body.</summary>
    public static bool TryLocateServerHelloExtensions(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> block)
    {
        block = default;
        var position = 2 + ClientHello.RandomLength;
        if (body.Length < position + 1 || body[position] > ClientHello.MaxSessionIdLength)
        {
            return false;
        }
        // session_id, then cipher_suite (2) and compression_method (1).
        position += 1 + body[position] + 2 + 1;
        return TryLocateBlock(body, position, out block);
    }

    private static bool TryLocateBlock(ReadOnlySpan<byte> body, int position, out ReadOnlySpan<byte> block)
    {
        block = default;
        if (body.Length < position)
        {
            return false;
        }
        if (body.Length == position)
        {
            return true;
        }
        if (body.Length - position < 2 || BinaryPrimitives.ReadUInt16BigEndian(body[position..]) != body.Length - position - 2)
        {
            return false;
        }
        block = body[(position + 2)..];
        return true;
    }

    /// <summary>Throws unless the library's scan of <paramref name="block"/> agrees with the long reading, field for field.</summary>
    public static void CheckScan(ReadOnlySpan<byte> block, bool scanned, scoped in HelloExtensionSummary summary, string where)
    {
        var expected = ReadExtensions(block);
        if (scanned != expected.Valid)
        {
            throw new FuzzOracleException(scanned
                ? $"{where}: HelloExtensions.TryScan accepted a malformed extension block (truncated, a type twice, data in an empty-by-definition extension, or a bad supported_groups/ec_point_formats/renegotiation_info)"
                : $"{where}: HelloExtensions.TryScan refused a well-formed extension block");
        }
        if (!scanned)
        {
            return;
        }
        if (summary.ExtendedMasterSecret != expected.ExtendedMasterSecret || summary.EncryptThenMac != expected.EncryptThenMac
            || summary.HasRenegotiationInfo != expected.HasRenegotiationInfo || summary.HasSupportedGroups != expected.HasSupportedGroups
            || summary.HasEcPointFormats != expected.HasEcPointFormats || summary.HasUnknown != expected.HasUnknown
            || summary.HasSessionTicket != expected.HasSessionTicket || summary.HasConnectionId != expected.HasConnectionId
            || summary.ReturnRoutabilityCheck != expected.ReturnRoutabilityCheck
            || summary.HasMaxFragmentLength != expected.HasMaxFragmentLength || summary.MaxFragmentLength != expected.MaxFragmentLength
            || summary.HasRecordSizeLimit != expected.HasRecordSizeLimit || summary.RecordSizeLimit != expected.RecordSizeLimit)
        {
            throw new FuzzOracleException($"{where}: HelloExtensions.TryScan reports other extensions than the block holds");
        }
        if (!Slices.Same(summary.RenegotiationInfo, expected.RenegotiationInfo) || !Slices.Same(summary.SupportedGroups, expected.SupportedGroups)
            || !Slices.Same(summary.EcPointFormats, expected.EcPointFormats) || !Slices.Same(summary.SessionTicket, expected.SessionTicket)
            || !Slices.Same(summary.ConnectionId, expected.ConnectionId))
        {
            throw new FuzzOracleException($"{where}: an extension's content is not the slice of the block it came from");
        }
        if (expected.HasSupportedGroups && (summary.SupportedGroups.Length < 2 || (summary.SupportedGroups.Length & 1) != 0))
        {
            throw new FuzzOracleException($"{where}: supported_groups of {summary.SupportedGroups.Length} bytes accepted");
        }
        if (expected.HasEcPointFormats && summary.EcPointFormats.IsEmpty)
        {
            throw new FuzzOracleException($"{where}: an empty ec_point_formats list accepted");
        }
        Slices.RequireWithin(block, summary.SupportedGroups, $"{where} supported_groups");
        Slices.RequireWithin(block, summary.EcPointFormats, $"{where} ec_point_formats");
        Slices.RequireWithin(block, summary.RenegotiationInfo, $"{where} renegotiation_info");
        Slices.RequireWithin(block, summary.SessionTicket, $"{where} session_ticket");
        Slices.RequireWithin(block, summary.ConnectionId, $"{where} connection_id");
    }

    /// <summary>Whether a named_group_list holds <paramref name="group"/>, read two bytes at a time from the start.</summary>
    public static bool ListsGroup(ReadOnlySpan<byte> groups, ushort group)
    {
        for (var i = 0; i + 2 <= groups.Length; i += 2)
        {
            if (groups[i] == group >> 8 && groups[i + 1] == (group & 0xFF))
            {
                return true;
            }
        }
        return false;
    }
}
