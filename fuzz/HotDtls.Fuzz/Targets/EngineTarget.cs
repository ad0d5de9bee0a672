using System.Buffers.Binary;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The whole server engine, driven without a socket by a run of steps, each
/// <c>[peer (low 2 bits)] [clock advance ms, uint16 LE] [length, uint16 LE] [datagram]</c>; the length is cut to
/// what is left. <see cref="EngineHarness"/> checks every promise after every step.
/// </summary>
internal static class EngineTarget
{
    public const int StepHeaderLength = 5;

    public static void Run(ReadOnlySpan<byte> input)
    {
        using var harness = new EngineHarness();
        while (input.Length >= StepHeaderLength)
        {
            var peer = input[0];
            var advance = BinaryPrimitives.ReadUInt16LittleEndian(input[1..]);
            var length = Math.Min(BinaryPrimitives.ReadUInt16LittleEndian(input[3..]), input.Length - StepHeaderLength);
            var datagram = input.Slice(StepHeaderLength, length);
            input = input[(StepHeaderLength + length)..];
            harness.Advance(advance);
            harness.Deliver(peer, datagram);
        }
        LastDelivered = harness.Delivered;
        LastStatistics = harness.Engine.GetStatistics();
    }

    /// <summary>The engine's counters after the last input (replay prints the CID ones; tests check what seeds reach).</summary>
    public static DtlsServerStatistics LastStatistics { get; private set; }

    /// <summary>Application records the last input got delivered: replay prints it, to show a seed reaches that far.</summary>
    public static int LastDelivered { get; private set; }

    /// <summary>Appends one step in the target's input format (used to write seeds).</summary>
    public static void WriteStep(Stream output, int peer, int advanceMs, ReadOnlySpan<byte> datagram)
    {
        Span<byte> header = stackalloc byte[StepHeaderLength];
        header[0] = (byte)peer;
        BinaryPrimitives.WriteUInt16LittleEndian(header[1..], (ushort)Math.Clamp(advanceMs, 0, ushort.MaxValue));
        BinaryPrimitives.WriteUInt16LittleEndian(header[3..], (ushort)datagram.Length);
        output.Write(header);
        output.Write(datagram);
    }
}
