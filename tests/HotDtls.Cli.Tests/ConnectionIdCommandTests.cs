using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HotDtls.Cli.Tests;

/// <summary>Connection ID (RFC 9146) on the command line: `serve --cid-length N | --no-cid` and `connect --cid`.</summary>
public sealed class ConnectionIdCommandTests
{
    private static readonly byte[] s_key = Convert.FromHexString("1a2b3c4d5e6f");

    [Fact]
    public void Without_the_options_the_library_defaults_stand()
    {
        var arguments = Arguments.Parse(["serve"], _ => null);
        Assert.False(arguments.OfferConnectionId);
        Assert.Null(arguments.ConnectionIdLength);
        Assert.False(arguments.NoConnectionId);

        var server = ServerOptions();
        arguments.ApplyConnectionIdTo(server);
        Assert.Equal(6, server.ConnectionIdLength);
        var client = new DtlsClientOptions { PskKey = s_key };
        arguments.ApplyConnectionIdTo(client);
        Assert.Null(client.ConnectionIdLength);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("4", 4)]
    [InlineData("10", 10)]
    public void Cid_length_sets_what_the_server_issues(string value, int expected)
    {
        var arguments = Arguments.Parse(["serve", "--cid-length", value], _ => null);
        var options = ServerOptions();
        arguments.ApplyConnectionIdTo(options);
        Assert.Equal(expected, options.ConnectionIdLength);
    }

    [Fact]
    public void No_cid_makes_the_server_ignore_the_extension_and_cid_makes_the_client_offer_it_with_an_empty_CID()
    {
        var server = ServerOptions();
        Arguments.Parse(["serve", "--no-cid"], _ => null).ApplyConnectionIdTo(server);
        Assert.Null(server.ConnectionIdLength);

        var arguments = Arguments.Parse(["connect", "127.0.0.1", "22334", "--cid", "--count", "2"], _ => null);
        Assert.True(arguments.OfferConnectionId);
        Assert.Equal(2, arguments.Count); // The options around it are still read.
        var client = new DtlsClientOptions { PskKey = s_key };
        arguments.ApplyConnectionIdTo(client);
        Assert.Equal(0, client.ConnectionIdLength);
    }

    [Theory]
    [InlineData(new[] { "--cid-length", "3" }, "0 or 4 to 10")]
    [InlineData(new[] { "--cid-length", "11" }, "0 or 4 to 10")]
    [InlineData(new[] { "--cid-length", "six" }, "0 or 4 to 10")]
    [InlineData(new[] { "--cid-length" }, "Required argument missing for option: '--cid-length'")]
    [InlineData(new[] { "--no-cid", "--cid-length", "6" }, "contradict")]
    [InlineData(new[] { "--cid-length", "6", "--no-cid" }, "contradict")]
    public void Bad_connection_id_options_say_what_is_wrong(string[] args, string expected)
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", .. args], _ => null));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void The_help_names_the_options()
    {
        var serve = CommandLine.Build().Subcommands.Single(c => c.Name == "serve");
        var connect = CommandLine.Build().Subcommands.Single(c => c.Name == "connect");
        Assert.Contains(serve.Options, o => o.Name == "--cid-length");
        Assert.Contains(serve.Options, o => o.Name == "--no-cid");
        Assert.Contains(connect.Options, o => o.Name == "--cid");
    }

    [Theory]
    [InlineData(new string[0], true)]
    [InlineData(new[] { "--cid-length", "4" }, true)]
    [InlineData(new[] { "--cid-length", "0" }, false)]
    [InlineData(new[] { "--no-cid" }, false)]
    public async Task Serve_issues_a_CID_unless_told_not_to_and_reports_sessions_that_use_one(string[] options, bool expected)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var port = FreeUdpPort();
        using var serve = Cli.Start(["serve", "--port", port.ToString(CultureInfo.InvariantCulture), .. options]);
        await serve.WaitForLineAsync($"listening on 127.0.0.1:{port}", cts.Token);
        var clientOptions = new DtlsClientOptions { PskIdentity = "cid test", PskKey = s_key, ConnectionIdLength = 0 };

        await using var client = await DtlsClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), clientOptions, cts.Token);
        Assert.Equal(expected, client.UsesConnectionId);
        // Each datagram is reported after the session's lines, so the report of this one comes after any CID line.
        client.Send("after the handshake"u8);
        await serve.WaitForLineAsync("as plain text: after the handshake", cts.Token);
        Assert.Equal(expected, serve.Seen.Any(l => l.Contains($"{client.LocalEndPoint}: uses a Connection ID", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(6, "Connection ID: the server issued one")]
    [InlineData(null, "Connection ID: offered, but the server did not take it up")]
    public async Task Connect_with_cid_offers_it_and_says_whether_the_server_issued_one(int? serverCidLength, string expected)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var options = ServerOptions();
        options.ConnectionIdLength = serverCidLength;
        var handler = new Handler();
        await using var server = new DtlsServer(options, handler);
        await server.StartAsync(cts.Token);

        using var connect = Cli.Start(["connect", "127.0.0.1", server.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture),
            "--cid", "--count", "1", "--interval", "100"]);
        await connect.WaitForLineAsync(expected, cts.Token);
        var session = await handler.Established.Task.WaitAsync(cts.Token);
        Assert.Equal(serverCidLength is > 0, session.UsesConnectionId);
        await connect.Process.WaitForExitAsync(cts.Token);
        Assert.Equal(0, connect.Process.ExitCode);
    }

    private static DtlsServerOptions ServerOptions() => new()
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        PskStore = PskStore.Single(s_key),
    };

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    private sealed class Handler : DtlsServerHandler
    {
        public TaskCompletionSource<DtlsSession> Established { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void OnSessionEstablished(DtlsSession session) => Established.TrySetResult(session);

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext) => session.TrySend(plaintext);
    }

    /// <summary>`hotdtls` as a process, its standard output read line by line; disposing kills it if it still runs.</summary>
    private sealed class Cli : IDisposable
    {
        private readonly System.Threading.Channels.Channel<string> _lines = System.Threading.Channels.Channel.CreateUnbounded<string>();

        private Cli(Process process)
        {
            Process = process;
            _ = Task.Factory.StartNew(() =>
            {
                while (process.StandardOutput.ReadLine() is { } line)
                {
                    _lines.Writer.TryWrite(line);
                }
                _lines.Writer.TryComplete();
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }

        public Process Process { get; }

        /// <summary>The lines read so far by <see cref="WaitForLineAsync"/>.</summary>
        public List<string> Seen { get; } = [];

        public static Cli Start(string[] args)
        {
            var start = new ProcessStartInfo("dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "HotDtls.Cli.dll"));
            foreach (var arg in args)
            {
                start.ArgumentList.Add(arg);
            }
            return new Cli(Process.Start(start)!);
        }

        public async Task<string> WaitForLineAsync(string contains, CancellationToken token)
        {
            await foreach (var line in _lines.Reader.ReadAllAsync(token))
            {
                Seen.Add(line);
                if (line.Contains(contains, StringComparison.Ordinal))
                {
                    return line;
                }
            }
            var error = await Process.StandardError.ReadToEndAsync(token);
            throw new InvalidOperationException($"The output ended without '{contains}':\n{string.Join('\n', Seen)}\n{error}");
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }
            Process.Dispose();
        }
    }
}
