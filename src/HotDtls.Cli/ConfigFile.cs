using System.Net;
using HotDtls.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace HotDtls.Cli;

/// <summary>
/// `serve --config FILE`: a JSON file in the schema of the HotDtls.Hosting package (docs/operations.md,
/// "Configuration"), read from its <c>HotDtls:Server</c> section, or from the root when the file has none — so an
/// application's appsettings.json serves as it is. Every option can be set there; the command line wins over the file
/// for what both name (address and port, hint, key, suites, loops).
/// <code>{ "HotDtls": { "Server": { "EndPoint": "0.0.0.0:5684", "Psk": { "IdentityHint": "gateway" }, "ReceiveLoops": 2 } } }</code>
/// </summary>
internal sealed class ConfigFile
{
    private readonly IConfiguration? _section;

    private ConfigFile(DtlsServerOptions? options, IConfiguration? section)
    {
        Options = options;
        _section = section;
    }

    /// <summary>No file: everything from the command line and the seed's defaults.</summary>
    public static ConfigFile Empty { get; } = new(null, null);

    /// <summary>The options the file sets (the library's defaults for the rest); null without a file.</summary>
    public DtlsServerOptions? Options { get; }

    public IPAddress? Address => Has("EndPoint") ? Options!.EndPoint?.Address : null;

    public int? Port => Has("EndPoint") ? Options!.EndPoint?.Port : null;

    public string? PskIdentityHint => Has("Psk:IdentityHint") ? Options!.PskIdentityHint : null;

    public IReadOnlyList<CipherSuite>? CipherSuites => Has("CipherSuites") ? [.. Options!.CipherSuites] : null;

    public int? ReceiveLoops => Has("ReceiveLoops") ? Options!.ReceiveLoops : null;

    /// <summary>The keys of the file's <c>Psk</c> section, when it names any.</summary>
    public IPskStore? PskStore => Options?.PskStore;

    private bool Has(string key) => _section is not null && _section.GetSection(key).Exists();

    /// <exception cref="UsageException">The file is missing or not JSON, or a key is unknown or holds a bad value (the message names the key, never a secret).</exception>
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
        var nested = root.GetSection("HotDtls:Server");
        IConfiguration section = nested.Exists() ? nested : root;
        try
        {
            return new ConfigFile(DtlsConfiguration.BindServerOptions(section), section);
        }
        catch (OptionsValidationException exception)
        {
            throw new UsageException($"--config {file.Name}: {string.Join(" ", exception.Failures)}");
        }
    }
}
