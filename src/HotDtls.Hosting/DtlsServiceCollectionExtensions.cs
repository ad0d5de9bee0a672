using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace HotDtls.Hosting;

/// <summary>Adds a HotDtls server to a service container, run by the host (<see cref="DtlsServerHostedService"/>).</summary>
public static class DtlsServiceCollectionExtensions
{
    /// <summary>
    /// Adds a DTLS server whose options come from the container (<c>services.Configure&lt;DtlsServerOptions&gt;</c>) and
    /// its <see cref="IPskStore"/>; see <see cref="AddDtlsServer{THandler}(IServiceCollection, Action{DtlsServerOptions})"/>.
    /// </summary>
    /// <typeparam name="THandler">The application's handler, resolved from the container.</typeparam>
    /// <param name="services">The container.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="InvalidOperationException">A DTLS server was already added: one per container.</exception>
    public static IServiceCollection AddDtlsServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services)
        where THandler : DtlsServerHandler
        => Add<THandler>(services, section: null, configure: null);

    /// <summary>
    /// Adds a DTLS server configured in code. The handler is resolved from the container (registered as a
    /// singleton here unless the application registered <typeparamref name="THandler"/> itself); an
    /// <see cref="IPskStore"/> registered in the container becomes <see cref="DtlsServerOptions.PskStore"/> before
    /// <paramref name="configure"/> runs. Invalid options fail the host's start with an
    /// <see cref="OptionsValidationException"/>; a port that cannot be bound fails it with a <see cref="DtlsException"/>.
    /// </summary>
    /// <typeparam name="THandler">The application's handler.</typeparam>
    /// <param name="services">The container.</param>
    /// <param name="configure">Sets the options (run last).</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="InvalidOperationException">A DTLS server was already added: one per container.</exception>
    public static IServiceCollection AddDtlsServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services, Action<DtlsServerOptions> configure)
        where THandler : DtlsServerHandler
    {
        ArgumentNullException.ThrowIfNull(configure);
        return Add<THandler>(services, section: null, configure);
    }

    /// <summary>
    /// Adds a DTLS server configured from <paramref name="section"/>; see
    /// <see cref="AddDtlsServer{THandler}(IServiceCollection, IConfiguration, Action{DtlsServerOptions})"/>.
    /// </summary>
    /// <typeparam name="THandler">The application's handler, resolved from the container.</typeparam>
    /// <param name="services">The container.</param>
    /// <param name="section">The configuration section holding the server's settings.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="InvalidOperationException">A DTLS server was already added: one per container.</exception>
    public static IServiceCollection AddDtlsServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services, IConfiguration section)
        where THandler : DtlsServerHandler
    {
        ArgumentNullException.ThrowIfNull(section);
        return Add<THandler>(services, section, configure: null);
    }

    /// <summary>
    /// Adds a DTLS server configured from <paramref name="section"/> (for example
    /// <c>builder.Configuration.GetSection("HotDtls:Server")</c>; keys: docs/_fragments/configuration.md) by
    /// <see cref="DtlsConfiguration.BindServerOptions"/>, then by the container's <see cref="IPskStore"/> if one is
    /// registered (it replaces keys named under <c>Psk</c>, with a warning), then by <paramref name="configure"/>.
    /// Problems fail the host's start with an <see cref="OptionsValidationException"/> whose failures name the keys;
    /// a port that cannot be bound fails it with a <see cref="DtlsException"/>.
    /// </summary>
    /// <typeparam name="THandler">The application's handler, resolved from the container.</typeparam>
    /// <param name="services">The container.</param>
    /// <param name="section">The configuration section holding the server's settings.</param>
    /// <param name="configure">Sets options after the configuration (run last); <see langword="null"/> for none.</param>
    /// <returns><paramref name="services"/>.</returns>
    /// <exception cref="InvalidOperationException">A DTLS server was already added: one per container.</exception>
    public static IServiceCollection AddDtlsServer<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(
        this IServiceCollection services, IConfiguration section, Action<DtlsServerOptions>? configure)
        where THandler : DtlsServerHandler
    {
        ArgumentNullException.ThrowIfNull(section);
        return Add<THandler>(services, section, configure);
    }

    private static IServiceCollection Add<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(IServiceCollection services, IConfiguration? section,
        Action<DtlsServerOptions>? configure)
        where THandler : DtlsServerHandler
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(descriptor => descriptor.ServiceType == typeof(DtlsServerHostedService)))
        {
            throw new InvalidOperationException(
                "AddDtlsServer was already called: a container runs one DTLS server (its options are the container's DtlsServerOptions).");
        }
        services.TryAddSingleton<THandler>();
        services.AddOptions<DtlsServerOptions>();
        services.AddSingleton<IConfigureOptions<DtlsServerOptions>>(provider => new DtlsServerOptionsSetup(section,
            provider.GetService<IPskStore>(),
            provider.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
            provider.GetService<ILoggerFactory>()?.CreateLogger("HotDtls.Hosting") ?? NullLogger.Instance));
        if (configure is not null)
        {
            services.Configure(configure);
        }
        services.AddSingleton<IValidateOptions<DtlsServerOptions>>(new DtlsServerOptionsValidator(section));
        services.AddSingleton(provider => new DtlsServerHostedService(
            provider.GetRequiredService<IOptions<DtlsServerOptions>>(),
            provider.GetRequiredService<THandler>(),
            provider.GetService<ILoggerFactory>()));
        services.AddHostedService(provider => provider.GetRequiredService<DtlsServerHostedService>());
        return services;
    }
}
