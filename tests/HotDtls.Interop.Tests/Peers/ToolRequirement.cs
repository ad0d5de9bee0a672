namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// Which peer programs a test needs, and why it is skipped when one is missing: the reason names the program and how
/// to install it. xUnit 2 cannot skip from inside a test, so <see cref="ToolFactAttribute"/> and
/// <see cref="ToolTheoryAttribute"/> decide at discovery time, before anything runs.
/// </summary>
internal static class ToolRequirement
{
    /// <summary>The variable CI sets so that a missing peer program fails its tests instead of skipping them.</summary>
    public const string RequireVariable = "HOTDTLS_REQUIRE_TOOLS";

    /// <summary>
    /// <c>HOTDTLS_REQUIRE_TOOLS=1</c> (set by <c>.ci/run</c>, which installs every peer): nothing is skipped, so a tool
    /// that went missing fails the tests that drive it (the peer drivers say which program and how to install it),
    /// and <c>ToolRequirementTests</c> lists every missing one.
    /// </summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Null when every tool is on PATH (or tools are required); otherwise the skip reason for the first one missing.</summary>
    public static string? SkipReason(IReadOnlyList<string> tools) => Required ? null : MissingReason(tools);

    /// <summary>Null when every tool is on PATH; otherwise which one is missing and how to install it.</summary>
    public static string? MissingReason(IReadOnlyList<string> tools)
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

    public static string InstallAdvice(string tool) => tool switch
    {
        "openssl" => OpenSslTool.InstallAdvice,
        _ when tool.StartsWith("gnutls-", StringComparison.Ordinal) => GnuTlsTool.InstallAdvice,
        _ when tool.StartsWith("coap-", StringComparison.Ordinal) => LibCoapTool.InstallAdvice,
        "tshark" => TsharkCapture.InstallAdvice,
        _ => "Install it and run the tests again.",
    };
}
