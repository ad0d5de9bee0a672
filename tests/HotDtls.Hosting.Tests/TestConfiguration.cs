using Microsoft.Extensions.Configuration;

namespace HotDtls.Hosting.Tests;

/// <summary>In-memory configuration sections for the tests, under "HotDtls:Server" as an application would put them.</summary>
internal static class TestConfiguration
{
    public const string ServerPath = "HotDtls:Server";

    /// <summary>The seed's key, 1a2b3c4d5e6f.</summary>
    public static readonly byte[] Key = Convert.FromHexString("1a2b3c4d5e6f");

    /// <summary>A section at <paramref name="path"/> holding <paramref name="pairs"/> (keys relative to it).</summary>
    public static IConfigurationSection Section(string path, params (string Key, string? Value)[] pairs)
    {
        var data = pairs.ToDictionary(pair => $"{path}:{pair.Key}", pair => pair.Value);
        return new ConfigurationBuilder().AddInMemoryCollection(data).Build().GetSection(path);
    }

    public static IConfigurationSection ServerSection(params (string Key, string? Value)[] pairs) => Section(ServerPath, pairs);

    /// <summary>The section of <see cref="RunnableServer"/>.</summary>
    public static IConfigurationSection RunnableSection()
        => new ConfigurationBuilder().AddInMemoryCollection(RunnableServer()).Build().GetSection(ServerPath);

    /// <summary>A server that can start: loopback, a free port, one receive loop, the seed's identity hint and key.</summary>
    public static Dictionary<string, string?> RunnableServer(params (string Key, string? Value)[] extra)
    {
        var data = new Dictionary<string, string?>
        {
            [$"{ServerPath}:EndPoint"] = "127.0.0.1:0",
            [$"{ServerPath}:ReceiveLoops"] = "1",
            [$"{ServerPath}:Psk:IdentityHint"] = "Qt DTLS example server",
            [$"{ServerPath}:Psk:Key"] = "1a2b3c4d5e6f",
        };
        foreach (var (key, value) in extra)
        {
            data[$"{ServerPath}:{key}"] = value;
        }
        return data;
    }
}
