using HotDtls.Crypto;
using HotDtls.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HotDtls.Tests.Crypto;

/// <summary>
/// Sealing and opening RFC 5077 tickets: the documented layout, the key set (first seals, all open), random keys that
/// rotate and are kept for one lifetime, and every bad ticket refused with false.
/// </summary>
public sealed class SessionTicketProtectorTests
{
    private static readonly TimeSpan s_lifetime = TimeSpan.FromHours(1);
    private static readonly byte[] s_secret = Enumerable.Repeat((byte)0x42, 48).ToArray();
    private static readonly byte[] s_keyA = Enumerable.Range(0, 48).Select(i => (byte)i).ToArray();
    private static readonly byte[] s_keyB = Enumerable.Range(100, 48).Select(i => (byte)i).ToArray();

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero));

    private SessionTicketProtector Protector(params byte[][] keys)
        => new(keys, TimeSpan.FromMinutes(10), s_lifetime, _time, new SeededRandom(3));

    private static byte[] Seal(SessionTicketProtector protector, string identity = "sensor-7", long issued = 0)
    {
        var ticket = new byte[SessionTicketProtector.GetTicketLength(identity.Length)];
        Assert.True(protector.TrySeal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, true, s_secret, System.Text.Encoding.UTF8.GetBytes(identity),
            issued, ticket, out var written));
        Assert.Equal(ticket.Length, written);
        return ticket;
    }

    [Theory]
    [InlineData(long.MinValue)]
    [InlineData(long.MinValue + 1)]
    [InlineData(long.MaxValue)]
    [InlineData(-1)]
    public void A_ticket_with_an_issue_time_at_the_ends_of_the_range_is_refused_not_taken_for_fresh(long issued)
    {
        // Found by the ticket fuzzer: "now − issued" overflowed for an issue time near long.MinValue and read as fresh.
        using var protector = Protector();
        var ticket = Seal(protector, issued: issued);

        Assert.False(protector.TryOpen(ticket, new byte[48], out _));
    }

    [Fact]
    public void A_sealed_ticket_opens_to_the_same_state()
    {
        using var protector = Protector();
        var ticket = Seal(protector);
        var secret = new byte[48];

        Assert.True(protector.TryOpen(ticket, secret, out var state));

        Assert.Equal(s_secret, secret);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, state.Suite);
        Assert.True(state.ExtendedMasterSecret);
        Assert.Equal("sensor-7"u8.ToArray(), state.PskIdentity);
        Assert.Equal(_time.GetUtcNow().ToUnixTimeMilliseconds(), state.IssuedUnixMs);
    }

    [Fact]
    public void The_layout_is_key_name_nonce_ciphertext_tag_and_hides_the_state()
    {
        using var protector = Protector(s_keyA);
        var ticket = Seal(protector);

        Assert.Equal(16 + 12 + (2 + 2 + 1 + 8 + 48 + 2 + 8) + 16, ticket.Length);
        Assert.Equal(s_keyA[..16], ticket[..16]);
        // Neither the master secret nor the identity appears in clear.
        Assert.True(ticket.AsSpan().IndexOf(s_secret) < 0);
        Assert.True(ticket.AsSpan().IndexOf("sensor-7"u8) < 0);
    }

    [Fact]
    public void The_first_configured_key_seals_and_all_open()
    {
        using var oldServer = Protector(s_keyA);
        using var rotated = Protector(s_keyB, s_keyA);
        var oldTicket = Seal(oldServer);
        var newTicket = Seal(rotated);

        Assert.Equal(s_keyB[..16], newTicket[..16]);
        Assert.True(rotated.TryOpen(oldTicket, new byte[48], out _));
        Assert.True(rotated.TryOpen(newTicket, new byte[48], out _));
        Assert.False(oldServer.TryOpen(newTicket, new byte[48], out _));
    }

    [Fact]
    public void A_replaced_key_set_seals_with_its_first_key_and_opens_what_it_still_holds()
    {
        using var protector = Protector(s_keyA);
        var underA = Seal(protector);

        protector.ReplaceConfiguredKeys([s_keyB, s_keyA]);
        var underB = Seal(protector);
        Assert.Equal(s_keyB[..SessionTicketProtector.KeyNameLength], underB[..SessionTicketProtector.KeyNameLength]);
        Assert.True(protector.TryOpen(underA, new byte[48], out _));
        Assert.True(protector.TryOpen(underB, new byte[48], out _));

        // The rotation is over: tickets of the dropped key no longer open.
        protector.ReplaceConfiguredKeys([s_keyB]);
        Assert.False(protector.TryOpen(underA, new byte[48], out _));
        Assert.True(protector.TryOpen(underB, new byte[48], out _));
    }

    [Fact]
    public void Only_a_configured_key_set_is_replaced_and_by_valid_keys()
    {
        using var random = Protector();
        Assert.Throws<InvalidOperationException>(() => random.ReplaceConfiguredKeys([s_keyA]));

        using var configured = Protector(s_keyA);
        Assert.Throws<InvalidOperationException>(() => configured.ReplaceConfiguredKeys([]));
        Assert.Throws<ArgumentException>(() => configured.ReplaceConfiguredKeys([s_keyB, new byte[47]]));
        // A refused set changes nothing.
        Assert.True(configured.TryOpen(Seal(configured), new byte[48], out _));
        Assert.Equal(s_keyA[..SessionTicketProtector.KeyNameLength], Seal(configured)[..SessionTicketProtector.KeyNameLength]);
    }

    [Fact]
    public void Random_keys_rotate_and_old_ones_open_until_their_tickets_expire()
    {
        using var protector = Protector();
        var first = Seal(protector);
        _time.Advance(TimeSpan.FromMinutes(10));
        var second = Seal(protector);

        Assert.NotEqual(first[..16], second[..16]);
        Assert.Equal(2, protector.KeyCount);
        Assert.True(protector.TryOpen(first, new byte[48], out _));

        // One lifetime after the first key was replaced, no ticket of it can be alive: it goes.
        _time.Advance(s_lifetime);
        Assert.False(protector.TryOpen(first, new byte[48], out _));
        Assert.True(protector.KeyCount <= 2);
    }

    [Fact]
    public void A_ticket_opens_until_its_lifetime_from_issue_and_not_after()
    {
        using var protector = Protector(s_keyA);
        var ticket = Seal(protector);

        _time.Advance(s_lifetime - TimeSpan.FromMilliseconds(1));
        Assert.True(protector.TryOpen(ticket, new byte[48], out _));
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(protector.TryOpen(ticket, new byte[48], out _));
    }

    [Fact]
    public void A_renewed_ticket_keeps_the_original_issue_time()
    {
        using var protector = Protector(s_keyA);
        var issued = _time.GetUtcNow().ToUnixTimeMilliseconds();
        _time.Advance(TimeSpan.FromMinutes(50));
        var renewed = Seal(protector, issued: issued);

        Assert.True(protector.TryOpen(renewed, new byte[48], out var state));
        Assert.Equal(issued, state.IssuedUnixMs);
        _time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(protector.TryOpen(renewed, new byte[48], out _));
    }

    [Fact]
    public void A_ticket_from_the_future_is_refused()
    {
        using var protector = Protector(s_keyA);
        var future = Seal(protector, issued: _time.GetUtcNow().AddMinutes(5).ToUnixTimeMilliseconds());

        Assert.False(protector.TryOpen(future, new byte[48], out _));
    }

    public static TheoryData<int> EveryByte() => [.. Enumerable.Range(0, SessionTicketProtector.GetTicketLength(8))];

    [Theory]
    [MemberData(nameof(EveryByte))]
    public void Flipping_any_byte_makes_the_ticket_refused(int index)
    {
        using var protector = Protector(s_keyA);
        var ticket = Seal(protector);
        ticket[index] ^= 0x01;

        Assert.False(protector.TryOpen(ticket, new byte[48], out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(43)]
    [InlineData(44)]
    [InlineData(100)]
    public void Truncated_or_short_tickets_are_refused(int length)
    {
        using var protector = Protector(s_keyA);
        var ticket = Seal(protector);

        Assert.False(protector.TryOpen(ticket.AsSpan(0, Math.Min(length, ticket.Length - 1)), new byte[48], out _));
    }

    [Fact]
    public void An_oversized_ticket_is_refused_before_any_decryption()
    {
        using var protector = Protector(s_keyA);

        Assert.False(protector.TryOpen(new byte[SessionTicketProtector.GetTicketLength(SessionTicketProtector.MaxIdentityLength) + 1], new byte[48], out _));
        Assert.Equal(1, protector.OpenAttempts);
    }

    [Fact]
    public void An_identity_too_long_is_not_sealed()
    {
        using var protector = Protector(s_keyA);
        var identity = new byte[SessionTicketProtector.MaxIdentityLength + 1];

        Assert.False(protector.TrySeal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, true, s_secret, identity, 0, new byte[2048], out _));
    }

    [Fact]
    public void A_configured_key_of_the_wrong_size_is_refused()
        => Assert.Throws<ArgumentException>(() => Protector(new byte[32]));
}
