using System.Net.Sockets;

namespace HotDtls.Cli;

/// <summary>
/// What `hotdtls` returns, by kind of outcome, so scripts can tell a typo from a dead server (docs/_fragments/cli.md).
/// 130 and 143 follow the shell's 128 + signal number.
/// </summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Runtime or network failure: cannot bind, nothing listens at the server's port, the session ended abnormally.</summary>
    public const int Failure = 1;

    /// <summary>Usage error: unknown command or option, an option of the other command, a bad value, an unreadable key or config file.</summary>
    public const int Usage = 2;

    /// <summary>The handshake failed: wrong key or identity, an alert from the server, no common cipher suite.</summary>
    public const int HandshakeFailed = 3;

    /// <summary>The handshake did not finish within connect --timeout.</summary>
    public const int Timeout = 4;

    /// <summary>connect interrupted by Ctrl+C (SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>connect stopped by SIGTERM.</summary>
    public const int Terminated = 143;

    /// <summary>The exit code for a failure that ended a command.</summary>
    public static int For(Exception exception) => exception switch
    {
        UsageException => Usage,
        DtlsException { Reason: DtlsExceptionReason.HandshakeTimeout } => Timeout,
        DtlsException { Reason: DtlsExceptionReason.WrongKey or DtlsExceptionReason.AlertReceived or DtlsExceptionReason.HandshakeFailed } => HandshakeFailed,
        DtlsException or SocketException => Failure,
        _ => Failure,
    };
}
