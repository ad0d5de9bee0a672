using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using HotDtls.Diagnostics;
using HotDtls.Tests.Support;
using Microsoft.Extensions.Logging;

namespace HotDtls.Tests.Diagnostics;

/// <summary>
/// The NSS key log's lines, and the engines of both roles writing them during in-memory handshakes: full, resumed,
/// and with a file that fails.
/// </summary>
public sealed partial class KeyLogWriterTests
{
    [GeneratedRegex("^CLIENT_RANDOM ([0-9a-f]{64}) ([0-9a-f]{96})$")]
    private static partial Regex LinePattern();

    /// <summary>Collects what a <see cref="KeyLogWriter"/> logs.</summary>
    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            => Entries.Add((logLevel, formatter(state, exception)));
    }

    private static (KeyLogWriter Writer, MemoryStream Stream) InMemory(ListLogger? logger = null)
    {
        var stream = new MemoryStream();
        return (new KeyLogWriter(stream, logger ?? new ListLogger(), "memory"), stream);
    }

    private static string[] Lines(MemoryStream stream)
        => Encoding.ASCII.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void A_line_is_CLIENT_RANDOM_then_the_random_and_the_master_secret_in_lower_case_hex()
    {
        var random = new byte[32];
        var secret = new byte[48];
        for (var i = 0; i < random.Length; i++)
        {
            random[i] = (byte)(0xA0 + i);
        }
        for (var i = 0; i < secret.Length; i++)
        {
            secret[i] = (byte)i;
        }
        var line = new byte[KeyLogWriter.LineLength];

        KeyLogWriter.Format(random, secret, line);

        Assert.Equal($"CLIENT_RANDOM {Convert.ToHexStringLower(random)} {Convert.ToHexStringLower(secret)}\n", Encoding.ASCII.GetString(line));
    }

    [Fact]
    public void Each_write_appends_one_line_and_opening_warns_that_key_logging_is_on()
    {
        var logger = new ListLogger();
        var (writer, stream) = InMemory(logger);

        writer.Write(new byte[32], new byte[48]);
        writer.Write(Enumerable.Repeat((byte)0xFF, 32).ToArray(), new byte[48]);

        Assert.Equal([$"CLIENT_RANDOM {new string('0', 64)} {new string('0', 96)}", $"CLIENT_RANDOM {new string('f', 64)} {new string('0', 96)}"],
            Lines(stream));
        var warning = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Key logging is ON", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failing_file_never_throws_and_is_reported_once()
    {
        var logger = new ListLogger();
        var stream = new MemoryStream();
        var writer = new KeyLogWriter(stream, logger, "broken");
        stream.Dispose();

        writer.Write(new byte[32], new byte[48]);
        writer.Write(new byte[32], new byte[48]);

        var failures = logger.Entries.Where(e => e.Message.Contains("failed", StringComparison.Ordinal)).ToList();
        var failure = Assert.Single(failures);
        Assert.Equal(LogLevel.Warning, failure.Level);
        Assert.Contains("ObjectDisposedException", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_roles_log_the_same_line_for_a_full_handshake_with_the_ClientHello_random()
    {
        var (serverLog, serverStream) = InMemory();
        var (clientLog, clientStream) = InMemory();
        using var server = new ServerHarness(keyLog: serverLog);
        using var client = new TestClient(server, Exchange.DefaultClient, keyLog: clientLog);

        client.Start();
        var hello = client.Sender.TakeAll();
        var offeredRandom = Wire.Records(hello[0].Datagram)[0].Body.AsSpan(12 + 2, 32).ToArray();
        foreach (var (datagram, _) in hello)
        {
            server.Deliver(client.Address, datagram);
        }
        Exchange.Pump(server, client);

        Assert.True(client.Established);
        var line = Assert.Single(Lines(clientStream));
        Assert.Equal([line], Lines(serverStream));
        var match = LinePattern().Match(line);
        Assert.True(match.Success, line);
        Assert.Equal(Convert.ToHexStringLower(offeredRandom), match.Groups[1].Value);
    }

    [Fact]
    public void A_resumed_session_logs_its_new_client_random_with_the_cached_master_secret()
    {
        var (serverLog, serverStream) = InMemory();
        var (clientLog, clientStream) = InMemory();
        using var server = new ServerHarness(o => o.EnableSessionResumption = true, keyLog: serverLog);
        DtlsSavedSession saved;
        using (var first = new TestClient(server, new IPEndPoint(IPAddress.Loopback, 41000), keyLog: clientLog))
        {
            first.Start();
            Exchange.Pump(server, first);
            saved = Assert.IsType<DtlsSavedSession>(first.Engine.SaveSession());
        }
        using var savedSession = saved;
        var options = TestClient.PlainPskOptions(server);
        options.Session = saved;
        using var second = new TestClient(server, new IPEndPoint(IPAddress.Loopback, 41001), options, seed: 8, keyLog: clientLog);

        second.Start();
        Exchange.Pump(server, second);

        Assert.True(second.Engine.IsResumed);
        var lines = Lines(clientStream);
        Assert.Equal(2, lines.Length);
        Assert.Equal(lines, Lines(serverStream));
        var full = LinePattern().Match(lines[0]);
        var resumed = LinePattern().Match(lines[1]);
        Assert.NotEqual(full.Groups[1].Value, resumed.Groups[1].Value);
        Assert.Equal(full.Groups[2].Value, resumed.Groups[2].Value);
    }
}
