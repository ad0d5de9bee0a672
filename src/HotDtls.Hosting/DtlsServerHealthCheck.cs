using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HotDtls.Hosting;

/// <summary>
/// Healthy while the server runs with every receive loop receiving; Unhealthy before it starts, after it stops, or
/// when a loop has ended (its peers are no longer served); Degraded when the handshakes in progress reach
/// <see cref="DegradedHandshakeShare"/> of <see cref="DtlsServerOptions.MaxHandshakesInProgress"/>, where new ones
/// start to push out the oldest (a flood, or more clients at once than the cap was sized for).
/// </summary>
internal sealed class DtlsServerHealthCheck(DtlsServerHostedService service) : IHealthCheck
{
    public const double DegradedHandshakeShare = 0.9;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(Check(context.Registration.FailureStatus));

    private HealthCheckResult Check(HealthStatus failureStatus)
    {
        if (service.Server is not { } server)
        {
            return new HealthCheckResult(failureStatus, "The DTLS server has not started.");
        }
        var running = server.RunningLoops;
        var loops = server.ReceiveLoops;
        if (running == 0)
        {
            return new HealthCheckResult(failureStatus, "The DTLS server is not running.",
                data: new Dictionary<string, object> { ["runningLoops"] = 0 });
        }
        var statistics = server.Statistics;
        var data = new Dictionary<string, object>
        {
            ["endPoint"] = server.LocalEndPoint.ToString(),
            ["receiveLoops"] = loops,
            ["runningLoops"] = running,
            ["sessions"] = statistics.Sessions,
            ["handshakesInProgress"] = statistics.HandshakesInProgress,
            ["handshakesEvicted"] = statistics.HandshakesEvicted,
        };
        if (running < loops)
        {
            return new HealthCheckResult(failureStatus,
                $"{loops - running} of {loops} receive loops have stopped: their peers are not served.", data: data);
        }
        var cap = service.Options.MaxHandshakesInProgress;
        if (statistics.HandshakesInProgress >= DegradedHandshakeShare * cap)
        {
            return HealthCheckResult.Degraded(
                $"{statistics.HandshakesInProgress} handshakes in progress of at most {cap}: new ones push out the oldest.", data: data);
        }
        return HealthCheckResult.Healthy($"Listening on {server.LocalEndPoint} with {running} receive loops.", data);
    }
}
