namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// A peer failed (handshake refused, process exited, timed out). The message carries the peer's own
/// diagnostics (command line, stderr, alerts) so a failing test says why without a rerun.
/// </summary>
public sealed class PeerException : Exception
{
    /// <summary>Creates an exception with no message.</summary>
    public PeerException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public PeerException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public PeerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
