using HotDtls.Client;
using System.Diagnostics;
using System.Net.Sockets;
using System.Net;
using HotDtls.Connection;
using HotDtls.Cookies;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Stress;

/// <summary>
/// HOSTILE 40 and 41 measured, not asserted: how long the server takes over a ClientKeyExchange flight with an
/// unknown identity versus a known identity with the wrong key, and over a cookie wrong in its first byte versus
/// its last. Runs are interleaved (A, B, A, B, ...) so machine noise falls on both alike; medians and their ratio
/// are printed.
/// </summary>
internal static class TimingCommand
{
    private static readonly byte[] Key = Convert.FromHexString("1a2b3c4d5e6f");
    private static readonly byte[] WrongKey = Convert.FromHexString("1a2b3c4d5e6e");

    public static Task<int> RunAsync(string[] args)
    {
        var iterations = 2000;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--iterations" when i + 1 < args.Length:
                    iterations = int.Parse(args[++i], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--short":
                    iterations = 200;
                    break;
                default:
                    Console.Error.WriteLine("usage: HotDtls.Stress timing [--iterations N] [--short]");
                    return Task.FromResult(2);
            }
        }

        var unknown = new List<double>(iterations);
        var wrongKey = new List<double>(iterations);
        for (var i = 0; i < iterations + 50; i++)
        {
            // The first 50 of each warm the JIT and are not kept.
            // The order alternates too, so whatever the first of a pair pays (caches, GC) falls on both.
            double a, b;
            if (i % 2 == 0)
            {
                a = TimeFlightFive("device-2", Key);
                b = TimeFlightFive("device-1", WrongKey);
            }
            else
            {
                b = TimeFlightFive("device-1", WrongKey);
                a = TimeFlightFive("device-2", Key);
            }
            if (i >= 50)
            {
                unknown.Add(a);
                wrongKey.Add(b);
            }
        }
        Report("flight 5, unknown identity   ", unknown, "flight 5, known identity, wrong key", wrongKey);

        var first = new List<double>(iterations * 10);
        var last = new List<double>(iterations * 10);
        using (var verifier = new CookieVerifier(TimeProvider.System, TimeSpan.FromMinutes(5), SystemRandomSource.Instance))
        {
            var address = new IPEndPoint(IPAddress.Loopback, 40000).Serialize();
            var addressBytes = address.Buffer.Span[..address.Size].ToArray();
            var prefix = new byte[2 + 32 + 1];
            var suffix = new byte[] { 0, 4, 0, 0xA8, 0, 0xA9, 1, 0 };
            var cookie = new byte[CookieVerifier.CookieLength];
            verifier.ComputeCookie(addressBytes, prefix, suffix, cookie);
            var wrongFirst = (byte[])cookie.Clone();
            wrongFirst[0] ^= 1;
            var wrongLast = (byte[])cookie.Clone();
            wrongLast[^1] ^= 1;
            for (var i = 0; i < (iterations * 10) + 500; i++)
            {
                var a = i % 2 == 0 ? TimeVerify(verifier, addressBytes, prefix, suffix, wrongFirst) : 0;
                var b = TimeVerify(verifier, addressBytes, prefix, suffix, wrongLast);
                a = i % 2 == 0 ? a : TimeVerify(verifier, addressBytes, prefix, suffix, wrongFirst);
                if (i >= 500)
                {
                    first.Add(a);
                    last.Add(b);
                }
            }
        }
        Report("cookie wrong in its first byte", first, "cookie wrong in its last byte ", last);
        return Task.FromResult(0);
    }

    private static double TimeVerify(CookieVerifier verifier, byte[] address, byte[] prefix, byte[] suffix, byte[] cookie)
    {
        var start = Stopwatch.GetTimestamp();
        _ = verifier.Verify(address, prefix, suffix, cookie);
        return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
    }

    /// <summary>Runs a handshake to the client's flight 5 and times the server's processing of it.</summary>
    private static double TimeFlightFive(string identity, byte[] key)
    {
        var known = new Dictionary<string, byte[]> { ["device-1"] = Key };
        var options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskIdentityHint = "Qt DTLS example server",
            PskStore = PskStore.FromDictionary(known),
        };
        options.ValidateServer();
        var toClient = new Outbox();
        using var engine = new ServerEngine(options, new DiscardingHandler(), toClient, NullLogger.Instance, SystemRandomSource.Instance);
        var clientAddress = new IPEndPoint(IPAddress.Loopback, 40000).Serialize();
        var clientOptions = new DtlsClientOptions { PskIdentity = identity, PskKey = key };
        clientOptions.ValidateClient();
        var toServer = new Outbox();
        var observer = new EstablishmentObserver();
        using var client = new ClientEngine(clientOptions, options.EndPoint.Serialize(), toServer, observer, SystemRandomSource.Instance);
        client.Start();
        double flightFive = 0;
        for (var round = 0; round < 4; round++)
        {
            foreach (var datagram in toServer.Take())
            {
                var isFlightFive = client.Connection.State == HandshakeState.ClientExpectChangeCipherSpec;
                var start = Stopwatch.GetTimestamp();
                engine.ProcessDatagram(clientAddress, datagram);
                if (isFlightFive)
                {
                    flightFive += Stopwatch.GetElapsedTime(start).TotalMicroseconds;
                }
            }
            foreach (var datagram in toClient.Take())
            {
                client.ProcessDatagram(datagram);
            }
        }
        if (flightFive == 0)
        {
            throw new InvalidOperationException($"the handshake never reached flight 5 (client state {client.Connection.State})");
        }
        return flightFive;
    }

    private static void Report(string nameA, List<double> a, string nameB, List<double> b)
    {
        a.Sort();
        b.Sort();
        static double P(List<double> s, double q) => s[(int)Math.Min(s.Count - 1, Math.Round(q * (s.Count - 1)))];
        Console.WriteLine($"{nameA}: median {P(a, 0.5),8:F2} µs  p10 {P(a, 0.1),8:F2}  p90 {P(a, 0.9),8:F2}  (n={a.Count})");
        Console.WriteLine($"{nameB}: median {P(b, 0.5),8:F2} µs  p10 {P(b, 0.1),8:F2}  p90 {P(b, 0.9),8:F2}  (n={b.Count})");
        Console.WriteLine($"  ratio of medians: {P(a, 0.5) / P(b, 0.5):F3}");
    }

    private sealed class Outbox : IDatagramSender
    {
        private readonly List<byte[]> _datagrams = [];

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer) => _datagrams.Add(datagram.ToArray());

        public byte[][] Take()
        {
            var all = _datagrams.ToArray();
            _datagrams.Clear();
            return all;
        }
    }
}
