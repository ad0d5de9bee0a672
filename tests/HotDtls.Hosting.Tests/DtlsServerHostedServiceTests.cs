using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static HotDtls.Hosting.Tests.TestConfiguration;

namespace HotDtls.Hosting.Tests;

/// <summary>The host starts, stops and fails to start the server as documented, with a real DtlsClient.</summary>
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
    public async Task The_server_logs_through_the_hosts_logger_factory()
    {
        using var cts = new CancellationTokenSource(TestHost.Timeout);
        var logs = new CapturingLoggerProvider();
        using var host = TestHost.Build(RunnableServer(), services => services.AddLogging(logging => logging.AddProvider(logs)));

        await host.StartAsync(cts.Token);
        var endPoint = TestHost.RunningServer(host).LocalEndPoint;
        await host.StopAsync(cts.Token);

        Assert.Contains(logs.Entries, entry => entry.Category == "HotDtls.Server" && entry.Message.Contains(endPoint.ToString(), StringComparison.Ordinal));
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
}
