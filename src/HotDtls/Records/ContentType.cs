namespace HotDtls.Records;

/// <summary>TLS record content types (RFC 5246 §6.2.1); the value is the wire byte.</summary>
internal enum ContentType : byte
{
    ChangeCipherSpec = 20,
    Alert = 21,
    Handshake = 22,
    ApplicationData = 23,

    /// <summary>
    /// tls12_cid, RFC 9146 §4: the outer type of every protected record of a session whose receiver asked for a
    /// non-empty Connection ID; the real type travels encrypted at the end of the DTLSInnerPlaintext.
    /// </summary>
    Tls12Cid = 25,

    /// <summary>
    /// return_routability_check, draft-ietf-tls-dtls-rrc (IANA early allocation 27): path_challenge / path_response,
    /// with which a server learns whether a CID peer's new address is reachable. Only ever protected.
    /// </summary>
    ReturnRoutabilityCheck = 27,
}

/// <summary>Wire values of DTLS protocol versions (RFC 6347 §4.1: the one's complement of the TLS version).</summary>
internal static class ProtocolVersion
{
    /// <summary>DTLS 1.2, {254, 253}.</summary>
    public const ushort Dtls12 = 0xFEFD;

    /// <summary>DTLS 1.0, {254, 255}: accepted on a first ClientHello record and written in HelloVerifyRequest (RFC 6347 §4.2.1).</summary>
    public const ushort Dtls10 = 0xFEFF;
}
