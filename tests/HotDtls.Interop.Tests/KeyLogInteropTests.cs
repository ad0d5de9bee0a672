using System.Net;
using System.Text;
using HotDtls.Interop.Tests.Peers;
using Xunit.Abstractions;

namespace HotDtls.Interop.Tests;

/// <summary>
/// The NSS key log does what it is for: Wireshark's dissector (tshark), given the file both roles wrote, decrypts a
/// captured HotDtls session and shows the application data.
/// </summary>
public sealed class KeyLogInteropTests(ITestOutputHelper output) : IDisposable
{
    private static readonly byte[] s_key = Convert.FromHexString("1a2b3c4d5e6f");
    private readonly string _directory = Directory.CreateTempSubdirectory("hotdtls-keylog-").FullName;

    private sealed class EchoHandler : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext) => session.Send(plaintext);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [ToolTheory("tshark")]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_256_CCM)]
    public async Task Tshark_decrypts_a_captured_session_with_the_key_log(CipherSuite suite)
    {
        const string Plaintext = "HotDtls key log interop: the quick brown fox";
        var keyLog = Path.Combine(_directory, "keylog.txt");
        var pcap = Path.Combine(_directory, "capture.pcapng");
        AppContext.SetSwitch(DtlsOptions.KeyLoggingSwitch, true);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var port = FreePort.GetUdpPort();
        await using var capture = await TsharkCapture.StartAsync(port, pcap);

        var serverOptions = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, port),
            PskStore = PskStore.Single(s_key),
            KeyLogPath = keyLog,
            ReceiveLoops = 1,
        };
        // The AEAD families tshark 4.0 (Debian 12) decrypts in DTLS. It cannot do the others: it does not know the
        // ECDHE_PSK AES suites (0xD001…, "can't find cipher suite"), and its DTLS ChaCha20-Poly1305 nonce leaves out the
        // epoch (auth tag mismatch, although OpenSSL and GnuTLS agree with HotDtls: HotDtlsServerInteropTests).
        serverOptions.CipherSuites.Clear();
        serverOptions.CipherSuites.Add(suite);
        var clientOptions = new DtlsClientOptions { PskIdentity = "key log interop", PskKey = s_key, KeyLogPath = keyLog };
        clientOptions.CipherSuites.Clear();
        clientOptions.CipherSuites.Add(suite);
        await using (var server = new DtlsServer(serverOptions, new EchoHandler()))
        {
            await server.StartAsync(cts.Token);
            await using var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, clientOptions, cts.Token);
            await client.SendAsync(Encoding.ASCII.GetBytes(Plaintext), cts.Token);
            var buffer = new byte[client.MaxReceiveSize];
            var length = await client.ReceiveAsync(buffer, cts.Token);
            Assert.Equal(Plaintext, Encoding.ASCII.GetString(buffer, 0, length));
        }
        AppContext.SetSwitch(DtlsOptions.KeyLoggingSwitch, false);
        await capture.StopAsync();

        var (fields, errors) = await TsharkCapture.RunAsync("-r", pcap, "-o", $"tls.keylog_file:{keyLog}",
            "-d", $"udp.port=={port},dtls", "-Y", "dtls.app_data", "-T", "fields", "-e", "frame.number", "-e", "data.data");
        output.WriteLine($"key log:\n{await File.ReadAllTextAsync(keyLog, cts.Token)}");
        output.WriteLine($"tshark -T fields -e frame.number -e data.data:\n{fields}{errors}");
        output.WriteLine($"capture stderr:\n{capture.Stderr}");

        // The echo: the client's datagram and the server's reply, each decrypted from its own record.
        var expected = Convert.ToHexStringLower(Encoding.ASCII.GetBytes(Plaintext));
        var decrypted = fields.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Count(line => line.EndsWith(expected, StringComparison.Ordinal));
        Assert.True(decrypted == 2, $"tshark decrypted {decrypted} of the 2 application records:\n{fields}{errors}\n{capture.Stderr}");
    }
}
