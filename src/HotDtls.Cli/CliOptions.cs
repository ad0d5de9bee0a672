using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Net;

namespace HotDtls.Cli;

/// <summary>
/// Every option of `hotdtls`, each defined once with its parser and help text. Options both commands take are added
/// to both; anything else given to a command is a usage error (exit code 2).
/// </summary>
internal static class CliOptions
{
    /// <summary>The port of the Qt DTLS example server, which `hotdtls serve` keeps by default.</summary>
    public const int DefaultPort = 22334;

    /// <summary>The seed's key, used when neither --key, --key-file nor HOTDTLS_KEY gives one.</summary>
    public const string DefaultKeyHex = "1a2b3c4d5e6f";

    /// <summary>The environment variable that holds the key (hex) when no option gives one.</summary>
    public const string KeyVariable = "HOTDTLS_KEY";

    // Both commands.

    public static readonly Option<byte[]?> Key = new("--key")
    {
        Description = "The pre-shared key in hex, 1 to 64 bytes. Visible to other users in `ps` and in shell history: "
            + $"prefer --key-file or {KeyVariable}. Precedence: --key, --key-file, {KeyVariable}, then the seed's {DefaultKeyHex}.",
        HelpName = "HEX",
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = result => ParseKey(result, result.Tokens[0].Value, "--key"),
    };

    public static readonly Option<FileInfo?> KeyFile = new("--key-file")
    {
        Description = "A file that holds the pre-shared key in hex (surrounding white space ignored).",
        HelpName = "FILE",
    };

    public static readonly Option<bool> Verbose = new("--verbose", "-v")
    {
        Description = "Also report debug events (the handshake's steps, dropped records).",
    };

    public static readonly Option<IReadOnlyList<CipherSuite>?> Suites = new("--suites")
    {
        Description = "Cipher suites, most preferred first, comma-separated IANA names (TLS_PSK_WITH_AES_128_CCM_8, …; "
            + "the TLS_ prefix may be left out). The server picks the first one the client offers; the client offers them "
            + "in this order. Default: all 14, ECDHE_PSK first.",
        HelpName = "LIST",
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = result => ParseList(result, "--suites", ParseSuite),
    };

    public static readonly Option<IReadOnlyList<NamedGroup>?> Groups = new("--groups")
    {
        Description = "ECDHE groups, most preferred first: x25519, secp256r1 (or p256). Default: x25519,secp256r1.",
        HelpName = "LIST",
        Arity = ArgumentArity.ExactlyOne,
        CustomParser = result => ParseList(result, "--groups", ParseGroup),
    };

    // serve.

    public static readonly Option<IPAddress> Address = new("--address")
    {
        Description = "The local IP address to listen on.",
        HelpName = "IP",
        DefaultValueFactory = _ => IPAddress.Loopback,
        CustomParser = result => IPAddress.TryParse(result.Tokens[0].Value, out var address)
            ? address : Error<IPAddress>(result, $"--address needs an IP address, not '{result.Tokens[0].Value}'."),
    };

    public static readonly Option<int> Port = new("--port")
    {
        Description = "The UDP port to listen on (0: any free port).",
        HelpName = "N",
        DefaultValueFactory = _ => DefaultPort,
        CustomParser = result => ParsePort(result, result.Tokens[0].Value),
    };

    public static readonly Option<string> Hint = new("--hint")
    {
        Description = "The PSK identity hint sent to clients.",
        HelpName = "TEXT",
        DefaultValueFactory = _ => "Qt DTLS example server",
    };

    public static readonly Option<FileInfo?> KeyLog = new("--key-log")
    {
        Description = "DEBUGGING ONLY: append each session's secrets to FILE in the NSS key log format (Wireshark's "
            + "SSLKEYLOGFILE), so captures can be decrypted. Whoever reads FILE can decrypt those sessions.",
        HelpName = "FILE",
    };

    public static readonly Option<FileInfo?> Config = new("--config")
    {
        Description = "A JSON file of server options in HotDtls.Hosting's schema (its HotDtls:Server section, or its root): "
            + "EndPoint, Psk, CipherSuites, ReceiveLoops, timeouts, caps... Options given on the command line win.",
        HelpName = "FILE",
    };

    public static readonly Option<bool> Echo = new("--echo")
    {
        Description = "Answer each datagram with its own bytes instead of \"to (<peer>): ACK\".",
    };

    public static readonly Option<bool> Quiet = new("--quiet", "-q")
    {
        Description = "Report only warnings and errors (no per-datagram reports: what the benchmarks run).",
    };

    public static readonly Option<int?> Loops = new("--loops")
    {
        Description = "Receive loops (sockets bound with SO_REUSEPORT), 1 to 1024. Default: one per processor.",
        HelpName = "N",
        CustomParser = result => int.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var loops)
            && loops is >= 1 and <= 1024
            ? loops : Error<int?>(result, $"--loops needs a whole number from 1 to 1024, not '{result.Tokens[0].Value}'."),
    };

    public static readonly Option<DtlsReceiveStrategy?> Receive = new("--receive")
    {
        Description = "How the receive loops wait: batched (recvmmsg/sendmmsg), blocking or async. Default: batched.",
        HelpName = "batched|blocking|async",
        CustomParser = result => result.Tokens[0].Value switch
        {
            "batched" => DtlsReceiveStrategy.Batched,
            "blocking" => DtlsReceiveStrategy.BlockingThread,
            "async" => DtlsReceiveStrategy.Async,
            var other => Error<DtlsReceiveStrategy?>(result, $"--receive is 'batched', 'blocking' or 'async', not '{other}'."),
        },
    };

    public static readonly Option<int?> ConnectionIdLength = new("--cid-length")
    {
        Description = $"The length of the Connection IDs (RFC 9146) issued to clients that offer one: 0 (the client's "
            + $"records carry none) or {DtlsServerOptions.MinServerConnectionIdLength} to {DtlsServerOptions.MaxServerConnectionIdLength}. Default: 6.",
        HelpName = "N",
        CustomParser = result => int.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var length)
            && (length == 0 || length is >= DtlsServerOptions.MinServerConnectionIdLength and <= DtlsServerOptions.MaxServerConnectionIdLength)
            ? length
            : Error<int?>(result, $"--cid-length needs 0 or {DtlsServerOptions.MinServerConnectionIdLength} to {DtlsServerOptions.MaxServerConnectionIdLength} (bytes), not '{result.Tokens[0].Value}'."),
    };

    public static readonly Option<bool> NoConnectionId = new("--no-cid")
    {
        Description = "Ignore the connection_id extension.",
    };

    public static readonly Option<bool> ServeResume = new("--resume")
    {
        Description = "Let clients resume sessions: a session-ID cache (up to 20 000) and RFC 5077 tickets. Off by default, as in the library.",
    };

    public static readonly Option<bool> NoResume = new("--no-resume")
    {
        Description = "No session resumption (the default; overrides a --config file that turns it on).",
    };

    // serve: one node of a cluster (docs/scaling.md).

    public static readonly Option<byte?> NodeId = new("--node-id")
    {
        Description = "Run as node N (1 to 255) of a cluster behind a UDP load balancer: the first byte of every Connection ID. Needs --cluster-keys.",
        HelpName = "N",
        CustomParser = result => byte.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && id > 0
            ? id
            : Error<byte?>(result, $"--node-id needs a node id from 1 to 255, not '{result.Tokens[0].Value}'."),
    };

    public static readonly Option<FileInfo?> ClusterKeys = new("--cluster-keys")
    {
        Description = "The cluster's shared key file (cookie-secret, ticket-key and channel-key lines, hex; docs/operations.md). Read again whenever it changes.",
        HelpName = "FILE",
    };

    public static readonly Option<IPEndPoint?> ClusterListen = new("--cluster-listen")
    {
        Description = "This node's node-to-node channel address (UDP), where other nodes forward the Connection ID records of its sessions.",
        HelpName = "ADDR:PORT",
        CustomParser = result => ParseEndPoint(result, "--cluster-listen", result.Tokens[0].Value),
    };

    public static readonly Option<IReadOnlyList<KeyValuePair<byte, IPEndPoint>>?> ClusterNodes = new("--cluster-node")
    {
        Description = "Another node's id and channel address; repeat for each node (this node's own entry is skipped).",
        HelpName = "ID=ADDR:PORT",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.OneOrMore,
        CustomParser = ParseNodes,
    };

    // connect.

    public static readonly Argument<string> Host = new("HOST")
    {
        Description = "The server's IP address or host name.",
    };

    public static readonly Argument<int> RemotePort = new("PORT")
    {
        Description = "The server's UDP port.",
        Arity = ArgumentArity.ZeroOrOne,
        DefaultValueFactory = _ => DefaultPort,
        CustomParser = result => ParsePort(result, result.Tokens[0].Value),
    };

    public static readonly Option<string> Identity = new("--identity")
    {
        Description = "The PSK identity (the client's name).",
        HelpName = "TEXT",
        DefaultValueFactory = _ => "Qt DTLS example client",
    };

    public static readonly Option<int> Count = new("--count")
    {
        Description = "How many pings to send; 0: until Ctrl+C.",
        HelpName = "N",
        DefaultValueFactory = _ => 5,
        CustomParser = result => int.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            ? count : Error<int>(result, $"--count needs a whole number, not '{result.Tokens[0].Value}'."),
    };

    public static readonly Option<int> Interval = new("--interval")
    {
        Description = "Milliseconds between pings.",
        HelpName = "MS",
        DefaultValueFactory = _ => 1000,
        CustomParser = result => int.TryParse(result.Tokens[0].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) && ms > 0
            ? ms : Error<int>(result, $"--interval needs milliseconds above 0, not '{result.Tokens[0].Value}'."),
    };

    public static readonly Option<double> Timeout = new("--timeout")
    {
        Description = "Seconds the handshake may take before connect gives up (exit code 4); decimals allowed.",
        HelpName = "SECONDS",
        DefaultValueFactory = _ => 30,
        CustomParser = result => double.TryParse(result.Tokens[0].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds)
            && seconds is > 0 and <= 3600
            ? seconds : Error<double>(result, $"--timeout needs seconds above 0 (at most 3600), not '{result.Tokens[0].Value}'."),
    };

    public static readonly Option<bool> Resume = new("--resume")
    {
        Description = "After the pings, connect again resuming the saved session, and report both handshakes' times.",
    };

    public static readonly Option<bool> OfferConnectionId = new("--cid")
    {
        Description = "Offer connection_id (RFC 9146) and say whether the server issued one.",
    };

    private static T? Error<T>(ArgumentResult result, string message)
    {
        result.AddError(message);
        return default;
    }

    private static int ParsePort(ArgumentResult result, string text)
        => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535
            ? port
            // connect's optional PORT takes an unknown option as its value: name the option, as the parser would.
            : Error<int>(result, text.StartsWith('-')
                ? $"Unrecognized command or argument '{text}'."
                : $"A port is a number from 0 to 65535, not '{text}'.");

    private static byte[]? ParseKey(ArgumentResult result, string hex, string source)
    {
        var key = TryParseKey(hex, source, out var error);
        return key ?? Error<byte[]>(result, error!);
    }

    /// <summary>The key in <paramref name="hex"/>, or null and an error that names <paramref name="source"/> but never the key: it is a secret.</summary>
    public static byte[]? TryParseKey(string hex, string source, out string? error)
    {
        error = null;
        try
        {
            var key = Convert.FromHexString(hex.Trim());
            if (key.Length is >= 1 and <= PskStore.MaxKeyLength)
            {
                return key;
            }
            error = $"{source}: the key must be 1 to {PskStore.MaxKeyLength} bytes of hex.";
        }
        catch (FormatException)
        {
            error = $"{source}: the key must be an even number of hex digits.";
        }
        return null;
    }

    private static List<T>? ParseList<T>(ArgumentResult result, string option, Func<string, T?> parse)
        where T : struct
    {
        var list = new List<T>();
        foreach (var part in result.Tokens[0].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (parse(part) is not { } value)
            {
                return Error<List<T>>(result, option == "--suites"
                    ? $"--suites: '{part}' is not a suite HotDtls speaks; use IANA names such as TLS_PSK_WITH_AES_128_CCM_8 or TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256."
                    : $"--groups: '{part}' is not a group HotDtls speaks; use x25519 or secp256r1.");
            }
            if (list.Contains(value))
            {
                return Error<List<T>>(result, $"{option} names '{part}' twice.");
            }
            list.Add(value);
        }
        return list.Count > 0 ? list : Error<List<T>>(result, $"{option} needs at least one name.");
    }

    /// <summary>A suite by its IANA name, with or without the TLS_ prefix; null for any other text.</summary>
    public static CipherSuite? ParseSuite(string name)
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

    private static IPEndPoint? ParseEndPoint(ArgumentResult result, string option, string text)
        => IPEndPoint.TryParse(text, out var endPoint) && endPoint.Port != 0
            ? endPoint
            : Error<IPEndPoint?>(result, $"{option} needs ADDRESS:PORT (for example 10.0.0.1:5685 or [fd00::1]:5685), not '{text}'.");

    private static IReadOnlyList<KeyValuePair<byte, IPEndPoint>>? ParseNodes(ArgumentResult result)
    {
        var nodes = new List<KeyValuePair<byte, IPEndPoint>>();
        foreach (var token in result.Tokens)
        {
            var text = token.Value;
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || !byte.TryParse(text.AsSpan(0, equals), NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id == 0
                || !IPEndPoint.TryParse(text.AsSpan(equals + 1), out var endPoint) || endPoint.Port == 0)
            {
                return Error<IReadOnlyList<KeyValuePair<byte, IPEndPoint>>?>(result,
                    $"--cluster-node needs ID=ADDRESS:PORT with an id from 1 to 255 (for example 2=10.0.0.2:5685), not '{text}'.");
            }
            nodes.Add(new(id, endPoint));
        }
        return nodes;
    }
}
