using System.Text.RegularExpressions;

namespace HotDtls.Hosting;

/// <summary>
/// Runs <see cref="DtlsServer"/>'s own checks of its options (by constructing one: the constructor validates and binds
/// nothing) and turns the first refusal into a message that starts with the configuration key to change.
/// </summary>
/// <remarks>
/// The library's messages name the property, and are free of secrets (they give key lengths, never keys); the
/// property maps to its key here. Keeping the rules in one place, the library, means the configuration can never
/// accept what the server refuses or refuse what it accepts.
/// </remarks>
internal static partial class ServerOptionsValidation
{
    private static readonly Dictionary<string, string> s_keyOfProperty = new(StringComparer.Ordinal)
    {
        [nameof(DtlsServerOptions.PskIdentityHint)] = "Psk:IdentityHint",
        [nameof(DtlsServerOptions.PskStore)] = "Psk",
        [nameof(DtlsServerOptions.RevealUnknownPskIdentity)] = "Psk:RevealUnknownIdentity",
    };

    public static string? Problem(DtlsServerOptions options, string? sectionPath)
    {
        var prefix = string.IsNullOrEmpty(sectionPath) ? "" : sectionPath + ":";
        // The two required settings get messages in configuration's terms rather than the library's C# examples.
        if (options.EndPoint is null)
        {
            return $"{prefix}EndPoint: required: the address and port to listen on, {EndPointText.Forms}.";
        }
        if (options.PskStore is null)
        {
            return $"{prefix}Psk: no pre-shared keys: set {prefix}Psk:Key (hex, one key for every identity) or "
                + $"{prefix}Psk:Keys:<identity> (hex), or register an IPskStore in the service container.";
        }
        try
        {
            _ = new DtlsServer(options, NoHandler.Instance);
        }
        catch (ArgumentException exception)
        {
            var text = exception.Message;
            var cut = text.IndexOf(" (Parameter '", StringComparison.Ordinal);
            if (cut > 0)
            {
                text = text[..cut];
            }
            if (exception is ArgumentOutOfRangeException { ActualValue: { } actual })
            {
                text += $" (configured: {actual})";
            }
            return KeyOf(exception.ParamName, text) is { } key ? $"{prefix}{key}: {text}" : $"{prefix.TrimEnd(':')}: {text}";
        }
        // The server reads its key file when it starts; a file that will not read is a configuration error now.
        if (options.Cluster?.KeyFile is { } keyFile)
        {
            try
            {
                _ = DtlsClusterKeys.Load(keyFile);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
            {
                return $"{prefix}Cluster:KeyFile: {exception.Message}";
            }
        }
        return null;
    }

    /// <summary>The configuration key a library message is about, from its parameter name or its first word.</summary>
    private static string? KeyOf(string? paramName, string message)
    {
        var property = paramName;
        var index = "";
        if (property is null)
        {
            var match = LeadingProperty().Match(message);
            if (match.Success)
            {
                property = match.Groups["name"].Value;
                index = match.Groups["index"].Success ? ":" + match.Groups["index"].Value : "";
            }
            else if (message.StartsWith("Cipher suite ", StringComparison.Ordinal))
            {
                property = nameof(DtlsOptions.CipherSuites);
            }
            else if (message.StartsWith("Named group ", StringComparison.Ordinal))
            {
                property = nameof(DtlsOptions.NamedGroups);
            }
        }
        if (property is not null && typeof(DtlsClusterOptions).GetProperty(property) is not null
            && (paramName is not null || message.StartsWith("DtlsClusterOptions.", StringComparison.Ordinal)))
        {
            return "Cluster:" + property + index;
        }
        if (property is null || typeof(DtlsServerOptions).GetProperty(property) is null)
        {
            return null;
        }
        return (s_keyOfProperty.TryGetValue(property, out var key) ? key : property) + index;
    }

    // "CipherSuites is empty…", "DtlsServerOptions.EndPoint is required…", "SessionTicketKeys[0] must be…".
    [GeneratedRegex(@"^(?:Dtls(?:Server|Cluster)Options\.)?(?<name>[A-Z][A-Za-z]+)(?:\[(?<index>\d+)\])?")]
    private static partial Regex LeadingProperty();

    private sealed class NoHandler : DtlsServerHandler
    {
        public static readonly NoHandler Instance = new();

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
        }
    }
}
