using System.Security.Cryptography;
using System.Text;
using HotDtls.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace HotDtls.Samples.CoapEcho;

/// <summary>
/// CI's check that the sample works end to end: starts the host, sends one confirmable CoAP POST through a real DTLS
/// handshake with the client settings from configuration, expects the piggybacked 2.05 echo byte for byte and a
/// Healthy health check, stops the host (close_notify to the client) and returns the exit code.
/// </summary>
internal static class SelfTest
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    public static async Task<int> RunAsync(IHost host, IConfiguration clientSection)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await host.StartAsync(cts.Token);
        try
        {
            var server = host.Services.GetRequiredService<DtlsServerHostedService>().Server!;
            var options = DtlsConfiguration.BindClientOptions(clientSection);
            await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, options, cts.Token);

            var messageId = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
            var token = RandomNumberGenerator.GetBytes(4);
            var payload = "self-test"u8.ToArray();
            var request = new byte[64];
            var requestLength = CoapWriter.WritePost(request, messageId, token, "echo"u8, payload);
            await client.SendAsync(request.AsMemory(0, requestLength), cts.Token);

            var reply = new byte[client.MaxReceiveSize];
            var replyLength = await client.ReceiveAsync(reply, cts.Token);
            var expected = new byte[64];
            var expectedLength = CoapWriter.WriteResponse(expected, CoapType.Acknowledgement, messageId, token, payload);
            if (!reply.AsSpan(0, replyLength).SequenceEqual(expected.AsSpan(0, expectedLength)))
            {
                await Console.Error.WriteLineAsync(
                    $"self-test failed: expected {Convert.ToHexString(expected, 0, expectedLength)}, got {Convert.ToHexString(reply, 0, replyLength)}");
                return 1;
            }
            var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(cts.Token);
            Console.WriteLine(
                $"self-test passed: ACK 2.05 Content \"{Encoding.UTF8.GetString(payload)}\" from {server.LocalEndPoint} over {client.CipherSuite}; health {health.Status}");
            return health.Status == HealthStatus.Healthy ? 0 : 1;
        }
        catch (Exception exception) when (exception is DtlsException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"self-test failed: {exception.Message}");
            return 1;
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }
}
