using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HotDtls.Hosting;

/// <summary>
/// Fills the container's <see cref="DtlsServerOptions"/>: first from the configuration section (when one was given),
/// then with the <see cref="IPskStore"/> registered in the container (when there is one), and with the container's
/// <see cref="IMeterFactory"/> so that the server's <c>HotDtls</c> meter belongs to the host. The application's own
/// <c>configure</c> delegate runs after this, so it has the last word.
/// </summary>
internal sealed partial class DtlsServerOptionsSetup(IConfiguration? section, IPskStore? registeredStore, IMeterFactory? meterFactory, ILogger logger)
    : IConfigureOptions<DtlsServerOptions>
{
    public void Configure(DtlsServerOptions options)
    {
        if (section is not null)
        {
            DtlsConfiguration.BindServerOptions(section, options);
        }
        if (registeredStore is not null)
        {
            if (options.PskStore is not null && section is IConfigurationSection { Path: var path })
            {
                // Both are deliberate choices; the one in code is the more specific. Say so rather than merge two
                // sources of keys whose precedence nobody would remember.
                LogRegisteredStoreWins(logger, path);
            }
            options.PskStore = registeredStore;
        }
        options.MeterFactory ??= meterFactory;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "{Section}:Psk names keys, but an IPskStore is registered in the service container: the registered store is used and the configured keys are ignored.")]
    private static partial void LogRegisteredStoreWins(ILogger logger, string section);
}
