namespace HotDtls.Interop.Tests.Peers;

/// <summary>Finds GnuTLS's command-line peers (priority strings: InteropSuites.GnuTlsPriority).</summary>
internal static class GnuTlsTool
{
    public const string InstallAdvice =
        "The interop tests drive GnuTLS's `gnutls-cli` and `gnutls-serv` (DTLS 1.2 PSK); install them "
        + "(Debian/Ubuntu: `apt-get install gnutls-bin`). CI installs them.";

    public static string Path(string tool)
        => ToolFinder.Find(tool) ?? throw new PeerException($"`{tool}` was not found on PATH. " + InstallAdvice);
}
