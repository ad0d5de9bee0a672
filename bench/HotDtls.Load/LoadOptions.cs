using System.Globalization;
using HotDtls.Crypto;

namespace HotDtls.Load;

internal enum LoadMode
{
    Handshake,
    Echo,
    Hold,
    Ceiling,
    Failover,
    Rebind,
}

/// <summary>A command line the generator cannot use; the message says what to change.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>What to run, parsed from the command line, with each mode's defaults filled in.</summary>
internal sealed class LoadOptions
{
    /// <summary>Largest payload a datagram may carry: the DTLS plaintext limit, 2^14 bytes (RFC 6347 §4.1).</summary>
    public const int MaxPayload = 16384;

    public const string DefaultIdentity = "Qt DTLS example client";
    public const string DefaultKeyHex = "1a2b3c4d5e6f";

    public const string Usage = """
        HotDtls.Load — load generator for DTLS 1.2 PSK servers (and plain UDP echo servers)

        Usage:
          HotDtls.Load handshake --server HOST:PORT [-n N] [-c C] [--duration S] [--warmup S] [--pid PID]
          HotDtls.Load echo      --server HOST:PORT [-k K] [-w W] [-s BYTES] [-d S] [--rate R] [--warmup S] [--plain] [--no-batch] [--pid PID]
          HotDtls.Load hold      --server HOST:PORT [-k K] [-c C] [--pid PID] [--interval S] [--settle S] [--release-sockets]
          HotDtls.Load ceiling   [--self-test | --server HOST:PORT] [-k K] [-w W] [-s BYTES] [-d S] [--no-batch]
          HotDtls.Load failover  --server HOST:PORT [-k K] [-d S] [--interval MS] [--timeout MS]
          HotDtls.Load rebind    --server HOST:PORT [-k K] [--rebinds N] [--interval MS] [--timeout MS]

        handshake  N full handshakes (default 10000; cookie exchange, handshake, close_notify), C at a time
                   (default 32): handshakes/s, latency p50/p99/p999, failures, retransmissions.
                   --duration S runs for S seconds instead of N handshakes.
        echo       K sessions (default 16) are established first, then each keeps W datagrams (default 8) of
                   S bytes (default 1200) in flight for D seconds (default 10): datagrams/s, Gbit/s of payload,
                   round trip p50/p99/p999, loss. --rate R sends R datagrams/s in all, paced (open loop), with
                   at most max(W, 64) in flight per session. --plain speaks plain UDP (no DTLS). Each ready
                   session's replies are read with one recvmmsg and its refills sent with one sendmmsg;
                   --no-batch makes that one recv per wake-up and one send per datagram.
                   With --pid PID (the server's), echo and handshake also report the server's CPU per operation
                   over the measured window (/proc/PID/stat): whether the server or the generator was the limit.
        hold       opens K sessions (default 1000, C handshakes at a time, default 64), keeps each alive with a
                   small datagram every --interval S (default 30), waits until all are established and --settle S
                   (default 5) more, then reports the RSS of --pid PID (the server) before and after, per session.
                   --release-sockets closes each session's socket once established (no close_notify, no keep-
                   alives): the server keeps it until its idle timeout, and K is not bound by the descriptor
                   limit. Each session then sends from its own 127.3.x.y:port, never reused (loopback servers only).
        ceiling    the generator's own ceiling, NOT a server figure: `echo --plain` against --server (bench/run.sh
                   points it at the C recvmmsg echo) or, with --self-test (the default), an in-process plain echo.
        failover   K sessions (default 16) asking for RFC 5077 session tickets, each sending one echo every
                   --interval MS (default 200) for D seconds (default 30). A session whose echo is not answered
                   within --timeout MS (default 1000), or that the server closes, has lost its server: it reconnects
                   from a new socket (a new source port, as a rebooted device), offering its latest ticket, until an
                   echo is answered again. Reports outages, reconnects (resumed with the ticket, or full), the
                   reconnect time (first missed echo to first echo answered again) and sessions that never came back.
        rebind     K sessions (default 16) offering Connection ID (RFC 9146) establish and echo once, then each moves
                   to a new socket (new source port) --rebinds N times (default 3), --interval MS (default 200) apart,
                   keeping its DTLS session, and echoes after each move (resent every timeout/5 until --timeout MS:
                   the server may withhold its first answer to an address not yet proven). A session whose echo is not
                   answered has been lost: it runs a new handshake (counted) and goes on. Exit code 1 if any session
                   was lost (without a CID from the server, every one is: the session is bound to the old port).

        Common options:
          --identity TEXT       PSK identity (default "Qt DTLS example client")
          --key HEX             PSK (default 1a2b3c4d5e6f)
          --suite LIST          suites to offer, comma-separated, most preferred first (default
                                psk-aes128gcm,psk-aes256gcm): psk-aes128gcm psk-aes256gcm psk-aes128ccm
                                psk-aes256ccm psk-aes128ccm8 psk-aes256ccm8 psk-chacha20 psk-cbc ecdhe-aes128gcm
                                ecdhe-aes256gcm ecdhe-aes128ccm ecdhe-aes128ccm8 ecdhe-chacha20 ecdhe-cbc, or the
                                IANA names (TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, ...); aes128gcm and
                                aes256gcm still mean the PSK suites. The server picks one (its preference).
          --group LIST          ECDHE groups to offer, most preferred first: x25519, p256 (default x25519,p256);
                                only with an ecdhe-* suite
          --cid                 offer Connection ID (RFC 9146) with an empty CID of the client's own: a HotDtls
                                server issues one to every session (hold reports how many use one)
          --rebinds N           rebind: moves per session (default 3)
          --resume id|ticket    handshake: each slot's first handshake is a full one; every later one resumes its
                                saved session (abbreviated handshake) by session ID or by RFC 5077 ticket
          --threads T           generator threads (default: the CPUs this process may use, at most the sessions)
          --cpu LIST            pin the generator to these CPUs (e.g. 1 or 0,1), like `taskset -c LIST`
          --timeout MS          a datagram not answered within MS is lost (default 1000)
          --handshake-timeout MS  a handshake not done within MS failed (default 10000; failover 3000, after which
                                a reconnect is tried again from a new socket)
          --rto MS              first handshake retransmission timeout (default 1000, doubling)
          --json                print the result as one JSON object on stdout (the human summary goes to stderr)
          --no-progress         no live progress line (it is shown only when stderr is a terminal anyway)
        """;

    public LoadMode Mode { get; private set; }
    public string? Host { get; private set; }
    public int Port { get; private set; }
    public long Handshakes { get; private set; } = 10_000;
    public int Concurrency { get; private set; }
    public int Sessions { get; private set; }
    public int Window { get; private set; } = 8;
    public int Size { get; private set; } = 1200;
    public double? DurationSeconds { get; private set; }
    public double WarmupSeconds { get; private set; }
    public double Rate { get; private set; }
    public int TimeoutMs { get; private set; } = 1000;
    public int HandshakeTimeoutMs { get; private set; } = 10_000;
    public int RetransmitMs { get; private set; } = 1000;
    public double IntervalSeconds { get; private set; } = 30;
    public double SettleSeconds { get; private set; } = 5;

    /// <summary>failover: the time between a session's echoes; rebind: the pause between an answered echo and the next move.</summary>
    public double IntervalMs { get; private set; } = 200;

    /// <summary>--rebinds N (rebind mode): how many times each session moves to a new socket.</summary>
    public int Rebinds { get; private set; } = 3;
    public bool Plain { get; private set; }
    public bool NoBatch { get; private set; }
    public bool ReleaseSockets { get; private set; }

    /// <summary>
    /// --resume id|ticket (handshake mode): each slot runs one full handshake, saves the session, and resumes it in every
    /// later handshake — by session ID (no tickets asked for) or by RFC 5077 ticket.
    /// </summary>
    public string? Resume { get; private set; }

    /// <summary>--cid: offer the connection_id extension (RFC 9146), asking for no CID on the server's records.</summary>
    public bool ConnectionId { get; private set; }
    public bool Json { get; private set; }
    public bool NoProgress { get; private set; }
    public bool SelfTest { get; private set; }
    public int? Pid { get; private set; }
    public int Threads { get; private set; }
    public IReadOnlyList<int> Cpus { get; private set; } = [];
    public string Identity { get; private set; } = DefaultIdentity;
    public byte[] Key { get; private set; } = Convert.FromHexString(DefaultKeyHex);
    public IReadOnlyList<CipherSuite> Suites { get; private set; } = DefaultSuites;

    /// <summary>
    /// What the generator offers unless told otherwise: plain PSK AES-128-GCM, then AES-256-GCM — the suites every figure
    /// in docs/benchmarks.md before issue 10 measured, so they keep measuring the same thing (not the library's default
    /// offer, which leads with ECDHE_PSK).
    /// </summary>
    public static IReadOnlyList<CipherSuite> DefaultSuites { get; } =
        [CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384];

    /// <summary>--group: the ECDHE groups to offer, most preferred first; empty means the library's default (X25519, P-256).</summary>
    public IReadOnlyList<NamedGroup> Groups { get; private set; } = [];

    /// <summary>Whether any suite offered needs an ECDHE exchange (and so the groups matter).</summary>
    public bool OffersEcdhe => Suites.Any(IsEcdhe);

    /// <summary>
    /// The short names --suite takes, one per suite (the IANA names are accepted too). "psk-"/"ecdhe-" is the key
    /// exchange, the rest the record protection; the PRF follows from the suite (SHA-384 only for AES-256-GCM).
    /// </summary>
    internal static readonly (string Name, CipherSuite Suite)[] SuiteNames =
    [
        ("psk-aes128gcm", CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256),
        ("psk-aes256gcm", CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384),
        ("psk-aes128ccm", CipherSuite.TLS_PSK_WITH_AES_128_CCM),
        ("psk-aes256ccm", CipherSuite.TLS_PSK_WITH_AES_256_CCM),
        ("psk-aes128ccm8", CipherSuite.TLS_PSK_WITH_AES_128_CCM_8),
        ("psk-aes256ccm8", CipherSuite.TLS_PSK_WITH_AES_256_CCM_8),
        ("psk-chacha20", CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256),
        ("psk-cbc", CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256),
        ("ecdhe-aes128gcm", CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256),
        ("ecdhe-aes256gcm", CipherSuite.TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384),
        ("ecdhe-aes128ccm", CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256),
        ("ecdhe-aes128ccm8", CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256),
        ("ecdhe-chacha20", CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256),
        ("ecdhe-cbc", CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256),
    ];

    /// <summary>Older spellings, kept so earlier command lines (bench/run.sh's --suite aes256gcm) keep working.</summary>
    private static readonly (string Name, CipherSuite Suite)[] s_aliases =
    [
        ("aes128gcm", CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256),
        ("aes256gcm", CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384),
        ("psk-aes128cbc", CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256),
        ("ecdhe-aes128cbc", CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256),
        ("psk-chacha20poly1305", CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256),
        ("ecdhe-chacha20poly1305", CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256),
    ];

    /// <summary>The server as the user wrote it, for messages.</summary>
    public string ServerText => $"{Host}:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static LoadOptions Parse(ReadOnlySpan<string> args)
    {
        if (args.Length == 0)
        {
            throw new UsageException("Name a mode: handshake, echo, hold, ceiling, failover or rebind.");
        }
        var o = new LoadOptions
        {
            Mode = args[0] switch
            {
                "handshake" => LoadMode.Handshake,
                "echo" => LoadMode.Echo,
                "hold" => LoadMode.Hold,
                "ceiling" => LoadMode.Ceiling,
                "failover" => LoadMode.Failover,
                "rebind" => LoadMode.Rebind,
                _ => throw new UsageException($"Unknown mode '{args[0]}': use handshake, echo, hold, ceiling, failover or rebind."),
            },
        };
        int? concurrency = null, sessions = null, size = null;
        double? warmup = null, interval = null;
        int? rebinds = null, handshakeTimeout = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 1; i < args.Length; i++)
        {
            var name = args[i];
            if (!seen.Add(name))
            {
                throw new UsageException($"{name} is given twice.");
            }
            switch (name)
            {
                case "--server":
                    (o.Host, o.Port) = ParseServer(Value(args, ref i));
                    break;
                case "-n":
                    o.Handshakes = Whole(args, ref i, 1, long.MaxValue);
                    break;
                case "-c" or "--concurrency":
                    concurrency = (int)Whole(args, ref i, 1, 1_000_000);
                    break;
                case "-k" or "--sessions":
                    sessions = (int)Whole(args, ref i, 1, 10_000_000);
                    break;
                case "-w" or "--window":
                    o.Window = (int)Whole(args, ref i, 1, 4096);
                    break;
                case "-s" or "--size":
                    size = (int)Whole(args, ref i, 8, LoadOptions.MaxPayload);
                    break;
                case "-d" or "--duration":
                    o.DurationSeconds = Seconds(args, ref i, allowZero: false);
                    break;
                case "--warmup":
                    warmup = Seconds(args, ref i, allowZero: true);
                    break;
                case "--rate":
                    o.Rate = Seconds(args, ref i, allowZero: false); // a positive number, read the same way
                    break;
                case "--timeout":
                    o.TimeoutMs = (int)Whole(args, ref i, 1, 600_000);
                    break;
                case "--handshake-timeout":
                    handshakeTimeout = (int)Whole(args, ref i, 1, 600_000);
                    break;
                case "--rto":
                    o.RetransmitMs = (int)Whole(args, ref i, 1, 60_000);
                    break;
                case "--interval":
                    interval = Seconds(args, ref i, allowZero: false); // hold: seconds; failover and rebind: milliseconds
                    break;
                case "--rebinds":
                    rebinds = (int)Whole(args, ref i, 1, 1000);
                    break;
                case "--settle":
                    o.SettleSeconds = Seconds(args, ref i, allowZero: true);
                    break;
                case "--pid":
                    o.Pid = (int)Whole(args, ref i, 1, int.MaxValue);
                    break;
                case "--threads":
                    o.Threads = (int)Whole(args, ref i, 1, 256);
                    break;
                case "--cpu":
                    o.Cpus = ParseCpus(Value(args, ref i));
                    break;
                case "--identity":
                    o.Identity = Value(args, ref i);
                    break;
                case "--key":
                    o.Key = ParseKey(Value(args, ref i));
                    break;
                case "--suite":
                    o.Suites = ParseSuites(Value(args, ref i));
                    break;
                case "--group" or "--groups":
                    o.Groups = ParseGroups(Value(args, ref i));
                    break;
                case "--plain":
                    o.Plain = true;
                    break;
                case "--no-batch":
                    o.NoBatch = true;
                    break;
                case "--release-sockets":
                    o.ReleaseSockets = true;
                    break;
                case "--cid":
                    o.ConnectionId = true;
                    break;
                case "--resume":
                    o.Resume = Value(args, ref i);
                    break;
                case "--json":
                    o.Json = true;
                    break;
                case "--no-progress":
                    o.NoProgress = true;
                    break;
                case "--self-test":
                    o.SelfTest = true;
                    break;
                default:
                    throw new UsageException(name.StartsWith('-') ? $"Unknown option '{name}'." : $"Unexpected argument '{name}'.");
            }
        }
        o.Resolve(concurrency, sessions, size, warmup);
        o.ResolveMoves(interval, rebinds);
        // A failover reconnect that a dead server (or a balancer still sending there) does not answer is tried again
        // from a new socket after 3 s (retransmissions at 1 and 3 s with the default --rto), not after 10.
        o.HandshakeTimeoutMs = handshakeTimeout ?? (o.Mode == LoadMode.Failover ? 3000 : 10_000);
        return o;
    }

    /// <summary>--interval's unit follows the mode (hold counts keep-alives in seconds, failover and rebind echoes in ms); --rebinds is rebind's.</summary>
    private void ResolveMoves(double? interval, int? rebinds)
    {
        if (interval is { } value)
        {
            if (Mode == LoadMode.Hold)
            {
                IntervalSeconds = value;
            }
            else if (Mode is LoadMode.Failover or LoadMode.Rebind)
            {
                IntervalMs = value;
            }
            else
            {
                throw new UsageException("--interval belongs to hold (seconds), failover and rebind (milliseconds).");
            }
        }
        if (rebinds is { } n)
        {
            Rebinds = Mode == LoadMode.Rebind ? n : throw new UsageException("--rebinds belongs to rebind.");
        }
        if (Mode == LoadMode.Rebind)
        {
            // The mode is about keeping a session across a move: without a CID offer there is nothing to keep.
            ConnectionId = true;
        }
    }

    private void Resolve(int? concurrency, int? sessions, int? size, double? warmup)
    {
        if (Mode == LoadMode.Ceiling)
        {
            if (SelfTest && Host is not null)
            {
                throw new UsageException("ceiling takes --self-test or --server, not both.");
            }
            SelfTest = Host is null;
            Plain = true;
        }
        else if (Host is null)
        {
            throw new UsageException($"{Mode.ToString().ToLowerInvariant()} needs --server HOST:PORT.");
        }
        else if (SelfTest)
        {
            throw new UsageException("--self-test belongs to the ceiling mode.");
        }
        if (Plain && Mode is LoadMode.Handshake or LoadMode.Hold or LoadMode.Failover or LoadMode.Rebind)
        {
            throw new UsageException($"--plain has no {Mode.ToString().ToLowerInvariant()} mode: plain UDP has no handshake or session.");
        }
        if (Rate > 0 && Mode is not (LoadMode.Echo or LoadMode.Ceiling))
        {
            throw new UsageException("--rate belongs to echo (and ceiling).");
        }
        if (Pid is not null && Mode is not (LoadMode.Hold or LoadMode.Echo or LoadMode.Handshake))
        {
            throw new UsageException("--pid belongs to hold, echo and handshake.");
        }
        if (ConnectionId && Plain)
        {
            throw new UsageException("--cid needs DTLS: plain UDP (--plain, ceiling) has no Connection ID.");
        }
        if (Resume is not null && (Mode != LoadMode.Handshake || Plain))
        {
            throw new UsageException("--resume belongs to handshake mode.");
        }
        if (Resume is not (null or "id" or "ticket"))
        {
            throw new UsageException($"--resume takes id (session-ID resumption) or ticket (RFC 5077 tickets), not \"{Resume}\".");
        }
        if (ReleaseSockets && Mode != LoadMode.Hold)
        {
            throw new UsageException("--release-sockets belongs to hold.");
        }
        if (NoBatch && Mode is not (LoadMode.Echo or LoadMode.Ceiling))
        {
            throw new UsageException("--no-batch belongs to echo (and ceiling).");
        }
        if (Groups.Count > 0 && (Plain || !OffersEcdhe))
        {
            throw new UsageException("--group needs an ECDHE_PSK suite to offer (--suite ecdhe-..., e.g. ecdhe-chacha20): "
                + "the PSK suites exchange no ECDH keys.");
        }
        Concurrency = concurrency ?? (Mode == LoadMode.Hold ? 64 : 32);
        Sessions = sessions ?? (Mode == LoadMode.Hold ? 1000 : 16);
        Size = size ?? (Mode is LoadMode.Hold or LoadMode.Failover or LoadMode.Rebind ? 16 : 1200);
        WarmupSeconds = warmup ?? (Mode is LoadMode.Echo or LoadMode.Ceiling ? 1 : 0);
        if (Mode is LoadMode.Echo or LoadMode.Ceiling)
        {
            DurationSeconds ??= 10;
        }
        else if (Mode == LoadMode.Failover)
        {
            DurationSeconds ??= 30;
        }
        else if (Mode == LoadMode.Rebind && DurationSeconds is not null)
        {
            throw new UsageException("rebind runs until every session has made its moves: it takes --rebinds, not -d.");
        }
    }

    private static string Value(ReadOnlySpan<string> args, ref int i)
    {
        if (i + 1 >= args.Length)
        {
            throw new UsageException($"{args[i]} needs a value.");
        }
        return args[++i];
    }

    private static long Whole(ReadOnlySpan<string> args, ref int i, long min, long max)
    {
        var name = args[i];
        var text = Value(args, ref i);
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{name} needs a whole number from {min} to {max}, not '{text}'.");
    }

    private static double Seconds(ReadOnlySpan<string> args, ref int i, bool allowZero)
    {
        var name = args[i];
        var text = Value(args, ref i);
        return double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            && double.IsFinite(value) && (value > 0 || (allowZero && value == 0))
            ? value
            : throw new UsageException($"{name} needs a number {(allowZero ? "0 or above" : "above 0")}, not '{text}'.");
    }

    internal static (string Host, int Port) ParseServer(string text)
    {
        // HOST:PORT, or [IPv6]:PORT.
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            throw new UsageException($"--server needs HOST:PORT (for example 127.0.0.1:22334), not '{text}'.");
        }
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            throw new UsageException($"Write an IPv6 server as [ADDRESS]:PORT, not '{text}'.");
        }
        var portText = text[(colon + 1)..];
        return int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535
            ? (host, port)
            : throw new UsageException($"A server port is a number from 1 to 65535, not '{portText}'.");
    }

    internal static IReadOnlyList<int> ParseCpus(string text)
    {
        var cpus = new List<int>();
        foreach (var part in text.Split(','))
        {
            var range = part.Split('-');
            if (range.Length is 1 or 2
                && int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out var first)
                && int.TryParse(range[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var last)
                && first <= last && last < 1024)
            {
                for (var cpu = first; cpu <= last; cpu++)
                {
                    cpus.Add(cpu);
                }
                continue;
            }
            throw new UsageException($"--cpu needs CPU numbers like 1, 0,1 or 0-3, not '{text}'.");
        }
        return cpus;
    }

    internal static byte[] ParseKey(string hex)
    {
        try
        {
            var key = Convert.FromHexString(hex);
            return key.Length is >= 1 and <= 64 ? key : throw new UsageException("--key must be 1 to 64 bytes of hex.");
        }
        catch (FormatException)
        {
            // The key is a secret: it is never echoed back.
            throw new UsageException("--key must be an even number of hex digits.");
        }
    }

    internal static IReadOnlyList<CipherSuite> ParseSuites(string text)
    {
        var suites = new List<CipherSuite>();
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries))
        {
            var suite = FindSuite(name)
                ?? throw new UsageException($"Unknown suite '{name}': use {string.Join(", ", SuiteNames.Select(n => n.Name))} "
                    + "or an IANA name such as TLS_PSK_WITH_AES_128_CCM_8, comma-separated.");
            if (!suites.Contains(suite))
            {
                suites.Add(suite);
            }
        }
        return suites;
    }

    /// <summary>A short name, an older spelling or an IANA name (any case); null if none.</summary>
    internal static CipherSuite? FindSuite(string name)
    {
        foreach (var (shortName, suite) in SuiteNames)
        {
            if (string.Equals(name, shortName, StringComparison.OrdinalIgnoreCase))
            {
                return suite;
            }
        }
        foreach (var (alias, suite) in s_aliases)
        {
            if (string.Equals(name, alias, StringComparison.OrdinalIgnoreCase))
            {
                return suite;
            }
        }
        // IANA names by the enum's member names only: Enum.TryParse would also take numbers ("168").
        foreach (var suite in Enum.GetValues<CipherSuite>())
        {
            if (string.Equals(name, suite.ToString(), StringComparison.OrdinalIgnoreCase))
            {
                return suite;
            }
        }
        return null;
    }

    /// <summary>The short name of <paramref name="suite"/> (psk-aes128gcm, ecdhe-chacha20, ...), for reports.</summary>
    internal static string ShortName(CipherSuite suite)
    {
        foreach (var (name, s) in SuiteNames)
        {
            if (s == suite)
            {
                return name;
            }
        }
        return suite.ToString();
    }

    internal static bool IsEcdhe(CipherSuite suite) => CipherSuiteInfo.TryGet((ushort)suite, out var info) && info.IsEcdhe;

    internal static IReadOnlyList<NamedGroup> ParseGroups(string text)
    {
        var groups = new List<NamedGroup>();
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries))
        {
            NamedGroup group = name.ToLowerInvariant() switch
            {
                "x25519" => NamedGroup.X25519,
                "p256" or "p-256" or "secp256r1" or "prime256v1" => NamedGroup.Secp256r1,
                _ => throw new UsageException($"Unknown group '{name}': use x25519, p256 or both, comma-separated."),
            };
            if (!groups.Contains(group))
            {
                groups.Add(group);
            }
        }
        return groups;
    }

    /// <summary>The name --group takes for <paramref name="group"/>, for reports.</summary>
    internal static string GroupName(NamedGroup group) => group == NamedGroup.Secp256r1 ? "p256" : "x25519";
}
