namespace HotDtls.Handshake;

/// <summary>What a handler's work means for the handshake; the driver turns it into the row's state change.</summary>
internal enum StepKind : byte
{
    /// <summary>Done: move to the row's next state.</summary>
    Next,

    /// <summary>Waiting for a local event (the PSK lookup): move to the row's waiting state.</summary>
    Wait,

    /// <summary>The abbreviated handshake was chosen (session resumption): move to the row's abbreviated state.</summary>
    Abbreviate,

    /// <summary>Nothing happened (a harmless input that cannot be used now): stay, count the drop.</summary>
    Drop,

    /// <summary>The handshake ends with the alert <see cref="HandshakeStep.Error"/> maps to.</summary>
    Fail,
}

/// <summary>A handler's outcome: a <see cref="StepKind"/> and, for failures and drops, why.</summary>
internal readonly record struct HandshakeStep(StepKind Kind, DtlsError Error, DropReason DropReason)
{
    public static HandshakeStep Next => new(StepKind.Next, DtlsError.None, default);

    public static HandshakeStep Wait => new(StepKind.Wait, DtlsError.None, default);

    public static HandshakeStep Abbreviate => new(StepKind.Abbreviate, DtlsError.None, default);

    public static HandshakeStep Fail(DtlsError error) => new(StepKind.Fail, error, default);

    public static HandshakeStep Drop(DropReason reason) => new(StepKind.Drop, DtlsError.None, reason);

    /// <summary>Next when <paramref name="error"/> is <see cref="DtlsError.None"/>, otherwise Fail.</summary>
    public static HandshakeStep From(DtlsError error) => error == DtlsError.None ? Next : Fail(error);
}
