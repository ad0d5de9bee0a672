namespace HotDtls.Interop.Tests.Peers;

/// <summary>Finds GnuTLS's command-line peers and builds their priority strings.</summary>
internal static class GnuTlsTool
{
    public const string InstallAdvice =
        "The interop tests drive GnuTLS's `gnutls-cli` and `gnutls-serv` (DTLS 1.2 PSK); install them "
        + "(Debian/Ubuntu: `apt-get install gnutls-bin`). CI installs them.";

    public static string Path(string tool)
        => ToolFinder.Find(tool) ?? throw new PeerException($"`{tool}` was not found on PATH. " + InstallAdvice);

    /// <summary>DTLS 1.2, PSK key exchange, and only <paramref name="suite"/>'s cipher.</summary>
    public static string Priority(CipherSuite suite) => "NORMAL:-VERS-ALL:+VERS-DTLS1.2:-KX-ALL:+PSK:-CIPHER-ALL:+" + suite switch
    {
        CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256 => "AES-128-GCM",
        CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384 => "AES-256-GCM",
        _ => throw new ArgumentOutOfRangeException(nameof(suite)),
    };
}
