namespace HotDtls.Interop.Tests.Peers;

/// <summary>Finds the <c>openssl</c> executable.</summary>
internal static class OpenSslTool
{
    public const string InstallAdvice =
        "The interop tests drive the `openssl` command (OpenSSL 3.x s_client/s_server); install it "
        + "(Debian/Ubuntu: `apt-get install openssl`, macOS: `brew install openssl@3`). CI installs it.";

    private static readonly Lazy<string?> s_path = new(Find);

    /// <summary>Full path of <c>openssl</c>; throws <see cref="PeerException"/> with install advice if absent.</summary>
    public static string Path => s_path.Value ?? throw new PeerException("`openssl` was not found on PATH. " + InstallAdvice);

    private static string? Find() => ToolFinder.Find("openssl");
}
