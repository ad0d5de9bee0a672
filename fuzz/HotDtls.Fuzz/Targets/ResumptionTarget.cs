using System.Buffers.Binary;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The whole server engine as the <c>engine</c> target drives it (the same steps, <see cref="EngineTarget.WriteStep"/>),
/// with session-ID resumption and RFC 5077 tickets on (<see cref="ResumptionOptions"/>: fixed ticket key, a cache of
/// two sessions), so that recorded full and abbreviated handshakes replay with their session_ids and tickets still
/// valid. Its own target rather than a mode of <c>engine</c>: the engine seeds were recorded against a server that
/// sends no NewSessionTicket and must keep replaying as they were.
/// </summary>
/// <remarks>
/// Besides every promise <see cref="EngineHarness"/> checks: no ticket is opened for a hello the server answered
/// statelessly with a HelloVerifyRequest (tickets are opened only after the cookie check — decrypting costs, and a
/// spoofed address must not buy that), and the session cache never holds more than its cap.
/// </remarks>
internal static class ResumptionTarget
{
    // Per thread: the tests replay inputs from classes that xUnit runs in parallel.
    [ThreadStatic]
    private static long t_lastResumed;
    [ThreadStatic]
    private static int t_lastDelivered;

    /// <summary>Handshakes the last input on this thread resumed (abbreviated), by session_id or by ticket.</summary>
    public static long LastResumed
    {
        get => t_lastResumed;
        private set => t_lastResumed = value;
    }

    /// <summary>Application records the last input on this thread got delivered.</summary>
    public static int LastDelivered
    {
        get => t_lastDelivered;
        private set => t_lastDelivered = value;
    }

    public static void Run(ReadOnlySpan<byte> input)
    {
        var lastSentWasHelloVerifyRequest = false;
        var sent = 0;
        using var harness = new EngineHarness((datagram, _) =>
        {
            sent++;
            lastSentWasHelloVerifyRequest = datagram.Length > RecordHeader.Size
                && datagram[0] == (byte)ContentType.Handshake && datagram[RecordHeader.Size] == (byte)HandshakeType.HelloVerifyRequest;
        }, resumption: true);
        var tickets = harness.Engine.Tickets!;
        var cache = harness.Engine.SessionCache!;
        while (input.Length >= EngineTarget.StepHeaderLength)
        {
            var peer = input[0];
            var advance = BinaryPrimitives.ReadUInt16LittleEndian(input[1..]);
            var length = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(input[3..]), input.Length - EngineTarget.StepHeaderLength);
            var datagram = input.Slice(EngineTarget.StepHeaderLength, length);
            input = input[(EngineTarget.StepHeaderLength + length)..];
            harness.Advance(advance);

            var from = EngineHarness.Peers[peer & 3];
            var hadState = harness.Engine.HasState(from);
            var opensBefore = tickets.OpenAttempts;
            sent = 0;
            harness.Deliver(peer, datagram);
            if (!hadState && !harness.Engine.HasState(from) && sent == 1 && lastSentWasHelloVerifyRequest
                && tickets.OpenAttempts != opensBefore)
            {
                throw new FuzzOracleException("a ticket was opened for a hello the server answered with a HelloVerifyRequest (before the cookie check)");
            }
            if (cache.Count > ResumptionOptions.MaxCachedSessions)
            {
                throw new FuzzOracleException($"the session cache holds {cache.Count} sessions, cap {ResumptionOptions.MaxCachedSessions}");
            }
        }
        LastResumed = harness.Engine.GetStatistics().HandshakesResumed;
        LastDelivered = harness.Delivered;
    }
}
