using System.Net;
using HotDtls.Cluster;
using HotDtls.Cookies;
using HotDtls.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HotDtls.Tests.Cookies;

/// <summary>
/// Cookies of cluster nodes (<see cref="CookieVerifier"/> with a shared <see cref="ClusterKeyRing"/>): every node makes and
/// accepts the same cookies, they still expire with the generations, and a rotation of the shared secret accepts the
/// previous one only while the key set holds it.
/// </summary>
public sealed class CookieVerifierSharedTests : IDisposable
{
    private static readonly TimeSpan s_period = TimeSpan.FromMinutes(1);
    private static readonly DateTimeOffset s_start = new(2025, 1, 1, 12, 0, 30, TimeSpan.Zero);
    private static readonly byte[] s_prefix = [0xFE, 0xFD, .. TestBytes.Filled(32, 7), 0x00];
    private static readonly byte[] s_suffix = [0x00, 0x02, 0x00, 0xA8, 0x01, 0x00];
    private static readonly byte[] s_address = Bytes(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 5684));

    private readonly FakeTimeProvider _clock = new(s_start);
    private readonly List<CookieVerifier> _made = [];

    public void Dispose()
    {
        foreach (var verifier in _made)
        {
            verifier.Dispose();
        }
    }

    internal static DtlsClusterKeys Keys(params byte[] cookieSeeds)
    {
        var cookies = new List<byte[]>();
        foreach (var seed in cookieSeeds)
        {
            cookies.Add(TestBytes.Filled(32, seed));
        }
        return new DtlsClusterKeys(cookies, [TestBytes.Filled(48, 0xA0)], [TestBytes.Filled(32, 0xC0)]);
    }

    private static byte[] Bytes(IPEndPoint endPoint)
    {
        var address = endPoint.Serialize();
        return address.Buffer.Span[..address.Size].ToArray();
    }

    private CookieVerifier Node(ClusterKeyRing? ring, ulong seed = 1)
    {
        var verifier = new CookieVerifier(_clock, s_period, new DeterministicRandomSource(seed), ring);
        _made.Add(verifier);
        return verifier;
    }

    private static byte[] Cookie(CookieVerifier verifier)
    {
        var cookie = new byte[CookieVerifier.CookieLength];
        verifier.ComputeCookie(s_address, s_prefix, s_suffix, cookie);
        return cookie;
    }

    private static bool Accepts(CookieVerifier verifier, byte[] cookie) => verifier.Verify(s_address, s_prefix, s_suffix, cookie);

    [Fact]
    public void Nodes_sharing_the_cookie_secret_accept_each_others_cookies()
    {
        var a = Node(new ClusterKeyRing(Keys(1)), seed: 1);
        var b = Node(new ClusterKeyRing(Keys(1)), seed: 2);

        Assert.Equal(Cookie(a), Cookie(b));
        Assert.True(Accepts(b, Cookie(a)));
        Assert.True(Accepts(a, Cookie(b)));
    }

    [Fact]
    public void Nodes_with_different_secrets_or_none_do_not()
    {
        var a = Node(new ClusterKeyRing(Keys(1)));
        var other = Node(new ClusterKeyRing(Keys(2)));
        var alone = Node(null);

        Assert.False(Accepts(other, Cookie(a)));
        Assert.False(Accepts(alone, Cookie(a)));
        Assert.False(Accepts(a, Cookie(alone)));
    }

    [Fact]
    public void Shared_cookies_still_expire_after_two_generations()
    {
        var a = Node(new ClusterKeyRing(Keys(1)));
        var b = Node(new ClusterKeyRing(Keys(1)));
        var cookie = Cookie(a);

        _clock.Advance(s_period);
        Assert.True(Accepts(b, cookie));
        Assert.NotEqual(cookie, Cookie(b));

        _clock.Advance(s_period);
        Assert.False(Accepts(b, cookie));
        Assert.False(Accepts(a, cookie));
    }

    [Fact]
    public void A_rotation_accepts_the_previous_secret_while_the_key_set_holds_it()
    {
        var ring = new ClusterKeyRing(Keys(1));
        var node = Node(ring);
        var oldCookie = Cookie(node);

        ring.Replace(Keys(2, 1));
        var newCookie = Cookie(node);
        Assert.NotEqual(oldCookie, newCookie);
        Assert.True(Accepts(node, oldCookie));
        Assert.True(Accepts(node, newCookie));
        // A node already on the new set only (the old secret dropped) accepts new cookies only.
        Assert.True(Accepts(Node(new ClusterKeyRing(Keys(2))), newCookie));

        ring.Replace(Keys(2));
        Assert.False(Accepts(node, oldCookie));
        Assert.True(Accepts(node, newCookie));
    }

    [Fact]
    public void The_last_generation_of_the_previous_secret_is_accepted_too()
    {
        var ring = new ClusterKeyRing(Keys(1));
        var node = Node(ring);
        var cookie = Cookie(node);

        _clock.Advance(s_period);
        ring.Replace(Keys(2, 1));
        Assert.True(Accepts(node, cookie));
        _clock.Advance(s_period);
        Assert.False(Accepts(node, cookie));
    }
}
