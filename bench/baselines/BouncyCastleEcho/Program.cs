using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;

namespace HotDtls.Bench.Baselines.BouncyCastleEcho;

/// <summary>
/// BouncyCastle DTLS 1.2 PSK echo server: many clients on one UDP socket, each decrypted datagram sent back
/// re-encrypted. Identity hint "Qt DTLS example server", any identity, key 1a2b3c4d5e6f, AES-GCM PSK suites.
/// Prints "listening on PORT" when bound; SIGINT/SIGTERM send close_notify to every peer and exit 0.
/// </summary>
internal static class Program
{
    private const string Usage = "usage: BouncyCastleEcho PORT [ADDRESS]   (ADDRESS default 127.0.0.1; PORT 0 = any)";

    public static async Task<int> Main(string[] args)
    {
        if (args.Length is < 1 or > 2
            || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }
        var address = IPAddress.Loopback;
        if (args.Length == 2 && !IPAddress.TryParse(args[1], out address))
        {
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        using var stop = new ManualResetEventSlim();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, stop));
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, stop));
        using var server = EchoServer.Start(new IPEndPoint(address, port));
        Console.WriteLine($"listening on {server.LocalEndPoint.Port}");
        stop.Wait();
        var closed = server.Stop();
        await Console.Error.WriteLineAsync($"BouncyCastleEcho: stopped; close_notify sent to {closed} peers").ConfigureAwait(false);
        return 0;
    }

    private static void Stop(PosixSignalContext context, ManualResetEventSlim stop)
    {
        context.Cancel = true; // exit through Main, not the runtime's default handler
        stop.Set();
    }
}
