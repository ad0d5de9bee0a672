using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HotDtls.Bench.Baselines.UdpEcho;

/// <summary>
/// Plaintext UDP echo server, the .NET socket baseline of the benchmark suite: every datagram goes back to
/// its sender, byte for byte, from one socket and one loop.
/// </summary>
/// <remarks>
/// Two modes, the two ways .NET code reads UDP without allocating per datagram:
/// <list type="bullet">
/// <item><c>async</c>: <see cref="Socket.ReceiveFromAsync(Memory{byte}, SocketFlags, SocketAddress, CancellationToken)"/>
/// in one loop, the reply sent with the synchronous <see cref="Socket.SendTo(ReadOnlySpan{byte}, SocketFlags, SocketAddress)"/>.
/// Each receive completes through the socket engine's epoll thread and a thread-pool continuation.</item>
/// <item><c>blocking</c>: <see cref="Socket.ReceiveFrom(Span{byte}, SocketFlags, SocketAddress)"/> on one dedicated
/// thread, then the same <c>SendTo</c>: two system calls per datagram, nothing else.</item>
/// </list>
/// Both use the <see cref="SocketAddress"/> overloads, so no <see cref="EndPoint"/> is allocated per datagram.
/// Prints "listening on PORT" when bound; SIGINT/SIGTERM end it with exit status 0.
/// </remarks>
internal static class Program
{
    private const string Usage = "usage: UdpEcho async|blocking PORT [ADDRESS]   (ADDRESS default 127.0.0.1; PORT 0 = any)";

    /// <summary>Larger than any UDP payload (65507), so nothing is ever truncated.</summary>
    private const int BufferSize = 65536;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length is < 2 or > 3 || args[0] is not ("async" or "blocking")
            || !int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }
        var address = IPAddress.Loopback;
        if (args.Length == 3 && !IPAddress.TryParse(args[2], out address))
        {
            await Console.Error.WriteLineAsync(Usage).ConfigureAwait(false);
            return 2;
        }

        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, port));
        using var stop = new CancellationTokenSource();
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, stop));
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, stop));

        var buffer = GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        Console.WriteLine($"listening on {((IPEndPoint)socket.LocalEndPoint!).Port}");
        long echoed;
        if (args[0] == "async")
        {
            echoed = await EchoAsync(socket, buffer, stop.Token).ConfigureAwait(false);
        }
        else
        {
            long count = 0;
            var thread = new Thread(() => count = EchoBlocking(socket, buffer, stop.Token))
            {
                Name = "udp-echo",
                IsBackground = true,
            };
            thread.Start();
            // Closing the socket is what ends a blocking ReceiveFrom: wait for the signal, then close.
            stop.Token.WaitHandle.WaitOne();
            socket.Close();
            thread.Join();
            echoed = count;
        }
        await Console.Error.WriteLineAsync($"UdpEcho {args[0]}: stopped after {echoed} datagrams").ConfigureAwait(false);
        return 0;
    }

    private static void Stop(PosixSignalContext context, CancellationTokenSource stop)
    {
        context.Cancel = true; // exit through Main, not the runtime's default handler
        stop.Cancel();
    }

    private static async Task<long> EchoAsync(Socket socket, byte[] buffer, CancellationToken stop)
    {
        var peer = new SocketAddress(socket.AddressFamily);
        long echoed = 0;
        while (true)
        {
            int received;
            try
            {
                received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, peer, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return echoed;
            }
            catch (SocketException)
            {
                continue; // e.g. an ICMP error reported on the socket: UDP carries on
            }
            Send(socket, buffer.AsSpan(0, received), peer);
            echoed++;
        }
    }

    private static long EchoBlocking(Socket socket, byte[] buffer, CancellationToken stop)
    {
        var peer = new SocketAddress(socket.AddressFamily);
        long echoed = 0;
        while (!stop.IsCancellationRequested)
        {
            int received;
            try
            {
                received = socket.ReceiveFrom(buffer, SocketFlags.None, peer);
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException) when (!stop.IsCancellationRequested)
            {
                continue;
            }
            catch (SocketException)
            {
                break; // the socket was closed under the call
            }
            Send(socket, buffer.AsSpan(0, received), peer);
            echoed++;
        }
        return echoed;
    }

    private static void Send(Socket socket, ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        try
        {
            socket.SendTo(datagram, SocketFlags.None, peer);
        }
        catch (SocketException)
        {
            // The send buffer is full or the peer is unreachable: dropped, as UDP may.
        }
    }
}
