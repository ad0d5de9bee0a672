using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HotDtls.Hosting;

/// <summary>Adds the DTLS server's health check.</summary>
public static class DtlsHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a check of the server added by <c>AddDtlsServer</c>: Healthy while it runs with every receive loop
    /// receiving; <paramref name="failureStatus"/> (Unhealthy by default) before it starts, after it stops, or when a
    /// receive loop has ended; Degraded when handshakes in progress reach 90 % of
    /// <see cref="DtlsServerOptions.MaxHandshakesInProgress"/>. Its data: endPoint, receiveLoops, runningLoops,
    /// sessions, handshakesInProgress, handshakesEvicted.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name.</param>
    /// <param name="failureStatus">What to report when the server is not serving.</param>
    /// <param name="tags">Tags to filter checks by (for example "ready").</param>
    /// <returns><paramref name="builder"/>.</returns>
    public static IHealthChecksBuilder AddDtlsServerCheck(this IHealthChecksBuilder builder, string name = "dtls-server",
        HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add(new HealthCheckRegistration(name,
            provider => new DtlsServerHealthCheck(provider.GetRequiredService<DtlsServerHostedService>()),
            failureStatus, tags));
    }
}
