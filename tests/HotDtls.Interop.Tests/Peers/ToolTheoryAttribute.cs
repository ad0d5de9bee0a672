namespace HotDtls.Interop.Tests.Peers;

/// <summary>A <c>[Theory]</c> that is skipped, with the install advice as its reason, when a peer program it drives is not on PATH.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ToolTheoryAttribute : TheoryAttribute
{
    /// <summary>The test drives <paramref name="tools"/> (executable names looked up on PATH).</summary>
    public ToolTheoryAttribute(params string[] tools)
    {
        Tools = tools;
        Skip = ToolRequirement.SkipReason(tools);
    }

    /// <summary>The programs the test drives.</summary>
    public IReadOnlyList<string> Tools { get; }
}
