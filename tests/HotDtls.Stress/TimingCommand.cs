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
/// unknown identity versus a known identity with the wrong key, over a cookie wrong in its first byte versus
/// its last, and over a CBC record with bad padding versus one with a bad MAC. Runs are interleaved (A, B, A, B, ...) so machine noise falls on both alike; medians and their ratio
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

        // A CBC record (encrypt_then_mac) whose MAC is good but whose padding is bad, against one whose MAC is bad:
        // the server must spend the same time on both, or the difference is a padding oracle.
        var badPadding = new List<double>(iterations * 10);
        var badMac = new List<double>(iterations * 10);
        var cbc = new CbcRecords();
        for (var i = 0; i < (iterations * 10) + 500; i++)
        {
            double a, b;
            if (i % 2 == 0)
            {
                a = cbc.TimeOpen(cbc.BadPadding);
                b = cbc.TimeOpen(cbc.BadMac);
            }
            else
            {
                b = cbc.TimeOpen(cbc.BadMac);
                a = cbc.TimeOpen(cbc.BadPadding);
            }
            if (i >= 500)
            {
                badPadding.Add(a);
                badMac.Add(b);
            }
        }
        Report("CBC record, good MAC, bad padding", badPadding, "CBC record, bad MAC            ", badMac);
        return Task.FromResult(0);
    }

    /// <summary>
    /// Two 1 200-byte TLS_PSK_WITH_AES_128_CBC_SHA256 records (RFC 7366 layout), built outside HotDtls with the BCL's
    /// AES-CBC and HMAC-SHA256: one whose MAC verifies but whose padding bytes disagree with padding_length, one whose
    /// padding is right but whose MAC is off by one bit. Both are dropped; the question is only how long that takes.
    /// </summary>
    private sealed class CbcRecords
    {
        private const ushort Epoch = 1;
        private const ulong Sequence = 9;
        private readonly byte[] _encryptionKey = Convert.FromHexString("000102030405060708090a0b0c0d0e0f");
        private readonly byte[] _macKey = Convert.FromHexString("101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f");
        private readonly AeadRecordCipher _read;
        private readonly byte[] _work;

        public CbcRecords()
        {
            _read = new AeadRecordCipher(CipherSuiteInfo.Aes128CbcSha256, _encryptionKey, [], _macKey);
            BadPadding = Build(goodPadding: false, goodMac: true);
            BadMac = Build(goodPadding: true, goodMac: false);
            _work = new byte[BadPadding.Length];
        }

        public byte[] BadPadding { get; }

        public byte[] BadMac { get; }

        public double TimeOpen(byte[] record)
        {
            record.CopyTo(_work, 0);
            var start = Stopwatch.GetTimestamp();
            var opened = _read.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, _work, out _);
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            if (opened)
            {
                throw new InvalidOperationException("a forged CBC record opened");
            }
            return elapsed;
        }

        private byte[] Build(bool goodPadding, bool goodMac)
        {
            // 1 200 bytes of content, then 16 bytes of padding: 15 padding bytes and padding_length 15.
            var plaintext = new byte[1200 + 16];
            System.Security.Cryptography.RandomNumberGenerator.Fill(plaintext.AsSpan(0, 1200));
            plaintext.AsSpan(1200).Fill(15);
            if (!goodPadding)
            {
                plaintext[1205] = 14;
            }
            var iv = new byte[16];
            System.Security.Cryptography.RandomNumberGenerator.Fill(iv);
            using var aes = System.Security.Cryptography.Aes.Create();
            aes.Key = _encryptionKey;
            var ciphertext = aes.EncryptCbc(plaintext, iv, System.Security.Cryptography.PaddingMode.None);
            var macInput = new byte[13 + 16 + ciphertext.Length];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(macInput, ((ulong)Epoch << 48) | Sequence);
            macInput[8] = (byte)ContentType.ApplicationData;
            macInput[9] = 0xFE;
            macInput[10] = 0xFD;
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(macInput.AsSpan(11), (ushort)(16 + ciphertext.Length));
            iv.CopyTo(macInput, 13);
            ciphertext.CopyTo(macInput, 29);
            var mac = System.Security.Cryptography.HMACSHA256.HashData(_macKey, macInput);
            if (!goodMac)
            {
                mac[^1] ^= 1;
            }
            return [.. iv, .. ciphertext, .. mac];
        }
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
        // Plain PSK, as measured before ECDHE_PSK existed: an ephemeral key exchange would only add noise to both.
        clientOptions.CipherSuites.Clear();
        clientOptions.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
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
