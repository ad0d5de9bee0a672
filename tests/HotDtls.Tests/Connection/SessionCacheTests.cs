using System.Reflection;
using HotDtls.Connection;

namespace HotDtls.Tests.Connection;

/// <summary>
/// The session-ID cache alone: hits copy the entry out, the cap evicts the oldest at cap+1, entries expire after the
/// lifetime, master secrets are zeroed when their entry leaves, and many loops may use it at once.
/// </summary>
public sealed class SessionCacheTests
{
    private static readonly TimeSpan s_lifetime = TimeSpan.FromMinutes(10);

    private static byte[] Id(int n)
    {
        var id = new byte[SessionCache.SessionIdLength];
        new Random(n).NextBytes(id);
        return id;
    }

    private static byte[] Secret(byte fill) => Enumerable.Repeat(fill, 48).ToArray();

    private static void Add(SessionCache cache, int n, long nowMs, byte fill = 0x11)
        => cache.Add(Id(n), CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, extendedMasterSecret: true, Secret(fill), "device"u8.ToArray(), nowMs);

    [Fact]
    public void A_hit_copies_out_the_master_secret_and_returns_suite_flag_and_identity()
    {
        using var cache = new SessionCache(4, s_lifetime);
        cache.Add(Id(1), CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, extendedMasterSecret: true, Secret(0x42), "sensor-7"u8.ToArray(), 1000);
        var secret = new byte[48];

        Assert.True(cache.TryGet(Id(1), 2000, secret, out var session));

        Assert.Equal(Secret(0x42), secret);
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, session.Suite);
        Assert.True(session.ExtendedMasterSecret);
        Assert.Equal("sensor-7"u8.ToArray(), session.PskIdentity);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(31)]
    public void Unknown_or_wrongly_sized_ids_miss(int length)
    {
        using var cache = new SessionCache(4, s_lifetime);
        Add(cache, 1, 0);

        Assert.False(cache.TryGet(new byte[length], 0, new byte[48], out _));
        Assert.False(cache.TryGet(Id(2), 0, new byte[48], out _));
    }

    [Fact]
    public void At_cap_plus_one_the_oldest_entry_is_evicted_and_its_secret_zeroed()
    {
        using var cache = new SessionCache(3, s_lifetime);
        Add(cache, 1, 0, 0x01);
        var oldestSecret = StoredSecrets(cache)[0];
        Add(cache, 2, 1, 0x02);
        Add(cache, 3, 2, 0x03);

        Add(cache, 4, 3, 0x04);

        Assert.Equal(3, cache.Count);
        Assert.Equal(1, cache.Evicted);
        Assert.False(cache.TryGet(Id(1), 3, new byte[48], out _));
        Assert.True(cache.TryGet(Id(2), 3, new byte[48], out _));
        Assert.True(cache.TryGet(Id(4), 3, new byte[48], out _));
        Assert.All(oldestSecret, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Entries_expire_after_the_lifetime_from_their_full_handshake()
    {
        using var cache = new SessionCache(4, s_lifetime);
        Add(cache, 1, 0);
        var secret = StoredSecrets(cache)[0];
        var lifetimeMs = (long)s_lifetime.TotalMilliseconds;

        Assert.True(cache.TryGet(Id(1), lifetimeMs - 1, new byte[48], out _));
        Assert.False(cache.TryGet(Id(1), lifetimeMs, new byte[48], out _));
        Assert.Equal(0, cache.Count);
        Assert.All(secret, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Expire_removes_only_the_expired_entries()
    {
        using var cache = new SessionCache(4, s_lifetime);
        Add(cache, 1, 0);
        Add(cache, 2, 5000);

        cache.Expire((long)s_lifetime.TotalMilliseconds);

        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGet(Id(2), (long)s_lifetime.TotalMilliseconds, new byte[48], out _));
    }

    [Fact]
    public void Remove_forgets_the_entry_and_zeroes_its_secret()
    {
        using var cache = new SessionCache(4, s_lifetime);
        Add(cache, 1, 0);
        var secret = StoredSecrets(cache)[0];

        cache.Remove(Id(1));

        Assert.Equal(0, cache.Count);
        Assert.All(secret, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Adding_an_id_again_replaces_the_entry()
    {
        using var cache = new SessionCache(4, s_lifetime);
        Add(cache, 1, 0, 0x01);
        Add(cache, 1, 10, 0x02);
        var secret = new byte[48];

        Assert.True(cache.TryGet(Id(1), 10, secret, out _));
        Assert.Equal(Secret(0x02), secret);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Dispose_zeroes_every_secret_and_later_adds_are_ignored()
    {
        var cache = new SessionCache(4, s_lifetime);
        Add(cache, 1, 0);
        Add(cache, 2, 0);
        var secrets = StoredSecrets(cache);

        cache.Dispose();
        Add(cache, 3, 0);

        Assert.All(secrets, s => Assert.All(s, b => Assert.Equal(0, b)));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Many_loops_may_add_and_look_up_at_once_and_the_cap_holds()
    {
        using var cache = new SessionCache(64, s_lifetime);
        Parallel.For(0, 4, loop =>
        {
            for (var i = 0; i < 500; i++)
            {
                Add(cache, (loop * 1000) + i, i);
                cache.TryGet(Id((loop * 1000) + i), i, new byte[48], out _);
            }
        });

        Assert.Equal(64, cache.Count);
        Assert.Equal((4 * 500) - 64, cache.Evicted);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SessionCache(0, s_lifetime));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SessionCache(1, TimeSpan.Zero));
        using var cache = new SessionCache(1, s_lifetime);
        Assert.Throws<ArgumentException>(() => cache.Add(new byte[16], CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, true, new byte[48], [], 0));
        Assert.Throws<ArgumentException>(() => cache.Add(Id(1), CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, true, new byte[32], [], 0));
    }

    [Fact]
    public void Past_its_first_ring_and_with_holes_the_cache_still_evicts_oldest_first()
    {
        using var cache = new SessionCache(300, s_lifetime);
        for (var n = 1; n <= 300; n++)
        {
            Add(cache, n, n, (byte)n);
        }
        cache.Remove(Id(5));
        Assert.Equal(299, cache.Count);

        Add(cache, 301, 301);
        Add(cache, 302, 302);
        Add(cache, 303, 303);

        Assert.Equal(300, cache.Count);
        Assert.Equal(2, cache.Evicted);
        Assert.False(cache.TryGet(Id(1), 303, new byte[48], out _));
        Assert.False(cache.TryGet(Id(2), 303, new byte[48], out _));
        Assert.False(cache.TryGet(Id(5), 303, new byte[48], out _));
        var secret = new byte[48];
        Assert.True(cache.TryGet(Id(3), 303, secret, out _));
        Assert.Equal(Secret(3), secret);
        Assert.True(cache.TryGet(Id(300), 303, secret, out _));
        Assert.Equal(Secret(300 % 256), secret);
        Assert.True(cache.TryGet(Id(303), 303, new byte[48], out _));
    }

    /// <summary>
    /// The master secrets the cache holds, oldest first, as views of its one secret array (white box: to watch them
    /// being zeroed).
    /// </summary>
    private static List<ArraySegment<byte>> StoredSecrets(SessionCache cache)
    {
        var secrets = (byte[])typeof(SessionCache).GetField("_secrets", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cache)!;
        var head = (int)typeof(SessionCache).GetField("_head", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cache)!;
        var used = (int)typeof(SessionCache).GetField("_used", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(cache)!;
        var slots = secrets.Length / 48;
        var views = new List<ArraySegment<byte>>();
        for (var i = 0; i < used; i++)
        {
            views.Add(new ArraySegment<byte>(secrets, ((head + i) % slots) * 48, 48));
        }
        return views;
    }
}
