using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using static HotDtls.Hosting.Tests.TestConfiguration;

namespace HotDtls.Hosting.Tests;

/// <summary>The health check's states and data over a server's life.</summary>
public sealed class DtlsServerHealthCheckTests
{
    private static async Task<HealthReportEntry> CheckAsync(IServiceProvider services)
    {
        var report = await services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        return report.Entries["dtls-server"];
    }

    [Fact]
    public async Task Unhealthy_before_start_Healthy_while_running_Unhealthy_after_stop()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        using var host = TestHost.Build(RunnableServer(("ReceiveLoops", "2")));

        Assert.Equal(HealthStatus.Unhealthy, (await CheckAsync(host.Services)).Status);

        await host.StartAsync(cts.Token);
        await using (var client = await DtlsClient.ConnectAsync(TestHost.RunningServer(host).LocalEndPoint, TestHost.ClientOptions(), cts.Token))
        {
            var running = await CheckAsync(host.Services);
            Assert.Equal(HealthStatus.Healthy, running.Status);
            var loops = TestHost.RunningServer(host).ReceiveLoops;
            Assert.Equal(loops, running.Data["receiveLoops"]);
            Assert.Equal(loops, running.Data["runningLoops"]);
            Assert.Equal(1, running.Data["sessions"]);
            Assert.Equal(TestHost.RunningServer(host).LocalEndPoint.ToString(), running.Data["endPoint"]);
        }

        await host.StopAsync(cts.Token);
        var stopped = await CheckAsync(host.Services);
        Assert.Equal(HealthStatus.Unhealthy, stopped.Status);
        Assert.Equal(0, stopped.Data["runningLoops"]);
    }

    private sealed class StallingStore : IPskStore
    {
        public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken)
        {
            Asked.TrySetResult();
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            return null;
        }
    }

    [Fact]
    public async Task Degraded_when_handshakes_in_progress_reach_the_cap()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var store = new StallingStore();
        using var host = TestHost.Build(RunnableServer(("MaxHandshakesInProgress", "1")),
            services => services.AddSingleton<IPskStore>(store));
        await host.StartAsync(cts.Token);
        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        var connecting = DtlsClient.ConnectAsync(TestHost.RunningServer(host).LocalEndPoint, TestHost.ClientOptions(), giveUp.Token);

        // The server is now waiting for the key: one handshake in progress, the cap.
        await store.Asked.Task.WaitAsync(cts.Token);
        var entry = await CheckAsync(host.Services);

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Equal(1, entry.Data["handshakesInProgress"]);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => connecting);
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public async Task The_failure_status_is_the_registrations()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDtlsServer<EchoHandler>(RunnableSection());
        services.AddHealthChecks().AddDtlsServerCheck("dtls-server", HealthStatus.Degraded);
        await using var provider = services.BuildServiceProvider();

        Assert.Equal(HealthStatus.Degraded, (await CheckAsync(provider)).Status);
    }
}
