using System.Net;
using System.Reflection;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Server;
using HotDtls.Tests.Hostile;
using HotDtls.Tests.Support;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;

namespace HotDtls.Tests.Server;

/// <summary>
/// The engine's log at Trace level, captured: keys, master secrets and Finished verify_data never appear in any
/// message, argument or exception (STYLE habit 8), and the seed's reports are all there at their levels, the
/// decryption-failure error rate-limited against a flood of forged records.
/// </summary>
public sealed class SecretsAreNotLoggedTests
{
    private static readonly IPEndPoint s_good = new(IPAddress.Loopback, 44001);
    private static readonly IPEndPoint s_wrongKey = new(IPAddress.Loopback, 44002);
    private static readonly IPEndPoint s_unknown = new(IPAddress.Loopback, 44003);
    private static readonly IPEndPoint s_asyncFail = new(IPAddress.Loopback, 44004);
    private static readonly IPEndPoint s_asyncGood = new(IPAddress.Loopback, 44005);
    private static readonly byte[] s_wrongKeyBytes = Convert.FromHexString("1a2b3c4d5e6e");
    private static readonly byte[] s_asyncKey = Convert.FromHexString("9f8e7d6c5b4a39281706f5e4d3c2b1a00123456789abcdeffedcba9876543210");

    private sealed record Entry(LogLevel Level, EventId Id, string Message, string? Exception, List<string> Arguments, long AtMs)
    {
        public IEnumerable<string> Texts => [Message, Exception ?? "", .. Arguments];
    }

    /// <summary>Keeps every entry, with its formatted message, each structured argument and the exception's full text.</summary>
    private sealed class CapturingLogger(TimeProvider time) : ILogger
    {
        private readonly Lock _gate = new();
        private readonly List<Entry> _entries = [];

        public List<Entry> Entries
        {
            get
            {
                lock (_gate)
                {
                    return [.. _entries];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            var arguments = new List<string>();
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var pair in pairs)
                {
                    arguments.Add(pair.Value is byte[] bytes ? Convert.ToHexString(bytes) : pair.Value?.ToString() ?? "");
                }
            }
            lock (_gate)
            {
                _entries.Add(new Entry(logLevel, eventId, formatter(state, exception), exception?.ToString(), arguments,
                    time.GetMonotonicMilliseconds()));
            }
        }
    }

    /// <summary>
    /// "Qt DTLS example client" has the seed key at once; "stranger" is unknown; "async-ok" and "async-fail" wait for
    /// the test, which completes them with <see cref="s_asyncKey"/> or an exception.
    /// </summary>
    private sealed class MixedStore : IPskStore
    {
        public Dictionary<string, TaskCompletionSource<byte[]?>> Pending { get; } = [];

        public ValueTask<byte[]?> GetKeyAsync(ReadOnlyMemory<byte> identity, CancellationToken cancellationToken)
        {
            var name = System.Text.Encoding.UTF8.GetString(identity.Span);
            if (name.StartsWith("async", StringComparison.Ordinal))
            {
                var pending = new TaskCompletionSource<byte[]?>();
                Pending[name] = pending;
                return new ValueTask<byte[]?>(pending.Task);
            }
            return new ValueTask<byte[]?>(name == "Qt DTLS example client" ? ServerHarness.Key : null);
        }
    }

    /// <summary>A harness's clock, options, handler and sender around an engine that logs to <see cref="Log"/>.</summary>
    private sealed class LoggedServer : IDisposable
    {
        public LoggedServer()
        {
            Harness = new ServerHarness(o => o.PskStore = Store);
            Log = new CapturingLogger(Harness.Time);
            Engine = new ServerEngine(Harness.Options, Harness.Handler, Harness.Sender, Log, new SeededRandom(5));
        }

        public MixedStore Store { get; } = new();
        public ServerHarness Harness { get; }
        public CapturingLogger Log { get; }
        public ServerEngine Engine { get; }

        public void Deliver(TestClient client, byte[] datagram) => Engine.ProcessDatagram(client.Address, (byte[])datagram.Clone());

        /// <summary>As <see cref="Exchange.Pump"/>, against this engine.</summary>
        public void Pump(TestClient client)
        {
            for (var round = 0; round < 100; round++)
            {
                var toServer = client.Sender.TakeAll();
                var toClient = Harness.Sender.TakeFor(client.Address);
                if (toServer.Count == 0 && toClient.Count == 0)
                {
                    return;
                }
                toServer.ForEach(d => Deliver(client, d.Datagram));
                toClient.ForEach(client.Deliver);
            }
            throw new InvalidOperationException("The exchange did not settle.");
        }

        public TestClient Client(IPEndPoint address, string identity, byte[] key, int seed)
            => new(Harness, address, new DtlsClientOptions { PskIdentity = identity, PskKey = key, TimeProvider = Harness.Time }, seed);

        public void Dispose()
        {
            Engine.Dispose();
            Harness.Dispose();
        }
    }

    private static readonly PropertyInfo s_masterSecret =
        typeof(DtlsConnection).GetProperty("MasterSecret", BindingFlags.NonPublic | BindingFlags.Instance)!;

    /// <summary>A copy of a connection's master secret (it is zeroed when the connection closes).</summary>
    private static byte[] MasterSecretOf(DtlsConnection connection) => (byte[])((byte[])s_masterSecret.GetValue(connection)!).Clone();

    /// <summary>Everything secret one handshake produced, collected as it happened.</summary>
    private sealed class Secrets
    {
        public List<byte[]> All { get; } = [];

        /// <summary>Makes the client hand over its master secret and verify_data as it computes them (flight 5).</summary>
        public void Watch(TestClient client)
            => client.Connection.VerifyDataHookForTests = verifyData =>
            {
                All.Add(verifyData.ToArray());
                All.Add(MasterSecretOf(client.Connection));
            };
    }

    /// <summary>Runs to flight 5 and delivers it in two datagrams, so the server's master secret can be read in between.</summary>
    private static void RunSplitFlight5(LoggedServer server, TestClient client, Secrets secrets)
    {
        secrets.Watch(client);
        client.Start();
        for (var i = 0; i < 2; i++)
        {
            client.Sender.TakeAll().ForEach(d => server.Deliver(client, d.Datagram));
            server.Harness.Sender.TakeFor(client.Address).ForEach(client.Deliver);
        }
        var flight5 = Assert.Single(client.Sender.TakeAll()).Datagram;
        var records = Wire.Records(flight5);
        Assert.Equal(3, records.Count);
        server.Deliver(client, Wire.Record(records[0].Header.Type, 0, records[0].Header.SequenceNumber, records[0].Body));
        var connection = server.Harness.Handler.Started.Last(s => s.RemoteEndPoint.Equals(client.EndPoint)).Connection;
        Assert.Equal(HandshakeState.ServerExpectChangeCipherSpec, connection.State);
        secrets.All.Add(MasterSecretOf(connection));
        server.Deliver(client, Wire.Concat(
            Wire.Record(records[1].Header.Type, 0, records[1].Header.SequenceNumber, records[1].Body),
            Wire.Record(records[2].Header.Type, 1, records[2].Header.SequenceNumber, records[2].Body)));
    }

    /// <summary>
    /// The server's verify_data: the client takes flight 6's ChangeCipherSpec, the Finished is opened from a copy
    /// with the client's keys (which spends its record number), then the client's timer makes the server repeat
    /// flight 6, which completes the client.
    /// </summary>
    private static byte[] ServerVerifyData(LoggedServer server, TestClient client, List<byte[]> flight6)
    {
        var records = flight6.SelectMany(Wire.Records).ToList();
        Assert.Equal([ContentType.ChangeCipherSpec, ContentType.Handshake], records.Select(r => r.Header.Type));
        client.Deliver(Wire.Record(ContentType.ChangeCipherSpec, 0, records[0].Header.SequenceNumber, records[0].Body));
        var finished = records[1];
        Assert.Equal(OpenResult.Opened, client.Connection.Records.TryOpen(finished.Header, finished.Body, out var plaintext));
        var verifyData = plaintext[HandshakeHeader.Size..].ToArray();
        Assert.Equal(Finished.VerifyDataLength, verifyData.Length);

        server.Harness.Time.Advance(TimeSpan.FromSeconds(1));
        client.Tick();
        server.Pump(client);
        Assert.True(client.Established);
        return verifyData;
    }

    /// <summary>The forms a secret could take in a log line: hex either case (with or without dashes), base64.</summary>
    private static void AssertAbsent(IEnumerable<Entry> entries, byte[] secret)
    {
        string[] forms = [Convert.ToHexString(secret), BitConverter.ToString(secret), Convert.ToBase64String(secret)];
        foreach (var entry in entries)
        {
            foreach (var text in entry.Texts)
            {
                Assert.DoesNotContain(forms[0], text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(forms[1], text, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(forms[2], text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void The_secret_check_catches_a_key_in_either_case()
    {
        var planted = new Entry(LogLevel.Trace, default, "psk=1A2B3C4D5E6F", null, [], 0);
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertAbsent([planted], ServerHarness.Key));
        planted = planted with { Message = "ok", Exception = "System.Exception: key 1a2b3c4d5e6f" };
        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => AssertAbsent([planted], ServerHarness.Key));
    }

    [Fact]
    public void No_key_master_secret_or_verify_data_is_logged_in_any_handshake_outcome()
    {
        using var server = new LoggedServer();
        var secrets = new Secrets();
        secrets.All.AddRange([ServerHarness.Key, s_wrongKeyBytes, s_asyncKey]);

        // Success, with both master secrets and both verify_data.
        using (var good = server.Client(s_good, "Qt DTLS example client", ServerHarness.Key, seed: 1))
        {
            RunSplitFlight5(server, good, secrets);
            var flight6 = server.Harness.Sender.TakeFor(good.Address);
            secrets.All.Add(ServerVerifyData(server, good, flight6));
            Assert.True(good.Send("hello"));
            server.Pump(good);
            Assert.Equal(["to 127.0.0.1:44001: ACK"], good.Received);
        }

        // Wrong key and unknown identity: the server derives a master secret (from the real key, or from a random one).
        using (var wrong = server.Client(s_wrongKey, "Qt DTLS example client", s_wrongKeyBytes, seed: 2))
        {
            RunSplitFlight5(server, wrong, secrets);
            server.Pump(wrong);
            Assert.Equal(AlertDescription.DecryptError, wrong.ClosedAlert);
        }
        using (var unknown = server.Client(s_unknown, "stranger", ServerHarness.Key, seed: 3))
        {
            RunSplitFlight5(server, unknown, secrets);
            server.Pump(unknown);
            Assert.Equal(AlertDescription.DecryptError, unknown.ClosedAlert);
        }

        // Asynchronous lookups: one succeeds late, one fails with an exception that gets logged.
        using (var asyncGood = server.Client(s_asyncGood, "async-ok", s_asyncKey, seed: 4))
        {
            secrets.Watch(asyncGood);
            asyncGood.Start();
            server.Pump(asyncGood);
            Inline.Run(() => server.Store.Pending["async-ok"].SetResult(s_asyncKey));
            server.Pump(asyncGood);
            Assert.True(asyncGood.Established);
        }
        using (var asyncFail = server.Client(s_asyncFail, "async-fail", s_asyncKey, seed: 5))
        {
            secrets.Watch(asyncFail);
            asyncFail.Start();
            server.Pump(asyncFail);
            Inline.Run(() => server.Store.Pending["async-fail"].SetException(new InvalidOperationException("the key service timed out")));
            server.Pump(asyncFail);
            Assert.Equal(AlertDescription.InternalError, asyncFail.ClosedAlert);
        }

        var entries = server.Log.Entries;
        // The check is not vacuous: 3 keys; 3 server and 5 client master secrets; 5 client and 1 server verify_data.
        Assert.Equal(3 + 3 + 5 + 5 + 1, secrets.All.Count);
        Assert.All(secrets.All, s => Assert.Contains(s, b => b != 0));
        Assert.Contains(entries, e => e.Exception is not null && e.Exception.Contains("the key service timed out", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Level == LogLevel.Error && e.Message.Contains("handshake failed", StringComparison.Ordinal));
        foreach (var secret in secrets.All)
        {
            AssertAbsent(entries, secret);
        }
    }

    [Fact]
    public void Seed_reports_appear_at_their_levels()
    {
        using var server = new LoggedServer();
        using var client = server.Client(s_good, "Qt DTLS example client", ServerHarness.Key, seed: 1);
        client.Start();
        server.Pump(client);
        Assert.True(client.Established);
        Assert.True(client.Connection.SendApplicationData([]));
        server.Pump(client);

        var entries = server.Log.Entries;
        AssertReport(entries, LogLevel.Information, "127.0.0.1:44001: handshake is in progress");
        AssertReport(entries, LogLevel.Information,
            "127.0.0.1:44001: PSK callback, received a client's identity: 'Qt DTLS example client'");
        AssertReport(entries, LogLevel.Information, "Connection with 127.0.0.1:44001 encrypted. TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256");
        AssertReport(entries, LogLevel.Warning, "127.0.0.1:44001: 0 byte dgram, could be a re-connect attempt?");
        Assert.DoesNotContain(entries, e => e.Level >= LogLevel.Error);
    }

    private static void AssertReport(List<Entry> entries, LogLevel level, string message)
    {
        var entry = Assert.Single(entries, e => e.Message == message);
        Assert.Equal(level, entry.Level);
    }

    [Fact]
    public void Decryption_failures_are_errors_at_most_once_per_second_under_a_flood_of_forged_records()
    {
        using var server = new LoggedServer();
        using var client = server.Client(s_good, "Qt DTLS example client", ServerHarness.Key, seed: 1);
        client.Start();
        server.Pump(client);
        Assert.True(client.Established);
        var forger = new Random(9);
        byte[] Forged(int i)
        {
            var body = new byte[8 + 16 + 16];
            forger.NextBytes(body);
            return Wire.Record(ContentType.ApplicationData, 1, 1000 + (ulong)i, body);
        }
        static List<Entry> DecryptErrors(LoggedServer s)
            => [.. s.Log.Entries.Where(e => e.Message.Contains("failed to decrypt", StringComparison.Ordinal))];

        // A burst of 100 at one instant: one error.
        var dropped = server.Engine.GetStatistics().RecordsDropped;
        for (var i = 0; i < 100; i++)
        {
            server.Deliver(client, Forged(i));
        }
        var burst = Assert.Single(DecryptErrors(server));
        Assert.Equal(LogLevel.Error, burst.Level);
        Assert.Equal(dropped + 100, server.Engine.GetStatistics().RecordsDropped);

        // 100 more spread over 2.5 s of fake time: an error a second at most, never two within a second.
        for (var i = 100; i < 200; i++)
        {
            server.Harness.Time.Advance(TimeSpan.FromMilliseconds(25));
            server.Deliver(client, Forged(i));
        }
        var errors = DecryptErrors(server);
        Assert.InRange(errors.Count, 2, 3);
        Assert.All(errors, e => Assert.Equal(LogLevel.Error, e.Level));
        for (var i = 1; i < errors.Count; i++)
        {
            Assert.True(errors[i].AtMs - errors[i - 1].AtMs >= 1000, $"errors {i - 1} and {i} are {errors[i].AtMs - errors[i - 1].AtMs} ms apart");
        }

        // Nothing was answered and the session is unharmed.
        Assert.Equal(0, server.Harness.Sender.Count);
        Assert.True(client.Send("still fine"));
        server.Pump(client);
        Assert.Equal("to 127.0.0.1:44001: ACK", Assert.Single(client.Received));
    }
}
