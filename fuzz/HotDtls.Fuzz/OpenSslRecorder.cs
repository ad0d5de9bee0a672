using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HotDtls.Fuzz.Targets;

namespace HotDtls.Fuzz;

/// <summary>
/// Records real OpenSSL handshakes as seeds: `openssl s_client` talks over UDP to the fuzzing harness's own engine
/// (fixed clock, randomness and cookie secret), so the recorded datagrams replay exactly — the cookie matches, and
/// the keys derived from the same randoms decrypt OpenSSL's records. Run it in a normal (Debug or Release) build:
/// the handshake must really complete for OpenSSL to send application data and close_notify.
/// </summary>
internal static class OpenSslRecorder
{
    private static readonly (string Name, string Cipher, string Identity, int Mtu, int DropServerDatagram)[] Runs =
    [
        ("aes128", "PSK-AES128-GCM-SHA256", "Client_identity", 0, -1),
        ("aes256", "PSK-AES256-GCM-SHA384", "Qt DTLS example client", 0, -1),
        ("mtu256", "PSK-AES128-GCM-SHA256", "Client_identity", 256, -1),
        ("identity-128", "PSK-AES256-GCM-SHA384", new string('o', 128), 0, -1),
        // The server's flight 4 lost once: OpenSSL retransmits its ClientHello and the server repeats the flight.
        ("lost-flight", "PSK-AES128-GCM-SHA256", "Client_identity", 0, 1),
        // AES-128-CCM_8; OpenSSL 3 files 64-bit tags under security level 0.
        ("ccm8", "PSK-AES128-CCM8:@SECLEVEL=0", "Client_identity", 0, -1),
        // ECDHE_PSK with ChaCha20-Poly1305: OpenSSL's supported_groups and ec_point_formats, an X25519 exchange. The
        // server's ephemeral key is random in a normal build, so the replay stops at the client's Finished (the keys
        // differ); the hellos and key exchange messages are what it brings.
        ("ecdhe-chacha20", "ECDHE-PSK-CHACHA20-POLY1305", "Client_identity", 0, -1),
    ];

    public static int Record(string directory, TextWriter log)
    {
        if (FuzzingBuild.Enabled)
        {
            log.WriteLine("record-openssl needs a normal build (dotnet run --project fuzz/HotDtls.Fuzz -- record-openssl DIR)");
            return 2;
        }
        var corpus = new Corpus(directory, "openssl");
        foreach (var run in Runs)
        {
            var steps = RecordOne(run.Cipher, run.Identity, run.Mtu, run.DropServerDatagram, corpus, out var delivered);
            log.WriteLine($"openssl-{run.Name}: {steps.Length} bytes of engine input, {delivered} application records delivered");
            if (delivered == 0)
            {
                log.WriteLine($"openssl-{run.Name}: the handshake did not reach application data; not kept");
                continue;
            }
            corpus.AddEngine(run.Name, steps);
        }
        corpus.Flush(log);
        return 0;
    }

    private static byte[] RecordOne(string cipher, string identity, int mtu, int dropServerDatagram, Corpus corpus, out int delivered)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.ReceiveTimeout = 250;
        EndPoint client = new IPEndPoint(IPAddress.Any, 0);
        var serverDatagrams = 0;
        using var harness = new EngineHarness((datagram, _) =>
        {
            corpus.AddDatagramAndMessages(datagram);
            if (serverDatagrams++ != dropServerDatagram)
            {
                socket.SendTo(datagram, client);
            }
        });

        var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            "s_client", "-dtls1_2", "-connect", $"127.0.0.1:{port}", "-psk", Convert.ToHexString(EngineHarness.Key),
            "-psk_identity", identity, "-cipher", cipher, "-no_ign_eof",
        })
        {
            start.ArgumentList.Add(argument);
        }
        if (mtu > 0)
        {
            start.ArgumentList.Add("-mtu");
            start.ArgumentList.Add(mtu.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        using var openssl = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
        openssl.OutputDataReceived += static (_, _) => { };
        openssl.ErrorDataReceived += static (_, _) => { };
        openssl.BeginOutputReadLine();
        openssl.BeginErrorReadLine();

        using var steps = new MemoryStream();
        var buffer = new byte[ushort.MaxValue];
        var clock = Stopwatch.StartNew();
        long last = 0;
        var sentPings = false;
        var deadline = TimeSpan.FromSeconds(15);
        while (clock.Elapsed < deadline && !openssl.HasExited)
        {
            int length;
            try
            {
                length = socket.ReceiveFrom(buffer, ref client);
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.TimedOut)
            {
                continue;
            }
            var now = clock.ElapsedMilliseconds;
            var datagram = buffer.AsSpan(0, length).ToArray();
            EngineTarget.WriteStep(steps, 0, (int)(now - last), datagram);
            corpus.AddDatagramAndMessages(datagram);
            harness.Advance((int)(now - last));
            last = now;
            harness.Deliver(0, datagram);
            if (!sentPings && harness.Engine.GetStatistics().HandshakesCompleted > 0)
            {
                sentPings = true;
                openssl.StandardInput.WriteLine("I am OpenSSL, please, accept our ping 1");
                openssl.StandardInput.WriteLine("I am OpenSSL, please, accept our ping 2");
                openssl.StandardInput.Close();
            }
        }
        if (!openssl.HasExited)
        {
            openssl.Kill();
        }
        delivered = harness.Delivered;
        return steps.ToArray();
    }
}
