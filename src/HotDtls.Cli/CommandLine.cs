using System.Globalization;
using System.Net;
using Microsoft.Extensions.Logging;

namespace HotDtls.Cli;

/// <summary>The `hotdtls` command: `serve` (the Qt DTLS example server) and `connect` (its client).</summary>
internal static class CommandLine
{
    public const string Usage = """
        hotdtls — a DTLS 1.2 PSK server and client

        Usage:
          hotdtls serve   [--address IP] [--port N] [--key HEX] [--hint TEXT] [--echo] [--quiet] [--verbose]
                          [--loops N] [--receive batched|blocking|async] [--suites LIST] [--groups LIST]
                          [--cid-length N | --no-cid] [--no-resume]
          hotdtls connect HOST PORT [--identity TEXT] [--key HEX] [--count N] [--interval MS] [--verbose]
                          [--suites LIST] [--groups LIST] [--resume] [--cid]

        serve     listens on 127.0.0.1:22334 with identity hint "Qt DTLS example server" and key 1a2b3c4d5e6f,
                  accepts any identity, prints each datagram (peer, ciphertext in hex, plaintext) and answers
                  "to <peer>: ACK". Type "close" or press Ctrl+C to send close_notify to every peer and exit.
                  --echo answers each datagram with its own bytes, and --quiet reports only warnings and errors
                  (what the benchmarks run: per-datagram reports would be what they measure). --loops sets the
                  number of receive loops (default: one per processor), --receive how they wait (default batched).
        connect   handshakes with identity "Qt DTLS example client" (the client's name) and the same key, sends
                  "I am <name>, please, accept our ping N" every --interval ms (default 1000), --count times
                  (default 5; 0 = until Ctrl+C), and prints each reply. With --resume it then connects again
                  with the session it saved (RFC 5246 §7.3 / RFC 5077 ticket) and says whether the server resumed
                  it and how long each handshake took. serve lets clients resume (session IDs and tickets);
                  --no-resume turns both off (no session cache, no tickets).

        --suites  cipher suites, most preferred first, comma-separated IANA names (TLS_PSK_WITH_AES_128_CCM_8, …;
                  the TLS_ prefix may be left out). The server picks the first one the client offers; the client
                  offers them in this order. Default: all 14, ECDHE_PSK first (docs/design.md).
        --groups  ECDHE groups, most preferred first: x25519, secp256r1 (or p256). Default: x25519,secp256r1.

        Connection ID (RFC 9146) lets a session survive a change of the client's address or port (NAT rebinding):
        serve     issues a 6-byte CID to every client that offers connection_id; --cid-length N issues N bytes
                  (4 to 10, or 0: the client's records carry none) and --no-cid ignores the offer. A session that
                  uses one says so when it is established, and when its client moves.
        connect   --cid offers connection_id (asking for no CID on the server's records) and says whether the
                  server issued one.
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        try
        {
            var options = Arguments.Parse(args.AsSpan(1));
            using var loggerFactory = LoggerFactory.Create(builder => builder
                .SetMinimumLevel(options.Verbose ? LogLevel.Debug : options.Quiet ? LogLevel.Warning : LogLevel.Information)
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "HH:mm:ss.fff ";
                }));
            using var stop = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                stop.Cancel();
            };
            // `kill` (SIGTERM, what service managers and scripts send) stops as cleanly as Ctrl+C: close_notify to every peer.
            using var terminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(
                System.Runtime.InteropServices.PosixSignal.SIGTERM, context =>
                {
                    context.Cancel = true;
                    stop.Cancel();
                });
            return args[0] switch
            {
                "serve" => await ServeCommand.RunAsync(options, loggerFactory, stop).ConfigureAwait(false),
                "connect" => await ConnectCommand.RunAsync(options, loggerFactory, stop.Token).ConfigureAwait(false),
                _ => throw new UsageException($"Unknown command '{args[0]}'."),
            };
        }
        catch (UsageException exception)
        {
            await Console.Error.WriteLineAsync($"hotdtls: {exception.Message}\n\n{Usage}").ConfigureAwait(false);
            return 2;
        }
        catch (DtlsException exception)
        {
            await Console.Error.WriteLineAsync($"hotdtls: {exception.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}

/// <summary>A command line the tool cannot use; the message says what to change.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The parsed options of both commands, with the Qt example's defaults.</summary>
internal sealed class Arguments
{
    /// <summary>The port of the Qt DTLS example server, which `hotdtls serve` keeps by default.</summary>
    public const int DefaultPort = 22334;

    public IPAddress Address { get; private set; } = IPAddress.Loopback;
    public int Port { get; private set; } = DefaultPort;
    public string? Host { get; private set; }
    public byte[] Key { get; private set; } = Convert.FromHexString("1a2b3c4d5e6f");
    public string Hint { get; private set; } = "Qt DTLS example server";
    public string Identity { get; private set; } = "Qt DTLS example client";
    public int Count { get; private set; } = 5;
    public TimeSpan Interval { get; private set; } = TimeSpan.FromSeconds(1);
    public bool Verbose { get; private set; }
    public bool Echo { get; private set; }
    public bool Quiet { get; private set; }
    public int? Loops { get; private set; }
    public DtlsReceiveStrategy Receive { get; private set; } = DtlsReceiveStrategy.Batched;

    /// <summary>connect --resume: after the first session, connect again resuming it.</summary>
    public bool Resume { get; private set; }

    /// <summary>--suites, or null for the library's default order.</summary>
    public IReadOnlyList<CipherSuite>? Suites { get; private set; }

    /// <summary>--groups, or null for the library's default order.</summary>
    public IReadOnlyList<NamedGroup>? Groups { get; private set; }

    /// <summary>connect --cid: offer the connection_id extension (RFC 9146) with an empty CID of the client's own.</summary>
    public bool OfferConnectionId { get; private set; }

    /// <summary>serve --cid-length: the length of the CIDs the server issues; null for the library's default (6).</summary>
    public int? ConnectionIdLength { get; private set; }

    /// <summary>serve --no-resume: no session cache and no tickets.</summary>
    public bool NoResume { get; private set; }

    /// <summary>serve --no-cid: ignore the connection_id extension.</summary>
    public bool NoConnectionId { get; private set; }

    /// <summary>Puts --suites and --groups, when given, into <paramref name="options"/>.</summary>
    public void ApplyTo(DtlsOptions options)
    {
        if (Suites is not null)
        {
            options.CipherSuites.Clear();
            foreach (var suite in Suites)
            {
                options.CipherSuites.Add(suite);
            }
        }
        if (Groups is not null)
        {
            options.NamedGroups.Clear();
            foreach (var group in Groups)
            {
                options.NamedGroups.Add(group);
            }
        }
    }

    /// <summary>Puts --cid-length or --no-cid, when given, into <paramref name="options"/>.</summary>
    public void ApplyConnectionIdTo(DtlsServerOptions options)
    {
        if (NoConnectionId)
        {
            options.ConnectionIdLength = null;
        }
        else if (ConnectionIdLength is { } length)
        {
            options.ConnectionIdLength = length;
        }
    }

    /// <summary>Puts --cid, when given, into <paramref name="options"/>: the usual client choice, an empty CID of its own.</summary>
    public void ApplyConnectionIdTo(DtlsClientOptions options)
    {
        if (OfferConnectionId)
        {
            options.ConnectionIdLength = 0;
        }
    }

    public static Arguments Parse(ReadOnlySpan<string> args)
    {
        var result = new Arguments();
        var positional = 0;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (result.TryParseConnectionId(args, ref i))
            {
                continue;
            }
            switch (arg)
            {
                case "--address":
                    result.Address = IPAddress.TryParse(Value(args, ref i), out var address)
                        ? address : throw new UsageException($"--address needs an IP address, not '{args[i]}'.");
                    break;
                case "--port":
                    result.Port = ParsePort(Value(args, ref i));
                    break;
                case "--key":
                    result.Key = ParseKey(Value(args, ref i));
                    break;
                case "--hint":
                    result.Hint = Value(args, ref i);
                    break;
                case "--identity":
                    result.Identity = Value(args, ref i);
                    break;
                case "--count":
                    result.Count = int.TryParse(Value(args, ref i), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                        ? count : throw new UsageException($"--count needs a whole number, not '{args[i]}'.");
                    break;
                case "--interval":
                    result.Interval = int.TryParse(Value(args, ref i), NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
                        ? TimeSpan.FromMilliseconds(ms) : throw new UsageException($"--interval needs milliseconds above 0, not '{args[i]}'.");
                    break;
                case "--verbose" or "-v":
                    result.Verbose = true;
                    break;
                case "--resume":
                    result.Resume = true;
                    break;
                case "--no-resume":
                    result.NoResume = true;
                    break;
                case "--echo":
                    result.Echo = true;
                    break;
                case "--quiet" or "-q":
                    result.Quiet = true;
                    break;
                case "--loops":
                    result.Loops = int.TryParse(Value(args, ref i), NumberStyles.None, CultureInfo.InvariantCulture, out var loops)
                        && loops is >= 1 and <= 1024
                        ? loops : throw new UsageException($"--loops needs a whole number from 1 to 1024, not '{args[i]}'.");
                    break;
                case "--receive":
                    result.Receive = Value(args, ref i) switch
                    {
                        "batched" => DtlsReceiveStrategy.Batched,
                        "blocking" => DtlsReceiveStrategy.BlockingThread,
                        "async" => DtlsReceiveStrategy.Async,
                        _ => throw new UsageException($"--receive is 'batched', 'blocking' or 'async', not '{args[i]}'."),
                    };
                    break;
                case "--suites":
                    result.Suites = ParseList(Value(args, ref i), "--suites", ParseSuite);
                    break;
                case "--groups":
                    result.Groups = ParseList(Value(args, ref i), "--groups", ParseGroup);
                    break;
                default:
                    if (arg.StartsWith('-'))
                    {
                        throw new UsageException($"Unknown option '{arg}'.");
                    }
                    if (positional == 0)
                    {
                        result.Host = arg;
                    }
                    else if (positional == 1)
                    {
                        result.Port = ParsePort(arg);
                    }
                    else
                    {
                        throw new UsageException($"Unexpected argument '{arg}'.");
                    }
                    positional++;
                    break;
            }
        }
        return result;
    }

    /// <summary>Reads --cid, --cid-length or --no-cid at <paramref name="i"/>; false for any other argument.</summary>
    private bool TryParseConnectionId(ReadOnlySpan<string> args, ref int i)
    {
        switch (args[i])
        {
            case "--cid":
                OfferConnectionId = true;
                break;
            case "--cid-length":
                ConnectionIdLength = int.TryParse(Value(args, ref i), NumberStyles.None, CultureInfo.InvariantCulture, out var length)
                    && (length == 0 || length is >= DtlsServerOptions.MinServerConnectionIdLength and <= DtlsServerOptions.MaxServerConnectionIdLength)
                    ? length
                    : throw new UsageException($"--cid-length needs 0 or {DtlsServerOptions.MinServerConnectionIdLength} to {DtlsServerOptions.MaxServerConnectionIdLength} (bytes), not '{args[i]}'.");
                break;
            case "--no-cid":
                NoConnectionId = true;
                break;
            default:
                return false;
        }
        if (NoConnectionId && ConnectionIdLength is not null)
        {
            throw new UsageException("--no-cid and --cid-length contradict each other: give one of them.");
        }
        return true;
    }

    private static string Value(ReadOnlySpan<string> args, ref int i)
    {
        if (i + 1 >= args.Length)
        {
            throw new UsageException($"{args[i]} needs a value.");
        }
        return args[++i];
    }

    private static List<T> ParseList<T>(string text, string option, Func<string, T?> parse)
        where T : struct
    {
        var list = new List<T>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var value = parse(part) ?? throw new UsageException(option == "--suites"
                ? $"--suites: '{part}' is not a suite HotDtls speaks; use IANA names such as TLS_PSK_WITH_AES_128_CCM_8 or TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256 (hotdtls --help)."
                : $"--groups: '{part}' is not a group HotDtls speaks; use x25519 or secp256r1.");
            if (list.Contains(value))
            {
                throw new UsageException($"{option} names '{part}' twice.");
            }
            list.Add(value);
        }
        return list.Count > 0 ? list : throw new UsageException($"{option} needs at least one name.");
    }

    private static CipherSuite? ParseSuite(string name)
    {
        var full = name.StartsWith("TLS_", StringComparison.OrdinalIgnoreCase) ? name : "TLS_" + name;
        return Enum.TryParse<CipherSuite>(full, ignoreCase: true, out var suite) && Enum.IsDefined(suite)
            ? suite : null;
    }

    private static NamedGroup? ParseGroup(string name) => name.ToLowerInvariant() switch
    {
        "x25519" => NamedGroup.X25519,
        "secp256r1" or "p256" or "p-256" => NamedGroup.Secp256r1,
        _ => null,
    };

    private static int ParsePort(string text)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535
            ? port : throw new UsageException($"A port is a number from 0 to 65535, not '{text}'.");

    private static byte[] ParseKey(string hex)
    {
        try
        {
            var key = Convert.FromHexString(hex);
            return key.Length is >= 1 and <= PskStore.MaxKeyLength
                ? key : throw new UsageException($"--key must be 1 to {PskStore.MaxKeyLength} bytes of hex.");
        }
        catch (FormatException)
        {
            // The key itself is never echoed back: it is a secret.
            throw new UsageException("--key must be an even number of hex digits.");
        }
    }
}
