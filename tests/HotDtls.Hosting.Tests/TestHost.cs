using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HotDtls.Hosting.Tests;

/// <summary>Builds a Generic Host running a DTLS server configured from in-memory settings, and a client for it.</summary>
internal static class TestHost
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static IHost Build(Dictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        services?.Invoke(builder.Services);
        builder.Services.AddDtlsServer<EchoHandler>(builder.Configuration.GetSection(TestConfiguration.ServerPath));
        builder.Services.AddHealthChecks().AddDtlsServerCheck();
        return builder.Build();
    }

    public static DtlsServer RunningServer(IHost host)
        => host.Services.GetRequiredService<DtlsServerHostedService>().Server
            ?? throw new InvalidOperationException("The host has not started the server.");

    public static DtlsClientOptions ClientOptions(byte[]? key = null)
        => new() { PskIdentity = "Qt DTLS example client", PskKey = key ?? TestConfiguration.Key };

    /// <summary>Sends <paramref name="text"/> and returns the server's answer.</summary>
    public static async Task<string> EchoAsync(DtlsClient client, string text, CancellationToken cancellationToken)
    {
        await client.SendAsync(Encoding.UTF8.GetBytes(text), cancellationToken);
        var buffer = new byte[client.MaxReceiveSize];
        var length = await client.ReceiveAsync(buffer, cancellationToken);
        return Encoding.UTF8.GetString(buffer, 0, length);
    }
}

/// <summary>Answers each datagram with "echo: " and the datagram.</summary>
internal sealed class EchoHandler : DtlsServerHandler
{
    public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        => session.Send([.. "echo: "u8, .. plaintext]);
}
