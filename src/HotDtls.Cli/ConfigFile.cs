using System.Net;
using Microsoft.Extensions.Configuration;

namespace HotDtls.Cli;

/// <summary>
/// `serve --config FILE`: the keys of a JSON file that `hotdtls serve` understands. Kept apart so that the
/// HotDtls.Hosting configuration binder can take its place. Keys are read from the root or from a "HotDtls" section:
/// <code>{ "Address": "0.0.0.0", "Port": 5684, "PskIdentityHint": "gateway", "CipherSuites": ["TLS_PSK_WITH_AES_128_CCM_8"], "ReceiveLoops": 2 }</code>
/// The PSK is not read from it: that comes from --key-file or HOTDTLS_KEY, which have their own file permissions.
/// </summary>
internal sealed record ConfigFile(IPAddress? Address, int? Port, string? PskIdentityHint, IReadOnlyList<CipherSuite>? CipherSuites, int? ReceiveLoops)
{
    public static ConfigFile Empty { get; } = new(null, null, null, null, null);

    /// <exception cref="UsageException">The file is missing, is not JSON, or holds a value serve cannot use.</exception>
    public static ConfigFile Read(FileInfo file)
    {
        IConfiguration root;
        try
        {
            root = new ConfigurationBuilder().AddJsonFile(file.FullName, optional: false, reloadOnChange: false).Build();
        }
        catch (Exception exception) when (exception is IOException or FormatException or InvalidDataException or UnauthorizedAccessException)
        {
            throw new UsageException($"--config: cannot read '{file.FullName}': {exception.Message}");
        }
        var section = root.GetSection("HotDtls") is { } nested && nested.GetChildren().Any() ? nested : root;
        return new ConfigFile(
            section["Address"] is { } address
                ? IPAddress.TryParse(address, out var parsed) ? parsed : throw Bad("Address", "an IP address")
                : null,
            Number(section, "Port", 0, 65535),
            section["PskIdentityHint"],
            Suites(section.GetSection("CipherSuites")),
            Number(section, "ReceiveLoops", 1, 1024));
    }

    private static int? Number(IConfiguration section, string key, int min, int max)
        => section[key] is not { } text ? null
            : int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
                && value >= min && value <= max
                ? value : throw Bad(key, $"a whole number from {min} to {max}");

    private static List<CipherSuite>? Suites(IConfigurationSection section)
    {
        var names = section.GetChildren().Select(child => child.Value).ToList();
        if (names.Count == 0)
        {
            return null;
        }
        return names.Select(name => name is not null && CliOptions.ParseSuite(name) is { } suite
            ? suite : throw Bad("CipherSuites", "a list of IANA cipher suite names")).Distinct().ToList();
    }

    private static UsageException Bad(string key, string expected) => new($"--config: {key} must be {expected}.");
}
