namespace HotDtls;

/// <summary>A DTLS handshake or session failed. The message says what happened and what to check.</summary>
public sealed class DtlsException : Exception
{
    /// <summary>Creates an exception with a message.</summary>
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

    /// <summary>The alert that ended the handshake, sent or received, if one did.</summary>
    public AlertDescription? Alert { get; init; }
}
