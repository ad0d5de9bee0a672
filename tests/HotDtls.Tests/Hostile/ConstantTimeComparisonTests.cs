namespace HotDtls.Tests.Hostile;

/// <summary>
/// HOSTILE 41: cookies and verify_data are compared in constant time. A timing assertion in a unit test would be
/// flaky, so this reads the code: the two comparisons use <c>CryptographicOperations.FixedTimeEquals</c>, and no
/// other byte comparison in the library touches secret-derived data.
/// </summary>
public sealed class ConstantTimeComparisonTests
{
    private static readonly string Source = Path.Combine(FindRepositoryRoot(), "src", "HotDtls");

    [Fact]
    public void Cookie_verification_compares_with_FixedTimeEquals_under_both_secrets()
    {
        var code = Method(File.ReadAllText(Path.Combine(Source, "Cookies", "CookieVerifier.cs")), "public bool Verify(");

        Assert.Contains("CryptographicOperations.FixedTimeEquals(current, cookie)", code, StringComparison.Ordinal);
        Assert.Contains("CryptographicOperations.FixedTimeEquals(previous, cookie)", code, StringComparison.Ordinal);
        // A short-circuit || would skip the second comparison when the first matched, which time can reveal.
        Assert.DoesNotContain("||", code, StringComparison.Ordinal);
    }

    [Fact]
    public void Finished_verification_compares_with_FixedTimeEquals()
    {
        var code = Method(File.ReadAllText(Path.Combine(Source, "Connection", "DtlsConnection.Keys.cs")), "protected DtlsError VerifyPeerFinished(");

        Assert.Contains("CryptographicOperations.FixedTimeEquals(expected, verifyData)", code, StringComparison.Ordinal);
    }

    [Fact]
    public void No_other_byte_comparison_in_the_library_is_variable_time_except_on_public_data()
    {
        // Public data only: the client random is sent in clear in every ClientHello.
        string[] allowed = ["Server/ServerEngine.cs: body.Slice(randomOffset, KeySchedule.RandomLength).SequenceEqual(connection.ClientRandomBytes)"];
        var found = new List<string>();
        foreach (var file in Directory.GetFiles(Source, "*.cs", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Source, file).Replace('\\', '/');
            if (relative.StartsWith("obj/", StringComparison.Ordinal) || relative.StartsWith("bin/", StringComparison.Ordinal))
            {
                continue;
            }
            foreach (var line in File.ReadAllLines(file))
            {
                if (line.Contains("SequenceEqual(", StringComparison.Ordinal) || line.Contains("SequenceCompareTo(", StringComparison.Ordinal)
                    || line.Contains("memcmp", StringComparison.Ordinal))
                {
                    found.Add($"{relative}: {line.Trim().TrimStart('&', ' ').TrimEnd(';')}");
                }
            }
        }

        Assert.Equal(allowed, found);
    }

    private static string Method(string source, string signature)
    {
        var start = source.IndexOf(signature, StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{signature}' not found");
        var open = source.IndexOf('{', start);
        var depth = 0;
        for (var i = open; i < source.Length; i++)
        {
            depth += source[i] == '{' ? 1 : source[i] == '}' ? -1 : 0;
            if (depth == 0)
            {
                return source[start..(i + 1)];
            }
        }
        throw new InvalidOperationException("unbalanced braces");
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "HotDtls.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("HotDtls.sln not found above the test binaries");
    }
}
