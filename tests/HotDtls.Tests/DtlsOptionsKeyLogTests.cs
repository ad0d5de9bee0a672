using System.Net;
using System.Text.RegularExpressions;

namespace HotDtls.Tests;

/// <summary>Tests that set the process-wide key-logging AppContext switch: run one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KeyLoggingSwitchCollection
{
    public const string Name = "HotDtls.EnableKeyLogging switch";
}

/// <summary>
/// <see cref="DtlsOptions.KeyLogPath"/>: off by default, refused unless the application also turns on the
/// <see cref="DtlsOptions.KeyLoggingSwitch"/> switch, and then written by a real server and client over loopback.
/// </summary>
[Collection(KeyLoggingSwitchCollection.Name)]
public sealed partial class DtlsOptionsKeyLogTests : IDisposable
{
    private static readonly byte[] s_key = Convert.FromHexString("1a2b3c4d5e6f");
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"hotdtls-keylog-{Guid.NewGuid():N}.txt");

    [GeneratedRegex("^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$")]
    private static partial Regex LinePattern();

    private DtlsServerOptions ServerOptions() => new()
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        PskStore = PskStore.Single(s_key),
        KeyLogPath = _path,
        ReceiveLoops = 1,
    };

    private DtlsClientOptions ClientOptions() => new() { PskIdentity = "key log test", PskKey = s_key, KeyLogPath = _path };

    private sealed class AckHandler : DtlsServerHandler
    {
        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext) => session.Send("ACK"u8);
    }

    public void Dispose()
    {
        AppContext.SetSwitch(DtlsOptions.KeyLoggingSwitch, false);
        File.Delete(_path);
    }

    [Fact]
    public void Key_logging_is_off_by_default_in_both_roles()
    {
        Assert.Null(new DtlsServerOptions().KeyLogPath);
        Assert.Null(new DtlsClientOptions().KeyLogPath);
    }

    [Fact]
    public async Task Without_the_switch_a_key_log_path_is_refused_in_both_roles_saying_how_and_why()
    {
        AppContext.SetSwitch(DtlsOptions.KeyLoggingSwitch, false);

        var server = Assert.Throws<ArgumentException>(() => new DtlsServer(ServerOptions(), new AckHandler()));
        var client = await Assert.ThrowsAsync<ArgumentException>(
            () => DtlsClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, 9), ClientOptions()));

        foreach (var message in new[] { server.Message, client.Message })
        {
            Assert.Contains("HotDtls.EnableKeyLogging", message, StringComparison.Ordinal);
            Assert.Contains("decrypt", message, StringComparison.Ordinal);
        }
        Assert.False(File.Exists(_path));
    }

    [Fact]
    public async Task With_the_switch_a_server_and_a_client_sharing_one_file_each_append_the_same_line()
    {
        AppContext.SetSwitch(DtlsOptions.KeyLoggingSwitch, true);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var server = new DtlsServer(ServerOptions(), new AckHandler());
        await server.StartAsync(cts.Token);

        await using (var client = await DtlsClient.ConnectAsync(server.LocalEndPoint, ClientOptions(), cts.Token))
        {
            // The reply proves the server finished its handshake, hence wrote its line, before this reads the file.
            client.Send("ping"u8);
            var buffer = new byte[client.MaxReceiveSize];
            await client.ReceiveAsync(buffer, cts.Token);
        }

        var lines = await File.ReadAllLinesAsync(_path, cts.Token);
        Assert.Equal(2, lines.Length);
        Assert.Equal(lines[0], lines[1]);
        Assert.Matches(LinePattern(), lines[0]);
    }
}
