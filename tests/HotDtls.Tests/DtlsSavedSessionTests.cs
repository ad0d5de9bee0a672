namespace HotDtls.Tests;

/// <summary>The client's saved session: export and import, refusal of malformed bytes, and disposal that zeroes the secret.</summary>
public sealed class DtlsSavedSessionTests
{
    private static DtlsSavedSession Sample() => new(
        Enumerable.Range(1, 32).Select(i => (byte)i).ToArray(), CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, extendedMasterSecret: true,
        Enumerable.Repeat((byte)0x42, 48).ToArray(), "sensor-7"u8);

    [Fact]
    public void Export_then_import_gives_the_same_session()
    {
        using var session = Sample();
        var exported = session.Export();

        using var imported = DtlsSavedSession.Import(exported);

        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, imported.CipherSuite);
        Assert.True(imported.UsesExtendedMasterSecret);
        Assert.Equal("sensor-7", imported.PskIdentity);
        Assert.Equal(exported, imported.Export());
        var secret = new byte[48];
        Assert.True(imported.TryCopyMasterSecret(secret));
        Assert.All(secret, b => Assert.Equal(0x42, b));
    }

    [Fact]
    public void The_export_format_is_the_documented_one()
    {
        using var session = Sample();
        var exported = session.Export();

        Assert.Equal(1, exported[0]);
        Assert.Equal([0xC0, 0xA8], exported[1..3]);
        Assert.Equal(1, exported[3]);
        Assert.Equal(32, exported[4]);
        Assert.Equal(Enumerable.Range(1, 32).Select(i => (byte)i), exported[5..37]);
        Assert.All(exported[37..85], b => Assert.Equal(0x42, b));
        Assert.Equal([0, 8], exported[85..87]);
        Assert.Equal("sensor-7"u8.ToArray(), exported[87..95]);
        // No ticket: an empty ticket<0..2^16-1>.
        Assert.Equal([0, 0], exported[95..]);
    }

    public static TheoryData<byte[]> Malformed()
    {
        using var session = Sample();
        var good = session.Export();
        byte[] longer = [.. good, 0];
        var data = new TheoryData<byte[]> { Array.Empty<byte>(), good[..4], good[..^1], longer };
        var version = (byte[])good.Clone();
        version[0] = 2;
        data.Add(version);
        var flags = (byte[])good.Clone();
        flags[3] = 2;
        data.Add(flags);
        var suite = (byte[])good.Clone();
        suite[1] = 0xFF;
        data.Add(suite);
        var idLength = (byte[])good.Clone();
        idLength[4] = 33;
        data.Add(idLength);
        // Neither a session_id nor a ticket: nothing to resume with.
        using var ticketless = new DtlsSavedSession([], CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, true, new byte[48], [], [9]);
        var noTicket = ticketless.Export();
        noTicket[^3] = 0;
        data.Add(noTicket[..^1]);
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_bytes_are_refused(byte[] bytes)
        => Assert.Contains("DtlsSavedSession.Export", Assert.Throws<ArgumentException>(() => DtlsSavedSession.Import(bytes)).Message);

    [Fact]
    public void A_ticket_session_round_trips_without_a_session_id()
    {
        using var session = new DtlsSavedSession([], CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, true, new byte[48], "d"u8, [1, 2, 3]);

        using var imported = DtlsSavedSession.Import(session.Export());

        Assert.True(imported.HasTicket);
        Assert.Equal([1, 2, 3], imported.Ticket.ToArray());
        Assert.True(imported.SessionId.IsEmpty);
    }

    [Fact]
    public void Dispose_zeroes_the_secret_and_the_session_can_no_longer_be_used()
    {
        var session = Sample();

        session.Dispose();

        Assert.True(session.IsDisposed);
        Assert.False(session.TryCopyMasterSecret(new byte[48]));
        Assert.Throws<ObjectDisposedException>(session.Export);
    }
}
