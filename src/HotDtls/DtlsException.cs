namespace HotDtls;

/// <summary>
/// A DTLS handshake or session failed. <see cref="Reason"/> says why in a form code can act on; the message says
/// what happened and what to check.
/// </summary>
public sealed class DtlsException : Exception
{
    /// <summary>Creates an exception with a message (<see cref="Reason"/> <see cref="DtlsExceptionReason.Other"/>).</summary>
    public DtlsException(string message) : base(message)
    {
    }

    /// <summary>Creates an exception with a message and the exception that caused it.</summary>
    public DtlsException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates an exception with no message (for serializers; prefer the other constructors).</summary>
    public DtlsException()
    {
    }

    /// <summary>Creates an exception with a message and a reason.</summary>
    public DtlsException(string message, DtlsExceptionReason reason) : base(message)
    {
        Reason = reason;
    }

    /// <summary>Creates an exception with a message, a reason and the exception that caused it.</summary>
    public DtlsException(string message, DtlsExceptionReason reason, Exception innerException) : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Why the operation failed.</summary>
    public DtlsExceptionReason Reason { get; init; }

    /// <summary>The alert that ended the handshake or session, sent or received, if one did.</summary>
    public AlertDescription? Alert { get; init; }
}
