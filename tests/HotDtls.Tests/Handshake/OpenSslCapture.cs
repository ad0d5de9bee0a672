namespace HotDtls.Tests.Handshake;

/// <summary>
/// Handshake messages of one real DTLS 1.2 PSK handshake, used as golden inputs. Obtained on loopback with
/// OpenSSL 3.0.19:
/// <code>
/// openssl s_server -dtls1_2 -listen -accept 127.0.0.1:47312 -nocert -psk 1a2b3c4d5e6f \
///     -psk_hint "Qt DTLS example server" -cipher PSK-AES128-GCM-SHA256 -msg
/// openssl s_client -dtls1_2 -connect 127.0.0.1:47312 -psk 1a2b3c4d5e6f \
///     -psk_identity "Qt DTLS example client" -cipher PSK-AES128-GCM-SHA256 -msg
/// </code>
/// and copied from the client's <c>-msg</c> hex dumps of content type 22 (each dump is one handshake
/// message: the 12-byte DTLS handshake header followed by the body; the Finished dumps are plaintext).
/// OpenSSL's ClientHello offers cipher_suites {00A8, 00FF (renegotiation SCSV)} and the extensions
/// session_ticket (0023), encrypt_then_mac (0016), extended_master_secret (0017) and signature_algorithms
/// (000D); its ServerHello answers with renegotiation_info (FF01, empty), session_ticket and
/// extended_master_secret, and its server later sends a NewSessionTicket (type 4). The full dump, including
/// the session's master secret, is kept next to this file in openssl-dtls12-psk-capture.txt; it is a checked
/// known answer for the key schedule: PSK premaster → extended master secret over
/// SHA-256(ClientHelloWithCookie ‖ ServerHello ‖ ServerKeyExchange ‖ ServerHelloDone ‖ ClientKeyExchange),
/// headers included, and both Finished verify_data.
/// </summary>
internal static class OpenSslCapture
{
    /// <summary>The first ClientHello, message_seq 0, no cookie.</summary>
    public static readonly byte[] ClientHelloWithoutCookie = Convert.FromHexString(
        "010000680000000000000068FEFDACA714FDC3AA188AEDF58F9DE823044F5B010F85AC8714F0166A430CE0CB9C4E0000000400A800FF"
        + "0100003A002300000016000000170000000D002A0028040305030603080708080809080A080B0804080508060401050106010303"
        + "03010302040205020602");

    /// <summary>The server's answer to it, message_seq 0; server_version is DTLS 1.0 as RFC 6347 §4.2.1 recommends.</summary>
    public static readonly byte[] HelloVerifyRequest = Convert.FromHexString(
        "030000170000000000000017FEFF14B37E26535EE951762DF285C9C2D484AFD1227A2B");

    /// <summary>The second ClientHello, message_seq 1, echoing the 20-byte cookie.</summary>
    public static readonly byte[] ClientHelloWithCookie = Convert.FromHexString(
        "0100007C000100000000007CFEFDACA714FDC3AA188AEDF58F9DE823044F5B010F85AC8714F0166A430CE0CB9C4E0014B37E26535E"
        + "E951762DF285C9C2D484AFD1227A2B000400A800FF0100003A002300000016000000170000000D002A00280403050306030807"
        + "08080809080A080B080408050806040105010601030303010302040205020602");

    public static readonly byte[] ServerHello = Convert.FromHexString(
        "020000350001000000000035FEFD5117C333AA863FE5D25E0A114D8115E2D9A0E2752CF7F8A315A5943C690765B80000A800000DFF"
        + "010001000023000000170000");

    public static readonly byte[] ServerKeyExchange = Convert.FromHexString(
        "0C0000180002000000000018001651742044544C53206578616D706C6520736572766572");

    public static readonly byte[] ServerHelloDone = Convert.FromHexString("0E0000000003000000000000");

    public static readonly byte[] ClientKeyExchange = Convert.FromHexString(
        "100000180002000000000018001651742044544C53206578616D706C6520636C69656E74");

    public static readonly byte[] ClientFinished = Convert.FromHexString("1400000C000300000000000C21CECDFCAE145AF801D9B7C7");

    public static readonly byte[] ServerFinished = Convert.FromHexString("1400000C000500000000000C91B135C4DD9FBCC01EB88CF5");

    /// <summary>The body of a captured message: everything after its 12-byte handshake header.</summary>
    public static byte[] Body(byte[] message) => message[12..];
}
