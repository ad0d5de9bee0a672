namespace HotDtls.Tests.Support;

/// <summary>The <c>[Theory]</c> counterpart of <see cref="LinuxFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class LinuxTheoryAttribute : TheoryAttribute
{
    public LinuxTheoryAttribute(string feature)
    {
        if (!OperatingSystem.IsLinux())
        {
            Skip = $"{feature} is Linux-only.";
        }
    }
}
