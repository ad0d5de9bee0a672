using System.Reflection;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>
/// Which peer programs the interop tests drive, and what happens when one is missing: skipped with the install advice
/// on a developer's machine (the README's test command passes with only the .NET SDK), failed under CI's
/// <c>HOTDTLS_REQUIRE_TOOLS=1</c>.
/// </summary>
public sealed class ToolRequirementTests
{
    /// <summary>Every program any [ToolFact] or [ToolTheory] of this assembly names.</summary>
    private static SortedSet<string> ToolsNamedByTests()
    {
        var tools = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var type in typeof(ToolRequirementTests).Assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static))
            {
                if (method.GetCustomAttribute<ToolFactAttribute>() is { } fact)
                {
                    tools.UnionWith(fact.Tools);
                }
                if (method.GetCustomAttribute<ToolTheoryAttribute>() is { } theory)
                {
                    tools.UnionWith(theory.Tools);
                }
            }
        }
        return tools;
    }

    [Fact]
    public void The_tests_name_the_peer_programs_they_drive()
    {
        var tools = ToolsNamedByTests();
        Assert.Contains("openssl", tools);
        Assert.Contains("gnutls-cli", tools);
        Assert.Contains("gnutls-serv", tools);
        Assert.Contains("coap-client-openssl", tools);
    }

    [Fact]
    public void When_tools_are_required_every_program_the_tests_drive_is_on_PATH()
    {
        if (!ToolRequirement.Required)
        {
            // Off CI a missing program skips its tests instead (the skip reason names it and how to install it).
            return;
        }
        var missing = new List<string>();
        foreach (var tool in ToolsNamedByTests())
        {
            if (ToolRequirement.MissingReason([tool]) is { } reason)
            {
                missing.Add(reason);
            }
        }
        Assert.True(missing.Count == 0, $"{ToolRequirement.RequireVariable}=1 but:\n{string.Join("\n", missing)}");
    }

    [Fact]
    public void A_missing_program_gives_a_reason_that_names_it_and_how_to_install_it()
    {
        var reason = ToolRequirement.MissingReason(["gnutls-cli-that-does-not-exist"]);
        Assert.NotNull(reason);
        Assert.Contains("`gnutls-cli-that-does-not-exist` is not on PATH", reason);
        Assert.Contains("apt-get install", reason);
        Assert.Null(ToolRequirement.MissingReason([]));
    }
}
