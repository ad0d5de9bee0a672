using System.CommandLine;
using System.Net;

namespace HotDtls.Cli;

/// <summary>A command line the tool cannot use; the message says what to change (exit code 2).</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The values one command runs with: its options, the key from wherever it came, and the Qt example's defaults.</summary>
internal sealed class Arguments
{
    // One tree for every Parse: the options are shared static instances, and each tree adds itself to their parents.
    private static readonly System.CommandLine.Command s_parseOnly = CommandLine.Build();

    public IPAddress Address { get; private set; } = IPAddress.Loopback;
    public int Port { get; private set; } = CliOptions.DefaultPort;
    public string? Host { get; private set; }
    public byte[] Key { get; private set; } = Convert.FromHexString(CliOptions.DefaultKeyHex);
    public string Hint { get; private set; } = "Qt DTLS example server";
    public string Identity { get; private set; } = "Qt DTLS example client";
    public int Count { get; private set; } = 5;
    public TimeSpan Interval { get; private set; } = TimeSpan.FromSeconds(1);
    public TimeSpan Timeout { get; private set; } = TimeSpan.FromSeconds(30);
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

    /// <summary>serve --no-resume: no session cache and no tickets, whatever the --config file says.</summary>
    public bool NoResume { get; private set; }

    /// <summary>serve --resume: a session cache and tickets.</summary>
    public bool ServeResume { get; private set; }

    /// <summary>serve --node-id, --cluster-keys, --cluster-listen and --cluster-node (null: not given).</summary>
    public byte? NodeId { get; private set; }

    public string? ClusterKeysPath { get; private set; }

    public IPEndPoint? ClusterListen { get; private set; }

    public IReadOnlyList<KeyValuePair<byte, IPEndPoint>>? ClusterNodes { get; private set; }

    /// <summary>
    /// Makes <paramref name="options"/> a cluster node with the --node-id, --cluster-keys, --cluster-listen and
    /// --cluster-node given (over what a --config file's Cluster section says).
    /// </summary>
    public void ApplyClusterTo(DtlsServerOptions options)
    {
        if (NodeId is null && ClusterKeysPath is null && ClusterListen is null && ClusterNodes is null)
        {
            return;
        }
        var cluster = options.Cluster ?? new DtlsClusterOptions();
        if (NodeId is { } id)
        {
            cluster.NodeId = id;
        }
        if (ClusterKeysPath is { } path)
        {
            cluster.KeyFile = path;
            cluster.Keys = null;
        }
        if (ClusterListen is { } listen)
        {
            cluster.ChannelEndPoint = listen;
        }
        if (ClusterNodes is { } nodes)
        {
            cluster.Nodes.Clear();
            foreach (var (node, endPoint) in nodes)
            {
                cluster.Nodes[node] = endPoint;
            }
        }
        if (cluster.Keys is null && cluster.KeyFile is null)
        {
            throw new UsageException("A cluster node needs the cluster's shared keys: give --cluster-keys FILE (or Cluster:KeyFile in the --config file).");
        }
        options.Cluster = cluster;
    }

    /// <summary>The key came from --key, --key-file or <c>HOTDTLS_KEY</c>, not from the seed's default.</summary>
    public bool KeyGiven { get; private set; }

    /// <summary>--key-log: where to append the NSS key log (debugging only), or null.</summary>
    public string? KeyLogPath { get; private set; }

    /// <summary>Turns on the library's key-log switch and points <paramref name="options"/> at --key-log, when given.</summary>
    public void ApplyKeyLogTo(DtlsOptions options)
    {
        if (KeyLogPath is null)
        {
            return;
        }
        // The library refuses a key log unless the application opts in: giving --key-log is that decision.
        AppContext.SetSwitch(DtlsOptions.KeyLoggingSwitch, true);
        options.KeyLogPath = KeyLogPath;
    }

    /// <summary>serve --config: what the file sets (<see cref="ConfigFile.Empty"/> without one).</summary>
    public ConfigFile File { get; private set; } = ConfigFile.Empty;

    /// <summary>serve --no-cid: ignore the connection_id extension.</summary>
    public bool NoConnectionId { get; private set; }

    /// <summary>
    /// Parses a whole command line (`serve …` or `connect …`) for tests and tools: the values, or a
    /// <see cref="UsageException"/> with the parser's first complaint.
    /// </summary>
    public static Arguments Parse(string[] args, Func<string, string?>? environment = null)
    {
        var result = s_parseOnly.Parse(args, CommandLine.ParserConfiguration);
        if (result.Errors.Count > 0)
        {
            throw new UsageException(result.Errors[0].Message);
        }
        return From(result, environment ?? Environment.GetEnvironmentVariable);
    }

    /// <summary>The values of a parse without errors; reads --key-file, <c>HOTDTLS_KEY</c> and --config.</summary>
    public static Arguments From(ParseResult result, Func<string, string?> environment)
    {
        var arguments = new Arguments
        {
            Verbose = result.GetValue(CliOptions.Verbose),
            // Collections are never null when absent (System.CommandLine gives an empty one): ask whether they were given.
            Suites = Given(result, CliOptions.Suites) ? result.GetValue(CliOptions.Suites) : null,
            Groups = Given(result, CliOptions.Groups) ? result.GetValue(CliOptions.Groups) : null,
            Key = ResolveKey(result, environment, out var keyGiven),
            KeyGiven = keyGiven,
            KeyLogPath = result.GetValue(CliOptions.KeyLog)?.FullName,
        };
        if (result.CommandResult.Command.Name == "connect")
        {
            arguments.Host = result.GetValue(CliOptions.Host);
            arguments.Port = result.GetValue(CliOptions.RemotePort);
            arguments.Identity = result.GetValue(CliOptions.Identity)!;
            arguments.Count = result.GetValue(CliOptions.Count);
            arguments.Interval = TimeSpan.FromMilliseconds(result.GetValue(CliOptions.Interval));
            arguments.Timeout = TimeSpan.FromSeconds(result.GetValue(CliOptions.Timeout));
            arguments.Resume = result.GetValue(CliOptions.Resume);
            arguments.OfferConnectionId = result.GetValue(CliOptions.OfferConnectionId);
            return arguments;
        }
        arguments.Echo = result.GetValue(CliOptions.Echo);
        arguments.Quiet = result.GetValue(CliOptions.Quiet);
        arguments.Receive = result.GetValue(CliOptions.Receive) ?? DtlsReceiveStrategy.Batched;
        arguments.NoResume = result.GetValue(CliOptions.NoResume);
        arguments.ServeResume = result.GetValue(CliOptions.ServeResume);
        if (arguments.NoResume && arguments.ServeResume)
        {
            throw new UsageException("--resume and --no-resume contradict each other: give one of them.");
        }
        arguments.NoConnectionId = result.GetValue(CliOptions.NoConnectionId);
        arguments.ConnectionIdLength = result.GetValue(CliOptions.ConnectionIdLength);
        if (arguments.NoConnectionId && arguments.ConnectionIdLength is not null)
        {
            throw new UsageException("--no-cid and --cid-length contradict each other: give one of them.");
        }
        arguments.NodeId = result.GetValue(CliOptions.NodeId);
        arguments.ClusterKeysPath = result.GetValue(CliOptions.ClusterKeys)?.FullName;
        arguments.ClusterListen = result.GetValue(CliOptions.ClusterListen);
        arguments.ClusterNodes = result.GetValue(CliOptions.ClusterNodes);
        // The configuration file fills in what the command line leaves out.
        var file = result.GetValue(CliOptions.Config) is { } path ? ConfigFile.Read(path) : ConfigFile.Empty;
        arguments.File = file;
        arguments.Address = Given(result, CliOptions.Address) ? result.GetValue(CliOptions.Address)! : file.Address ?? IPAddress.Loopback;
        arguments.Port = Given(result, CliOptions.Port) ? result.GetValue(CliOptions.Port) : file.Port ?? CliOptions.DefaultPort;
        arguments.Hint = Given(result, CliOptions.Hint) ? result.GetValue(CliOptions.Hint)! : file.PskIdentityHint ?? result.GetValue(CliOptions.Hint)!;
        arguments.Loops = Given(result, CliOptions.Loops) ? result.GetValue(CliOptions.Loops) : file.ReceiveLoops;
        arguments.Suites ??= file.CipherSuites;
        return arguments;
    }

    private static bool Given(ParseResult result, Option option) => result.GetResult(option) is { Implicit: false, Tokens.Count: > 0 };

    /// <summary>
    /// --key, else --key-file, else <c>HOTDTLS_KEY</c>, else the seed's key. --key is the least private: any user
    /// sees it in `ps`; the file and the variable are readable by the owner only (and root).
    /// </summary>
    private static byte[] ResolveKey(ParseResult result, Func<string, string?> environment, out bool given)
    {
        given = true;
        if (Given(result, CliOptions.Key) && result.GetValue(CliOptions.Key) is { } key)
        {
            return key;
        }
        if (result.GetValue(CliOptions.KeyFile) is { } file)
        {
            string text;
            try
            {
                text = System.IO.File.ReadAllText(file.FullName);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--key-file: cannot read '{file.FullName}': {exception.Message}");
            }
            return CliOptions.TryParseKey(text, $"--key-file {file.FullName}", out var error) ?? throw new UsageException(error!);
        }
        if (environment(CliOptions.KeyVariable) is { Length: > 0 } variable)
        {
            return CliOptions.TryParseKey(variable, CliOptions.KeyVariable, out var error) ?? throw new UsageException(error!);
        }
        given = false;
        return Convert.FromHexString(CliOptions.DefaultKeyHex);
    }

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
}
