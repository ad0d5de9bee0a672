using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static HotDtls.Hosting.Tests.TestConfiguration;

namespace HotDtls.Hosting.Tests;

/// <summary>AddDtlsServer: where the options, the key store and the handler come from, and in which order.</summary>
public sealed class DtlsServiceCollectionExtensionsTests
{
    private sealed class RecordingStore(byte[] key) : IPskStore
    {
        public List<string> Identities { get; } = [];

        public ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken)
        {
            lock (Identities)
            {
                Identities.Add(System.Text.Encoding.UTF8.GetString(identity.Span));
            }
            return new(key);
        }
    }

    [Fact]
    public async Task An_IPskStore_registered_in_the_container_replaces_the_configured_keys()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var store = new RecordingStore([9, 8, 7, 6]);
        using var host = TestHost.Build(RunnableServer(), services => services.AddSingleton<IPskStore>(store));
        await host.StartAsync(cts.Token);

        await using var client = await DtlsClient.ConnectAsync(TestHost.RunningServer(host).LocalEndPoint,
            TestHost.ClientOptions([9, 8, 7, 6]), cts.Token);

        Assert.Equal("echo: via DI", await TestHost.EchoAsync(client, "via DI", cts.Token));
        Assert.Equal(["Qt DTLS example client"], store.Identities);
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public void A_registered_IPskStore_replacing_configured_keys_is_logged_as_a_warning_without_the_keys()
    {
        var logs = new CapturingLoggerProvider();
        var store = new RecordingStore([1]);
        using var host = TestHost.Build(RunnableServer(), services =>
        {
            services.AddSingleton<IPskStore>(store);
            services.AddLogging(logging => logging.AddProvider(logs));
        });

        var options = host.Services.GetRequiredService<IOptions<DtlsServerOptions>>().Value;

        Assert.Same(store, options.PskStore);
        var warning = Assert.Single(logs.Entries, entry => entry.Level == LogLevel.Warning);
        Assert.Equal("HotDtls.Hosting", warning.Category);
        Assert.StartsWith("HotDtls:Server:Psk names keys, but an IPskStore is registered", warning.Message);
        Assert.DoesNotContain("1a2b3c4d5e6f", warning.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_IPskStore_in_the_container_is_used_without_any_configuration()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<IPskStore>(new RecordingStore(Key));
        builder.Services.AddDtlsServer<EchoHandler>(options =>
        {
            options.EndPoint = new IPEndPoint(IPAddress.Loopback, 0);
            options.ReceiveLoops = 1;
        });
        using var host = builder.Build();
        await host.StartAsync(cts.Token);

        await using var client = await DtlsClient.ConnectAsync(TestHost.RunningServer(host).LocalEndPoint, TestHost.ClientOptions(), cts.Token);

        Assert.Equal("echo: in code", await TestHost.EchoAsync(client, "in code", cts.Token));
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public void The_configure_delegate_runs_after_the_configuration()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddDtlsServer<EchoHandler>(ServerSection(("EndPoint", "127.0.0.1:0"), ("Psk:Key", "01"), ("Mtu", "1000"), ("MaxSessions", "10")),
            options => options.Mtu = 1100);
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<DtlsServerOptions>>().Value;

        Assert.Equal(1100, options.Mtu);
        Assert.Equal(10, options.MaxSessions);
    }

    [Fact]
    public void The_server_meter_comes_from_the_hosts_meter_factory()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMetrics();
        builder.Services.AddDtlsServer<EchoHandler>(ServerSection(("EndPoint", "127.0.0.1:0"), ("Psk:Key", "01")));
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<DtlsServerOptions>>().Value;

        Assert.Same(host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(), options.MeterFactory);
    }

    private sealed class Greeting
    {
        public string Text => "hi from DI";
    }

    private sealed class GreetingHandler(Greeting greeting) : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
            => session.Send(System.Text.Encoding.UTF8.GetBytes(greeting.Text));
    }

    [Fact]
    public async Task The_handler_is_resolved_from_the_container_with_its_dependencies()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddSingleton<Greeting>();
        builder.Services.AddDtlsServer<GreetingHandler>(RunnableSection());
        using var host = builder.Build();
        await host.StartAsync(cts.Token);

        await using var client = await DtlsClient.ConnectAsync(TestHost.RunningServer(host).LocalEndPoint, TestHost.ClientOptions(), cts.Token);

        Assert.Equal("hi from DI", await TestHost.EchoAsync(client, "?", cts.Token));
        Assert.Same(host.Services.GetRequiredService<GreetingHandler>(), host.Services.GetRequiredService<GreetingHandler>());
        await host.StopAsync(cts.Token);
    }

    [Fact]
    public void A_second_server_in_one_container_is_refused()
    {
        var services = new ServiceCollection();
        services.AddDtlsServer<EchoHandler>(_ => { });

        Assert.Throws<InvalidOperationException>(() => services.AddDtlsServer<EchoHandler>(_ => { }));
    }
}
