namespace HotDtls.Tests.Support;

/// <summary>
/// A <c>[Fact]</c> for Linux-only kernel features, skipped with the reason elsewhere. xUnit 2 cannot skip from inside
/// a test, so the decision is made at discovery.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class LinuxFactAttribute : FactAttribute
{
    public LinuxFactAttribute(string feature)
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = $"{feature} is Linux-only.";
        }
    }
}
