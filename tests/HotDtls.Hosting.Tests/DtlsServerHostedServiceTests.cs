using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using static HotDtls.Hosting.Tests.TestConfiguration;

namespace HotDtls.Hosting.Tests;

public sealed class DtlsServerHostedServiceTests
{
    [Fact]
    public async Task The_host_starts_the_server_a_client_handshakes_and_stopping_sends_close_notify()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        using var host = TestHost.Build(RunnableServer());
        var service = host.Services.GetRequiredService<DtlsServerHostedService>();
        Assert.Null(service.Server);

        await host.StartAsync(cts.Token);
        var server = TestHost.RunningServer(host);
        Assert.NotEqual(0, server.LocalEndPoint.Port);
        await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, TestHost.ClientOptions(), cts.Token);
        Assert.Equal("Qt DTLS example server", client.PskIdentityHint);
        Assert.Equal("echo: hello", await TestHost.EchoAsync(client, "hello", cts.Token));

        await host.StopAsync(cts.Token);

        var closed = await Assert.ThrowsAsync<DtlsException>(async () => await client.ReceiveAsync(new byte[100], cts.Token));
        Assert.Equal(DtlsExceptionReason.PeerClosed, closed.Reason);
        Assert.Equal(0, server.RunningLoops);
    }

    [Fact]
    public async Task A_port_in_use_fails_the_host_start_with_the_DtlsException()
    {
        using var occupier = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        occupier.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var port = ((IPEndPoint)occupier.LocalEndPoint!).Port;
        using var host = TestHost.Build(RunnableServer(("EndPoint", $"127.0.0.1:{port}")));

        var error = await Assert.ThrowsAsync<DtlsException>(() => host.StartAsync());

        Assert.Equal(DtlsExceptionReason.AddressInUse, error.Reason);
        Assert.Contains($"127.0.0.1:{port}", error.Message);
    }

    [Fact]
    public async Task Bad_configuration_fails_the_host_start_naming_the_key_and_not_the_secret()
    {
        using var host = TestHost.Build(RunnableServer(("Mtu", "10"), ("Psk:Key", "00112233445566778899")));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.StartsWith("HotDtls:Server:Mtu: ", Assert.Single(error.Failures));
        Assert.DoesNotContain("00112233445566778899", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_value_fails_the_host_start_naming_the_key()
    {
        using var host = TestHost.Build(RunnableServer(("CipherSuites:0", "TLS_FOO")));

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.StartsWith("HotDtls:Server:CipherSuites:0: 'TLS_FOO' is not a cipher suite", Assert.Single(error.Failures));
    }

    [Fact]
    public async Task StartAsync_honours_a_cancelled_token_and_binds_nothing()
    {
        using var host = TestHost.Build(RunnableServer());
        var service = host.Services.GetRequiredService<DtlsServerHostedService>();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => service.StartAsync(new CancellationToken(canceled: true)));

        Assert.Equal(0, service.Server?.RunningLoops ?? 0);
    }

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
