using HotDtls.Hosting;
using HotDtls.Interop.Tests.Peers;
using HotDtls.Samples.CoapEcho;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace HotDtls.Interop.Tests;

/// <summary>
/// libcoap's client against the CoapEcho sample's handler on the Generic Host (HotDtls.Hosting, configured as the
/// sample's appsettings.json does): a confirmable GET of a path gets the path back in a piggybacked 2.05.
/// </summary>
public sealed class CoapEchoSampleInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_coapWait = TimeSpan.FromSeconds(10);

    [ToolFact("coap-client-openssl")]
    public async Task Coap_client_gets_its_path_echoed_by_the_CoapEcho_sample_on_the_Generic_Host()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HotDtls:Server:EndPoint"] = "127.0.0.1:0",
            ["HotDtls:Server:ReceiveLoops"] = "1",
            ["HotDtls:Server:Psk:IdentityHint"] = LibCoapTool.Credentials.Hint,
            // libcoap takes keys as text: the hex of "secretPSK".
            ["HotDtls:Server:Psk:Key"] = LibCoapTool.Credentials.KeyHex,
        });
        builder.Services.AddDtlsServer<CoapEchoHandler>(builder.Configuration.GetSection("HotDtls:Server"));
        using var host = builder.Build();
        await host.StartAsync(cts.Token);
        var endPoint = host.Services.GetRequiredService<DtlsServerHostedService>().Server!.LocalEndPoint;

        await using (var client = LibCoapClientPeer.Start("coap-client-openssl", endPoint, "hotdtls/echo", s_coapWait))
        {
            Assert.True(await client.WaitForExitAsync(cts.Token) == 0, client.Diagnostics);
            Assert.Equal("hotdtls/echo", client.Stdout.Trim());
        }
        await host.StopAsync(cts.Token);
    }
}
