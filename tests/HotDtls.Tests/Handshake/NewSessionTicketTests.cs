using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

/// <summary>NewSessionTicket (RFC 5077 §3.3): golden bytes both ways, and malformed bodies refused.</summary>
public sealed class NewSessionTicketTests
{
    // ticket_lifetime_hint 3600 (0x00000E10), ticket<0..2^16-1> = 01 02 03.
    private static readonly byte[] s_golden = [0x00, 0x00, 0x0E, 0x10, 0x00, 0x03, 0x01, 0x02, 0x03];

    [Fact]
    public void Golden_bytes_parse()
    {
        Assert.True(NewSessionTicket.TryParse(s_golden, out var hint, out var ticket));
        Assert.Equal(3600u, hint);
        Assert.Equal([1, 2, 3], ticket.ToArray());
    }

    [Fact]
    public void Writing_gives_the_golden_bytes()
    {
        var body = new byte[NewSessionTicket.GetLength(3)];
        Assert.Equal(s_golden.Length, NewSessionTicket.Write(body, 3600, [1, 2, 3]));
        Assert.Equal(s_golden, body);
    }

    [Fact]
    public void An_empty_ticket_is_well_formed()
    {
        Assert.True(NewSessionTicket.TryParse([0, 0, 0, 0, 0, 0], out _, out var ticket));
        Assert.True(ticket.IsEmpty);
    }

    [Theory]
    [InlineData(new byte[0])]
    [InlineData(new byte[] { 0, 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 2, 1 })]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 1, 1, 9 })]
    public void Short_lying_or_trailing_bodies_are_refused(byte[] body)
        => Assert.False(NewSessionTicket.TryParse(body, out _, out _));
}
