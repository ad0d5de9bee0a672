namespace HotDtls.Handshake;

/// <summary>
/// ServerHelloDone body, RFC 5246 §7.4.5: <c>struct { } ServerHelloDone;</c> — any byte in it is trailing
/// data and makes the message malformed.
/// </summary>
internal static class ServerHelloDone
{
    public const int Length = 0;

    public static bool IsValid(ReadOnlySpan<byte> body) => body.IsEmpty;
}
