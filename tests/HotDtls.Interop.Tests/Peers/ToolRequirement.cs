namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// Which peer programs a test needs, and why it is skipped when one is missing: the reason names the program and how
/// to install it. xUnit 2 cannot skip from inside a test, so <see cref="ToolFactAttribute"/> and
/// <see cref="ToolTheoryAttribute"/> decide at discovery time, before anything runs.
/// </summary>
internal static class ToolRequirement
{
    /// <summary>Null when every tool is on PATH; otherwise the skip reason for the first one missing.</summary>
    public static string? SkipReason(IReadOnlyList<string> tools)
    {
        foreach (var tool in tools)
        {
            if (ToolFinder.Find(tool) is null)
            {
                return $"`{tool}` is not on PATH. {InstallAdvice(tool)}";
            }
        }
        return null;
    }

    private static string InstallAdvice(string tool) => tool switch
    {
        "openssl" => OpenSslTool.InstallAdvice,
        _ when tool.StartsWith("gnutls-", StringComparison.Ordinal) => GnuTlsTool.InstallAdvice,
        _ when tool.StartsWith("coap-", StringComparison.Ordinal) => LibCoapTool.InstallAdvice,
        "tshark" => TsharkCapture.InstallAdvice,
        _ => "Install it and run the tests again.",
    };
}
