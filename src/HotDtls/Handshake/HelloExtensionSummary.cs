namespace HotDtls.Handshake;

/// <summary>What <see cref="HelloExtensions.TryScan(ReadOnlySpan{byte}, out HelloExtensionSummary)"/> found in a hello's extensions.</summary>
internal ref struct HelloExtensionSummary
{
    public bool ExtendedMasterSecret;
    public bool EncryptThenMac;
    public bool HasRenegotiationInfo;
    public bool HasSupportedGroups;
    public bool HasEcPointFormats;
    public bool HasSessionTicket;

    /// <summary>The SessionTicket extension_data (RFC 5077 §3.2): the ticket, or empty.</summary>
    public ReadOnlySpan<byte> SessionTicket;

    /// <summary>Any extension HotDtls does not interpret was present.</summary>
    public bool HasUnknown;

    /// <summary>renegotiated_connection of renegotiation_info.</summary>
    public ReadOnlySpan<byte> RenegotiationInfo;

    /// <summary>named_group_list content: big-endian uint16 code points.</summary>
    public ReadOnlySpan<byte> SupportedGroups;

    /// <summary>ec_point_format_list content.</summary>
    public ReadOnlySpan<byte> EcPointFormats;

    /// <summary>connection_id was present (RFC 9146 §3).</summary>
    public bool HasConnectionId;

    /// <summary>The CID of connection_id: the one its sender wants in the records it receives (may be empty).</summary>
    public ReadOnlySpan<byte> ConnectionId;

    /// <summary>rrc was present (draft-ietf-tls-dtls-rrc).</summary>
    public bool ReturnRoutabilityCheck;

    /// <summary>max_fragment_length was present (RFC 6066 §4).</summary>
    public bool HasMaxFragmentLength;

    /// <summary>The max_fragment_length code as sent (legal: 1..4).</summary>
    public byte MaxFragmentLength;

    /// <summary>record_size_limit was present (RFC 8449 §4).</summary>
    public bool HasRecordSizeLimit;

    /// <summary>The record_size_limit value as sent (legal: at least 64).</summary>
    public ushort RecordSizeLimit;
}
