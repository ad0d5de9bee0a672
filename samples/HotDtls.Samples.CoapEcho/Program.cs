using HotDtls;
using HotDtls.Hosting;
using HotDtls.Samples.CoapEcho;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

// A CoAP-style echo service over DTLS on the Generic Host. Settings: appsettings.json ("HotDtls:Server"), overridable
// by environment variables (HotDtls__Server__EndPoint=...) and the command line (--HotDtls:Server:EndPoint=...).
// --self-test: listen on a free loopback port, make one CoAP exchange with the in-process DtlsClient, print, exit.
const string SelfTestSwitch = "--self-test";
var selfTest = args.Contains(SelfTestSwitch);
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
{
    Args = [.. args.Where(arg => arg != SelfTestSwitch)],
    // appsettings.json sits beside the program, wherever `dotnet run` is started from.
    ContentRootPath = AppContext.BaseDirectory,
});
if (selfTest)
{
    builder.Configuration.AddInMemoryCollection([new("HotDtls:Server:EndPoint", "127.0.0.1:0")]);
}
builder.Services.AddDtlsServer<CoapEchoHandler>(builder.Configuration.GetSection("HotDtls:Server"));
builder.Services.AddHealthChecks().AddDtlsServerCheck();
using var host = builder.Build();

try
{
    if (!selfTest)
    {
        await host.RunAsync();
        return 0;
    }
    return await SelfTest.RunAsync(host, builder.Configuration.GetSection("HotDtls:Client"));
}
catch (Exception exception) when (exception is OptionsValidationException or DtlsException)
{
    // Bad configuration (the message names the key) or a port that cannot be bound: say so, no stack trace.
    await Console.Error.WriteLineAsync(exception.Message);
    return 1;
}
