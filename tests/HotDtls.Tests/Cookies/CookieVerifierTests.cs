using System.Net;
using System.Net.Sockets;
using HotDtls.Cookies;
using Microsoft.Extensions.Time.Testing;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Cookies;

public sealed class CookieVerifierTests : IDisposable
{
    private static readonly TimeSpan s_period = TimeSpan.FromMinutes(1);

    // Half way through a rotation period, so advancing by one period crosses exactly one boundary.
    private static readonly DateTimeOffset s_start = new(2025, 1, 1, 12, 0, 30, TimeSpan.Zero);

    // ClientHello client_version(FE FD) random(32) session_id<0>.
    private static readonly byte[] s_prefix = BuildPrefix();

    // cipher_suites<2>{00 A8} compression_methods<1>{00}.
    private static readonly byte[] s_suffix = [0x00, 0x02, 0x00, 0xA8, 0x01, 0x00];

    private readonly FakeTimeProvider _clock = new(s_start);
    private readonly DeterministicRandomSource _random = new();
    private readonly CookieVerifier _verifier;
    private readonly byte[] _address = AddressBytes(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 5684));

    public CookieVerifierTests()
    {
        _verifier = new CookieVerifier(_clock, s_period, _random);
    }

    public void Dispose() => _verifier.Dispose();

    private static byte[] BuildPrefix()
    {
        var prefix = new byte[2 + 32 + 1];
        prefix[0] = 0xFE;
        prefix[1] = 0xFD;
        for (int i = 0; i < 32; i++)
        {
            prefix[2 + i] = (byte)(i * 7);
        }

        return prefix;
    }

    private static byte[] AddressBytes(IPEndPoint endPoint)
    {
        SocketAddress address = endPoint.Serialize();
        return address.Buffer.Span[..address.Size].ToArray();
    }

    private byte[] Cookie(byte[] address, byte[] prefix, byte[] suffix)
    {
        var cookie = new byte[CookieVerifier.CookieLength];
        _verifier.ComputeCookie(address, prefix, suffix, cookie);
        return cookie;
    }

    private byte[] Cookie() => Cookie(_address, s_prefix, s_suffix);

    private bool Verify(byte[] cookie) => _verifier.Verify(_address, s_prefix, s_suffix, cookie);

    [Fact]
    public void Same_inputs_give_the_same_cookie()
    {
        byte[] first = Cookie();
        byte[] second = Cookie();

        Assert.Equal(first, second);
        Assert.Equal(32, CookieVerifier.CookieLength);
        Assert.Contains(first, b => b != 0);
    }

    [Fact]
    public void Own_cookie_verifies()
    {
        Assert.True(Verify(Cookie()));
    }

    [Fact]
    public void Cookie_is_written_to_the_first_32_bytes_of_a_larger_destination()
    {
        var destination = new byte[40];
        _verifier.ComputeCookie(_address, s_prefix, s_suffix, destination);

        Assert.Equal(Cookie(), destination.AsSpan(0, CookieVerifier.CookieLength).ToArray());
        Assert.Equal(new byte[8], destination.AsSpan(CookieVerifier.CookieLength).ToArray());
    }

    [Fact]
    public void Other_port_is_rejected()
    {
        byte[] cookie = Cookie();
        byte[] otherPort = AddressBytes(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 5685));

        Assert.False(_verifier.Verify(otherPort, s_prefix, s_suffix, cookie));
    }

    [Fact]
    public void Other_ip_is_rejected()
    {
        byte[] cookie = Cookie();
        byte[] otherIp = AddressBytes(new IPEndPoint(IPAddress.Parse("192.0.2.11"), 5684));

        Assert.False(_verifier.Verify(otherIp, s_prefix, s_suffix, cookie));
    }

    [Fact]
    public void Other_family_for_the_same_ipv4_address_is_rejected()
    {
        byte[] cookie = Cookie();
        byte[] mapped = AddressBytes(new IPEndPoint(IPAddress.Parse("192.0.2.10").MapToIPv6(), 5684));

        Assert.NotEqual(_address.Length, mapped.Length);
        Assert.False(_verifier.Verify(mapped, s_prefix, s_suffix, cookie));
    }

    [Fact]
    public void Real_ipv4_and_ipv6_socket_addresses_work_and_differ()
    {
        byte[] v4 = AddressBytes(new IPEndPoint(IPAddress.Loopback, 4433));
        byte[] v6 = AddressBytes(new IPEndPoint(IPAddress.IPv6Loopback, 4433));
        byte[] v6Scoped = AddressBytes(new IPEndPoint(IPAddress.Parse("fe80::1%2"), 4433));
        byte[] v6OtherScope = AddressBytes(new IPEndPoint(IPAddress.Parse("fe80::1%3"), 4433));

        Assert.Equal(AddressFamily.InterNetwork, new IPEndPoint(IPAddress.Loopback, 0).Serialize().Family);
        byte[] cookieV4 = Cookie(v4, s_prefix, s_suffix);
        byte[] cookieV6 = Cookie(v6, s_prefix, s_suffix);
        byte[] cookieScoped = Cookie(v6Scoped, s_prefix, s_suffix);

        Assert.True(_verifier.Verify(v4, s_prefix, s_suffix, cookieV4));
        Assert.True(_verifier.Verify(v6, s_prefix, s_suffix, cookieV6));
        Assert.True(_verifier.Verify(v6Scoped, s_prefix, s_suffix, cookieScoped));
        Assert.False(_verifier.Verify(v6, s_prefix, s_suffix, cookieV4));
        Assert.False(_verifier.Verify(v4, s_prefix, s_suffix, cookieV6));
        Assert.False(_verifier.Verify(v6OtherScope, s_prefix, s_suffix, cookieScoped));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(34)]
    public void Changed_prefix_byte_is_rejected(int index)
    {
        byte[] cookie = Cookie();
        byte[] prefix = [.. s_prefix];
        prefix[index] ^= 0x01;

        Assert.False(_verifier.Verify(_address, prefix, s_suffix, cookie));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(5)]
    public void Changed_suffix_byte_is_rejected(int index)
    {
        byte[] cookie = Cookie();
        byte[] suffix = [.. s_suffix];
        suffix[index] ^= 0x80;

        Assert.False(_verifier.Verify(_address, s_prefix, suffix, cookie));
    }

    [Fact]
    public void Extra_byte_appended_to_suffix_is_rejected()
    {
        byte[] cookie = Cookie();
        Assert.False(_verifier.Verify(_address, s_prefix, [.. s_suffix, 0x00], cookie));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(33)]
    [InlineData(255)]
    public void Wrong_length_cookie_is_rejected(int length)
    {
        byte[] cookie = Cookie();
        var candidate = new byte[length];
        cookie.AsSpan(0, Math.Min(length, cookie.Length)).CopyTo(candidate);

        Assert.False(Verify(candidate));
    }

    [Fact]
    public void Truncated_cookie_is_rejected()
    {
        Assert.False(Verify(Cookie()[..^1]));
    }

    [Fact]
    public void Empty_cookie_is_rejected()
    {
        Assert.False(Verify([]));
    }

    [Fact]
    public void Every_single_bit_flip_is_rejected()
    {
        byte[] cookie = Cookie();
        for (int bit = 0; bit < cookie.Length * 8; bit++)
        {
            byte[] flipped = [.. cookie];
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(Verify(flipped), $"bit {bit}");
        }
    }

    [Fact]
    public void Cookie_from_the_previous_secret_is_accepted_and_from_two_back_is_not()
    {
        byte[] cookie = Cookie();

        _clock.Advance(s_period);
        Assert.True(Verify(cookie));
        Assert.NotEqual(cookie, Cookie());

        _clock.Advance(s_period);
        Assert.False(Verify(cookie));
    }

    [Fact]
    public void Cookie_stays_valid_within_its_own_period()
    {
        byte[] cookie = Cookie();
        _clock.Advance(TimeSpan.FromSeconds(29));

        Assert.Equal(cookie, Cookie());
        Assert.True(Verify(cookie));
        Assert.Equal(2, _random.FillCount);
    }

    [Fact]
    public void Crossing_a_boundary_rotates_even_when_less_than_a_period_passed()
    {
        byte[] cookie = Cookie();
        _clock.Advance(TimeSpan.FromSeconds(30)); // 12:00:30 → 12:01:00, the next generation

        Assert.NotEqual(cookie, Cookie());
        Assert.True(Verify(cookie));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(1000)]
    public void Clock_jump_of_several_periods_invalidates_both_secrets(int periods)
    {
        byte[] beforeJump = Cookie();
        _clock.Advance(s_period); // beforeJump is now from the previous secret
        byte[] previous = Cookie();
        Assert.True(Verify(beforeJump));
        int drawsBefore = _random.FillCount;

        _clock.Advance(s_period * periods);

        Assert.False(Verify(beforeJump));
        Assert.False(Verify(previous));
        Assert.Equal(drawsBefore + 2, _random.FillCount);
        byte[] fresh = Cookie();
        Assert.True(Verify(fresh));
    }

    [Fact]
    public void One_rotation_draws_one_fresh_secret()
    {
        Cookie();
        Assert.Equal(2, _random.FillCount);

        _clock.Advance(s_period);
        Cookie();

        Assert.Equal(3, _random.FillCount);
    }

    [Fact]
    public void No_cookie_from_before_the_verifier_existed_is_valid()
    {
        // The initial "previous" secret is fresh, not zero: a cookie MACed under an all-zero key fails.
        byte[] input = [0, 0, 0, (byte)_address.Length, .. _address, 0, 0, 0, (byte)s_prefix.Length, .. s_prefix, 0, 0, 0, (byte)s_suffix.Length, .. s_suffix];
        byte[] zeroKeyCookie = System.Security.Cryptography.HMACSHA256.HashData(new byte[32], input);

        Assert.False(Verify(zeroKeyCookie));
    }

    [Fact]
    public void Each_cookie_is_the_HMAC_of_its_own_input_under_the_current_secret_alone()
    {
        // The verifier keeps one keyed HMAC per secret and resets it after each MAC: nothing of one input may
        // carry into the next. The same seed gives the same first draw, which is the current secret.
        var key = new byte[32];
        new DeterministicRandomSource().Fill(key);
        byte[] otherPrefix = [.. s_prefix[..^1], 0x55];

        for (var round = 0; round < 3; round++)
        {
            foreach (var prefix in new[] { s_prefix, otherPrefix })
            {
                byte[] input = [0, 0, 0, (byte)_address.Length, .. _address, 0, 0, 0, (byte)prefix.Length, .. prefix, 0, 0, 0, (byte)s_suffix.Length, .. s_suffix];
                byte[] expected = System.Security.Cryptography.HMACSHA256.HashData(key, input)[..CookieVerifier.CookieLength];
                Assert.Equal(expected, Cookie(_address, prefix, s_suffix));
                Assert.True(_verifier.Verify(_address, prefix, s_suffix, expected));
            }
        }
    }

    [Theory]
    [InlineData(1000)]
    [InlineData(1100)]
    [InlineData(70000)]
    public void A_long_hello_fed_in_pieces_has_the_same_cookie_as_its_encoded_input(int suffixLength)
    {
        // Above the stack threshold the pieces go to the HMAC one by one instead of through a pooled copy; the MAC
        // must be the same as over the whole encoding, including the 4-byte length prefixes.
        var key = new byte[32];
        new DeterministicRandomSource().Fill(key);
        var suffix = new byte[suffixLength];
        new DeterministicRandomSource(9).Fill(suffix);
        var encoded = new List<byte>();
        foreach (var part in new[] { _address, s_prefix, suffix })
        {
            encoded.Add((byte)(part.Length >> 24));
            encoded.Add((byte)(part.Length >> 16));
            encoded.Add((byte)(part.Length >> 8));
            encoded.Add((byte)part.Length);
            encoded.AddRange(part);
        }
        byte[] expected = System.Security.Cryptography.HMACSHA256.HashData(key, encoded.ToArray())[..CookieVerifier.CookieLength];

        Assert.Equal(expected, Cookie(_address, s_prefix, suffix));
        Assert.True(_verifier.Verify(_address, s_prefix, suffix, expected));
    }

    [Fact]
    public void A_long_hello_allocates_nothing_even_on_the_first_call()
    {
        // A stranger controls the hello's length; a pooled copy would allocate whenever the pool's bucket is empty.
        var suffix = new byte[16000];
        var cookie = new byte[CookieVerifier.CookieLength];
        _verifier.ComputeCookie(_address, s_prefix, [1], cookie); // secrets drawn and the HMACs created

        long before = GC.GetAllocatedBytesForCurrentThread();
        _verifier.ComputeCookie(_address, s_prefix, suffix, cookie);
        _verifier.Verify(_address, s_prefix, suffix, cookie);

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Clock_going_backwards_keeps_the_newest_secrets()
    {
        var clock = new ManualTimeProvider(s_start);
        using var verifier = new CookieVerifier(clock, s_period, new DeterministicRandomSource());
        var cookie = new byte[CookieVerifier.CookieLength];
        clock.Now = s_start + (s_period * 5);
        verifier.ComputeCookie(_address, s_prefix, s_suffix, cookie);

        clock.Now = s_start;

        Assert.True(verifier.Verify(_address, s_prefix, s_suffix, cookie));
        clock.Now = s_start + (s_period * 6);
        Assert.True(verifier.Verify(_address, s_prefix, s_suffix, cookie));
        clock.Now = s_start + (s_period * 7);
        Assert.False(verifier.Verify(_address, s_prefix, s_suffix, cookie));
    }

    [Fact]
    public void Moving_a_byte_between_parts_changes_the_cookie()
    {
        byte[] prefix = [1, 2, 3];
        byte[] suffix = [4, 5];

        byte[] baseline = Cookie(_address, prefix, suffix);
        byte[] byteToSuffix = Cookie(_address, [1, 2], [3, 4, 5]);
        byte[] byteToPrefix = Cookie(_address, [1, 2, 3, 4], [5]);
        byte[] addressByteToPrefix = Cookie(_address[..^1], [_address[^1], 1, 2, 3], suffix);

        Assert.NotEqual(baseline, byteToSuffix);
        Assert.NotEqual(baseline, byteToPrefix);
        Assert.NotEqual(baseline, addressByteToPrefix);
        Assert.False(_verifier.Verify(_address, [1, 2], [3, 4, 5], baseline));
    }

    [Fact]
    public void Empty_parts_are_distinct()
    {
        byte[] emptySuffix = Cookie(_address, [1], []);
        byte[] emptyPrefix = Cookie(_address, [], [1]);

        Assert.NotEqual(emptySuffix, emptyPrefix);
        Assert.True(_verifier.Verify(_address, [], [1], emptyPrefix));
    }

    [Theory]
    [InlineData(900)]
    [InlineData(1100)]
    [InlineData(65535)]
    public void Large_suffix_above_the_stack_threshold_works(int suffixLength)
    {
        var suffix = new byte[suffixLength];
        new DeterministicRandomSource(7).Fill(suffix);

        byte[] cookie = Cookie(_address, s_prefix, suffix);
        Assert.True(_verifier.Verify(_address, s_prefix, suffix, cookie));

        suffix[^1] ^= 1;
        Assert.False(_verifier.Verify(_address, s_prefix, suffix, cookie));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(4096)]
    public void Verify_and_compute_do_not_allocate(int suffixLength)
    {
        var suffix = new byte[suffixLength];
        byte[] cookie = Cookie(_address, s_prefix, suffix);
        var scratch = new byte[CookieVerifier.CookieLength];
        Assert.True(_verifier.Verify(_address, s_prefix, suffix, cookie)); // warm up the pool and crypto

        long allocated = Allocations.Least(_ =>
        {
            for (int i = 0; i < 50; i++)
            {
                _verifier.Verify(_address, s_prefix, suffix, cookie);
                _verifier.ComputeCookie(_address, s_prefix, suffix, scratch);
            }
        });

        Assert.Equal(0, allocated);
    }

    [Fact]
    public void Concurrent_callers_crossing_a_boundary_rotate_once()
    {
        Cookie();
        _clock.Advance(s_period);
        const int threads = 8;
        var cookies = new byte[threads][];
        using var barrier = new Barrier(threads);

        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            int index = t;
            workers[t] = new Thread(() =>
            {
                barrier.SignalAndWait();
                cookies[index] = Cookie();
            });
            workers[t].Start();
        }

        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        Assert.Equal(3, _random.FillCount);
        foreach (byte[] cookie in cookies)
        {
            Assert.Equal(cookies[0], cookie);
            Assert.True(Verify(cookie));
        }
    }

    [Fact]
    public void Non_positive_rotation_period_is_misuse()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new CookieVerifier(_clock, TimeSpan.Zero, _random));
        Assert.Throws<ArgumentOutOfRangeException>(() => new CookieVerifier(_clock, TimeSpan.FromSeconds(-1), _random));
    }

    [Fact]
    public void Null_dependencies_are_misuse()
    {
        Assert.Throws<ArgumentNullException>(() => new CookieVerifier(null!, s_period, _random));
        Assert.Throws<ArgumentNullException>(() => new CookieVerifier(_clock, s_period, null!));
    }

    [Fact]
    public void Short_cookie_destination_is_misuse()
    {
        Assert.Throws<ArgumentException>(
            () => _verifier.ComputeCookie(_address, s_prefix, s_suffix, new byte[CookieVerifier.CookieLength - 1]));
    }

    [Fact]
    public void Use_after_dispose_is_misuse_and_dispose_is_idempotent()
    {
        var verifier = new CookieVerifier(_clock, s_period, _random);
        var cookie = new byte[CookieVerifier.CookieLength];
        verifier.ComputeCookie(_address, s_prefix, s_suffix, cookie);

        verifier.Dispose();
        verifier.Dispose();

        Assert.Throws<ObjectDisposedException>(() => verifier.Verify(_address, s_prefix, s_suffix, cookie));
        Assert.Throws<ObjectDisposedException>(() => verifier.ComputeCookie(_address, s_prefix, s_suffix, cookie));
    }

    /// <summary>A clock that may go backwards, which FakeTimeProvider refuses to do.</summary>
    private sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
