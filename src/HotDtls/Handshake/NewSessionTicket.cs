using System.Buffers.Binary;

namespace HotDtls.Handshake;

/// <summary>
/// NewSessionTicket body, RFC 5077 §3.3:
/// <code>
/// struct {
///     uint32 ticket_lifetime_hint;     // seconds; 0: unspecified
///     opaque ticket&lt;0..2^16-1&gt;;
/// } NewSessionTicket;
/// </code>
/// Sent by the server in its last flight before ChangeCipherSpec, only if its ServerHello carried the SessionTicket
/// extension; an empty ticket withdraws the offer (RFC 5077 §3.3). The ticket is opaque to the client.
/// </summary>
internal static class NewSessionTicket
{
    /// <summary>Bytes of a body carrying a <paramref name="ticketLength"/>-byte ticket.</summary>
    public static int GetLength(int ticketLength) => 4 + 2 + ticketLength;

    public static bool TryParse(ReadOnlySpan<byte> body, out uint lifetimeHintSeconds, out ReadOnlySpan<byte> ticket)
    {
        lifetimeHintSeconds = 0;
        ticket = default;
        if (body.Length < 4)
        {
            return false;
        }
        lifetimeHintSeconds = BinaryPrimitives.ReadUInt32BigEndian(body);
        var reader = new HandshakeReader(body[4..]);
        return reader.TryReadOpaque16(0, ushort.MaxValue, out ticket) && reader.IsEmpty;
    }

    public static int Write(Span<byte> destination, uint lifetimeHintSeconds, ReadOnlySpan<byte> ticket)
    {
        HandshakeWriter.EnsureLength(ticket, 0, ushort.MaxValue, nameof(ticket));
        var length = GetLength(ticket.Length);
        HandshakeWriter.EnsureCapacity(destination, length);
        BinaryPrimitives.WriteUInt32BigEndian(destination, lifetimeHintSeconds);
        var writer = new HandshakeWriter(destination[4..]);
        writer.WriteOpaque16(ticket);
        return length;
    }
}
