using System.Text;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>Finds libcoap's example programs (Debian's libcoap3-bin) and holds the credentials they are given.</summary>
/// <remarks>
/// Each program comes in one build per DTLS library: <c>coap-client-openssl</c>, <c>coap-client-gnutls</c>,
/// <c>coap-server-openssl</c>, <c>coap-server-gnutls</c>. They take the PSK as text (<c>-k</c>: the key is the bytes
/// of the argument, not hex), so <see cref="Credentials"/> has a printable key.
/// </remarks>
internal static class LibCoapTool
{
    public const string InstallAdvice =
        "The interop tests drive libcoap's `coap-client-openssl`, `coap-client-gnutls`, `coap-server-openssl` and "
        + "`coap-server-gnutls` (CoAP over DTLS 1.2 PSK); install them (Debian/Ubuntu: `apt-get install libcoap3-bin`). "
        + "CI installs them.";

    /// <summary>The Qt example's identity and hint with the printable key "secretPSK" (libcoap takes keys as text).</summary>
    public static PeerCredentials Credentials { get; } = PeerCredentials.Default with { KeyHex = Convert.ToHexString("secretPSK"u8) };

    public static string Path(string tool)
        => ToolFinder.Find(tool) ?? throw new PeerException($"`{tool}` was not found on PATH. " + InstallAdvice);

    /// <summary>The key as the text libcoap's <c>-k</c> takes.</summary>
    public static string KeyText(PeerCredentials credentials) => Encoding.ASCII.GetString(credentials.GetKey());
}
