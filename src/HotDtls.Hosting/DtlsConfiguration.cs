using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace HotDtls.Hosting;

/// <summary>
/// Reads <see cref="DtlsServerOptions"/> and <see cref="DtlsClientOptions"/> from configuration (appsettings.json,
/// environment variables, the command line), key by key, and says which key is wrong when one is.
/// </summary>
/// <remarks>
/// <para>
/// Reflection binding (<c>ConfigurationBinder.Bind</c>) gets these options half right: it cannot read an endpoint, it
/// appends a configured suite list to the defaults instead of replacing them, and it cannot build an
/// <see cref="IPskStore"/>. These binders read each key by name: an absent key leaves the option as it was, a list
/// replaces the option's list, and every malformed value, unknown key or unknown name is reported with its full key
/// path (for example <c>HotDtls:Server:CipherSuites:1</c>). Messages never contain a key's hex or any value under
/// <c>Psk</c>, <c>SessionTicketKeys</c> or <c>Cluster:Keys</c>. docs/operations.md lists the keys.
/// </para>
/// <para>
/// Binding checks the form of each value; <see cref="ValidateServerOptions"/> then checks ranges and combinations
/// (the same rules <see cref="DtlsServer"/> enforces) and names the key that breaks one.
/// </para>
/// </remarks>
public static class DtlsConfiguration
{
    /// <summary>
    /// Sets the server options named in <paramref name="section"/> (for example <c>configuration.GetSection("HotDtls:Server")</c>).
    /// </summary>
    /// <param name="section">The section whose keys are the options' names (EndPoint, CipherSuites, Psk:Key…).</param>
    /// <param name="into">Options to change (keys absent from the section keep their values); a new instance when <see langword="null"/>.</param>
    /// <returns><paramref name="into"/>, or the new options.</returns>
    /// <exception cref="OptionsValidationException">
    /// A value is malformed, a name unknown, or a key not an option; <see cref="OptionsValidationException.Failures"/>
    /// holds one message per problem, each starting with the key's path. <paramref name="into"/> may be partly changed.
    /// </exception>
    public static DtlsServerOptions BindServerOptions(IConfiguration section, DtlsServerOptions? into = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = into ?? new DtlsServerOptions();
        var errors = new List<string>();
        var reader = new ConfigurationReader(section, errors);
        ReadShared(reader, options);
        reader.EndPoint(nameof(DtlsServerOptions.EndPoint), value => options.EndPoint = value);
        reader.Duration(nameof(DtlsServerOptions.ReleaseIdleCiphersAfter), value => options.ReleaseIdleCiphersAfter = value);
        reader.Duration(nameof(DtlsServerOptions.IdleTimeout), value => options.IdleTimeout = value);
        reader.Int(nameof(DtlsServerOptions.MaxSessions), value => options.MaxSessions = value);
        reader.Int(nameof(DtlsServerOptions.MaxHandshakesInProgress), value => options.MaxHandshakesInProgress = value);
        reader.Duration(nameof(DtlsServerOptions.CookieSecretRotation), value => options.CookieSecretRotation = value);
        reader.Int(nameof(DtlsServerOptions.ReceiveLoops), value => options.ReceiveLoops = value);
        reader.Enum<DtlsReceiveStrategy>(nameof(DtlsServerOptions.ReceiveStrategy), value => options.ReceiveStrategy = value,
            "a receive strategy");
        reader.NullableInt(nameof(DtlsServerOptions.ConnectionIdLength), value => options.ConnectionIdLength = value);
        reader.Byte(nameof(DtlsServerOptions.ConnectionIdNode), value => options.ConnectionIdNode = value);
        reader.Bool(nameof(DtlsServerOptions.EnableSessionResumption), value => options.EnableSessionResumption = value);
        reader.Int(nameof(DtlsServerOptions.MaxCachedSessions), value => options.MaxCachedSessions = value);
        reader.Duration(nameof(DtlsServerOptions.SessionLifetime), value => options.SessionLifetime = value);
        reader.Bool(nameof(DtlsServerOptions.EnableSessionTickets), value => options.EnableSessionTickets = value);
        reader.Duration(nameof(DtlsServerOptions.SessionTicketKeyRotation), value => options.SessionTicketKeyRotation = value);
        if (reader.List(nameof(DtlsServerOptions.SessionTicketKeys)) is { } ticketKeys)
        {
            options.SessionTicketKeys.Clear();
            foreach (var (key, hex) in ticketKeys)
            {
                if (reader.SecretHex(key, hex, maxLength: 48, exactLength: 48) is { } ticketKey)
                {
                    options.SessionTicketKeys.Add(ticketKey);
                }
            }
        }
        PskConfiguration.Read(reader.Section("Psk"), options);
        if (reader.Exists(nameof(DtlsServerOptions.Cluster)))
        {
            ClusterConfiguration.Read(reader.Section(nameof(DtlsServerOptions.Cluster)), options);
        }
        reader.ReportUnknownKeys();
        ThrowIfAny(errors, typeof(DtlsServerOptions));
        return options;
    }

    /// <summary>
    /// Sets the client options named in <paramref name="section"/>: PskIdentity, PskKey (hex), LocalEndPoint,
    /// ConnectionIdLength, UseSessionTickets, MaxFragmentLength and the settings shared with the server.
    /// </summary>
    /// <param name="section">The section whose keys are the options' names.</param>
    /// <param name="into">Options to change (keys absent from the section keep their values); a new instance when <see langword="null"/>.</param>
    /// <returns><paramref name="into"/>, or the new options.</returns>
    /// <exception cref="OptionsValidationException">As for <see cref="BindServerOptions"/>.</exception>
    public static DtlsClientOptions BindClientOptions(IConfiguration section, DtlsClientOptions? into = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        var options = into ?? new DtlsClientOptions();
        var errors = new List<string>();
        var reader = new ConfigurationReader(section, errors);
        ReadShared(reader, options);
        if (reader.String(nameof(DtlsClientOptions.PskIdentity)) is { } identity)
        {
            options.PskIdentity = identity;
        }
        if (reader.String(nameof(DtlsClientOptions.PskKey)) is { } hex
            && reader.SecretHex(nameof(DtlsClientOptions.PskKey), hex, PskStore.MaxKeyLength) is { } key)
        {
            options.PskKey = key;
        }
        reader.EndPoint(nameof(DtlsClientOptions.LocalEndPoint), value => options.LocalEndPoint = value);
        reader.NullableInt(nameof(DtlsClientOptions.ConnectionIdLength), value => options.ConnectionIdLength = value);
        reader.Bool(nameof(DtlsClientOptions.UseSessionTickets), value => options.UseSessionTickets = value);
        reader.NullableInt(nameof(DtlsClientOptions.MaxFragmentLength), value => options.MaxFragmentLength = value);
        reader.ReportUnknownKeys();
        ThrowIfAny(errors, typeof(DtlsClientOptions));
        return options;
    }

    /// <summary>
    /// Checks <paramref name="options"/> as <see cref="DtlsServer"/> will (ranges, combinations, required settings) and
    /// reports a problem under the configuration key that sets it.
    /// </summary>
    /// <param name="options">The options to check.</param>
    /// <param name="sectionPath">The section's path (for example "HotDtls:Server"), put before each key in messages.</param>
    /// <exception cref="OptionsValidationException">The options would be refused; the failure names the key.</exception>
    public static void ValidateServerOptions(DtlsServerOptions options, string? sectionPath = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (ServerOptionsValidation.Problem(options, sectionPath) is { } problem)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(DtlsServerOptions), [problem]);
        }
    }

    private static void ReadShared(ConfigurationReader reader, DtlsOptions options)
    {
        if (reader.List(nameof(DtlsOptions.CipherSuites)) is { } suites)
        {
            // Replaces the defaults: a configured list says exactly what to offer, in this order.
            options.CipherSuites.Clear();
            foreach (var (key, name) in suites)
            {
                if (reader.TryParseName(key, name, "a cipher suite HotDtls speaks", out CipherSuite suite))
                {
                    options.CipherSuites.Add(suite);
                }
            }
        }
        if (reader.List(nameof(DtlsOptions.NamedGroups)) is { } groups)
        {
            options.NamedGroups.Clear();
            foreach (var (key, name) in groups)
            {
                if (reader.TryParseName(key, name, "a named group HotDtls speaks", out NamedGroup group))
                {
                    options.NamedGroups.Add(group);
                }
            }
        }
        reader.Int(nameof(DtlsOptions.Mtu), value => options.Mtu = value);
        reader.NullableInt(nameof(DtlsOptions.RecordSizeLimit), value => options.RecordSizeLimit = value);
        reader.Duration(nameof(DtlsOptions.InitialRetransmitTimeout), value => options.InitialRetransmitTimeout = value);
        reader.Duration(nameof(DtlsOptions.MaxRetransmitTimeout), value => options.MaxRetransmitTimeout = value);
        reader.Duration(nameof(DtlsOptions.HandshakeTimeout), value => options.HandshakeTimeout = value);
        reader.Bool(nameof(DtlsOptions.RequireExtendedMasterSecret), value => options.RequireExtendedMasterSecret = value);
        reader.Int(nameof(DtlsOptions.MaxHandshakeMessageLength), value => options.MaxHandshakeMessageLength = value);
        reader.Int(nameof(DtlsOptions.MaxReassemblyBytes), value => options.MaxReassemblyBytes = value);
    }

    private static void ThrowIfAny(List<string> errors, Type optionsType)
    {
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, optionsType, errors);
        }
    }
}
