using System.CommandLine;
using System.CommandLine.Invocation;
using Microsoft.Extensions.Logging;

namespace HotDtls.Cli;

/// <summary>The `hotdtls` command: `serve` (the Qt DTLS example server) and `connect` (its client), on System.CommandLine.</summary>
internal static class CommandLine
{
    /// <summary>No response files: a hint or identity that starts with '@' is text, not a file to expand.</summary>
    public static ParserConfiguration ParserConfiguration { get; } = new() { ResponseFileTokenReplacer = null };

    private const string ServeDescription = """
        Listen for DTLS 1.2 PSK clients: the Qt "DTLS server" example. By default on 127.0.0.1:22334 with identity hint
        "Qt DTLS example server" and key 1a2b3c4d5e6f, accepting any identity; prints each datagram (peer, ciphertext in
        hex, plaintext) and answers "to (<address>:<port>): ACK". Type "close" (or "quit") or press Ctrl+C, or send
        SIGTERM, to send close_notify to every peer and exit with 0. Clients get a 6-byte Connection ID (RFC 9146)
        when they offer one, and may resume sessions (session IDs and tickets) with --resume. --config FILE takes
        every option from a JSON file (HotDtls.Hosting's schema); the command line wins.
        """;

    private const string ConnectDescription = """
        Handshake with a DTLS 1.2 PSK server as identity "Qt DTLS example client" and the seed's key, send
        "I am <identity>, please, accept our ping N" every --interval ms, --count times, and print each reply: the Qt
        "DTLS client" example. Exit codes: 0 done, 1 network failure (nothing listens at PORT), 2 usage error,
        3 handshake refused (wrong key, alert, no common suite), 4 --timeout passed, 130 Ctrl+C, 143 SIGTERM.
        The port defaults to 22334.
        """;

    /// <summary>The command tree; <paramref name="run"/> (command name, parse) runs a command, null for parsing only.</summary>
    public static Command Build(Func<string, ParseResult, CancellationToken, Task<int>>? run = null)
    {
        var serve = new Command("serve", ServeDescription)
        {
            CliOptions.Address, CliOptions.Port, CliOptions.Key, CliOptions.KeyFile, CliOptions.Hint, CliOptions.Config, CliOptions.KeyLog,
            CliOptions.Echo, CliOptions.Quiet, CliOptions.Verbose, CliOptions.Loops, CliOptions.Receive,
            CliOptions.Suites, CliOptions.Groups, CliOptions.ConnectionIdLength, CliOptions.NoConnectionId, CliOptions.ServeResume, CliOptions.NoResume,
            CliOptions.NodeId, CliOptions.ClusterKeys, CliOptions.ClusterListen, CliOptions.ClusterNodes,
        };
        var connect = new Command("connect", ConnectDescription)
        {
            CliOptions.Host, CliOptions.RemotePort, CliOptions.Identity, CliOptions.Key, CliOptions.KeyFile, CliOptions.KeyLog,
            CliOptions.Count, CliOptions.Interval, CliOptions.Timeout, CliOptions.Verbose, CliOptions.Suites, CliOptions.Groups,
            CliOptions.Resume, CliOptions.OfferConnectionId,
        };
        if (run is not null)
        {
            serve.SetAction((result, token) => run("serve", result, token));
            connect.SetAction((result, token) => run("connect", result, token));
        }
        // Not a RootCommand, whose name is the executable's ("HotDtls.Cli" when run with `dotnet`): help says "hotdtls".
        return new Command("hotdtls", "hotdtls — a DTLS 1.2 PSK server and client (HotDtls). Exit codes: 0 ok, 1 runtime or network "
            + "failure, 2 usage error, 3 handshake failed, 4 timeout, 130 SIGINT, 143 SIGTERM.")
        {
            new System.CommandLine.Help.HelpOption { Recursive = true },
            new VersionOption(),
            serve,
            connect,
        };
    }

    public static async Task<int> RunAsync(string[] args)
    {
        using var interruption = new Interruption();
        var root = Build((name, result, _) => RunCommandAsync(name, result, interruption));
        var parsed = root.Parse(args, ParserConfiguration);
        if (parsed.Action is ParseErrorAction)
        {
            foreach (var error in parsed.Errors)
            {
                await Console.Error.WriteLineAsync($"hotdtls: {error.Message}").ConfigureAwait(false);
            }
            var command = parsed.CommandResult.Command == root ? "hotdtls" : $"hotdtls {parsed.CommandResult.Command.Name}";
            await Console.Error.WriteLineAsync($"Run '{command} --help' for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        // Signals are ours (Interruption), so System.CommandLine registers none and leaves exceptions to us.
        var invocation = new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false };
        return await parsed.InvokeAsync(invocation, interruption.Token).ConfigureAwait(false);
    }

    /// <summary>Runs one command; every failure becomes a line on stderr and an exit code, never a stack trace.</summary>
    private static async Task<int> RunCommandAsync(string name, ParseResult result, Interruption interruption)
    {
        try
        {
            var arguments = Arguments.From(result, Environment.GetEnvironmentVariable);
            using var loggerFactory = LoggerFactory.Create(builder => builder
                .SetMinimumLevel(arguments.Verbose ? LogLevel.Debug : arguments.Quiet ? LogLevel.Warning : LogLevel.Information)
                .AddSimpleConsole(console =>
                {
                    console.SingleLine = true;
                    console.TimestampFormat = "HH:mm:ss.fff ";
                }));
            return name == "serve"
                ? await ServeCommand.RunAsync(arguments, loggerFactory, interruption).ConfigureAwait(false)
                : await ConnectCommand.RunAsync(arguments, loggerFactory, interruption).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (interruption.Token.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("hotdtls: interrupted").ConfigureAwait(false);
            return interruption.SignalExitCode is not 0 and var code ? code : ExitCodes.Interrupted;
        }
        catch (Exception exception) when (exception is UsageException or DtlsException or System.Net.Sockets.SocketException or IOException)
        {
            await Console.Error.WriteLineAsync($"hotdtls: {exception.Message}").ConfigureAwait(false);
            if (exception is UsageException)
            {
                await Console.Error.WriteLineAsync($"Run 'hotdtls {name} --help' for usage.").ConfigureAwait(false);
            }
            return ExitCodes.For(exception);
        }
        catch (Exception exception)
        {
            // A bug, not a user's mistake: still one line, not a stack trace (HOTDTLS_DEBUG=1 shows it).
            await Console.Error.WriteLineAsync(Environment.GetEnvironmentVariable("HOTDTLS_DEBUG") == "1"
                ? $"hotdtls: {exception}" : $"hotdtls: unexpected failure: {exception.GetType().Name}: {exception.Message}").ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }
}
