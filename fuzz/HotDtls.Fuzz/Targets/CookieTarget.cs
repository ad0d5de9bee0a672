using HotDtls.Cookies;
using HotDtls.Handshake;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The stateless cookie (RFC 6347 §4.2.1): for any address and ClientHello, the cookie the server computes
/// verifies, survives one secret rotation and not two, and any change to the cookie, the address or the hello
/// fields it binds makes it fail. The input is [address length][address][ClientHello body].
/// </summary>
internal static class CookieTarget
{
    private static readonly TimeSpan Rotation = TimeSpan.FromMinutes(5);

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return;
        }
        var addressLength = Math.Min(input[0] % 29, input.Length - 1);
        var address = input.Slice(1, addressLength);
        var rest = input[(1 + addressLength)..];
        ReadOnlySpan<byte> prefix;
        ReadOnlySpan<byte> suffix;
        ReadOnlySpan<byte> offered;
        if (ClientHello.TryParse(rest, out var hello))
        {
            prefix = hello.CookieBindingPrefix;
            suffix = hello.CookieBindingSuffix;
            offered = hello.Cookie;
        }
        else
        {
            // Not a hello: cut the bytes into prefix, suffix and a cookie so the MAC input encoding is still fuzzed.
            var third = rest.Length / 3;
            prefix = rest[..third];
            suffix = rest.Slice(third, third);
            offered = rest[(2 * third)..];
        }

        var time = new ManualTimeProvider();
        using var verifier = new CookieVerifier(time, Rotation, new DeterministicRandom(7));
        Span<byte> cookie = stackalloc byte[CookieVerifier.CookieLength];
        verifier.ComputeCookie(address, prefix, suffix, cookie);
        if (!verifier.Verify(address, prefix, suffix, cookie))
        {
            throw new FuzzOracleException("a cookie the server computed does not verify");
        }
        if (verifier.Verify(address, prefix, suffix, offered) && !offered.SequenceEqual(cookie))
        {
            throw new FuzzOracleException("a cookie other than the computed one verifies");
        }

        Span<byte> altered = stackalloc byte[CookieVerifier.CookieLength];
        cookie.CopyTo(altered);
        altered[input[^1] % altered.Length] ^= (byte)(1 << (input[^1] % 8));
        if (verifier.Verify(address, prefix, suffix, altered))
        {
            throw new FuzzOracleException("a cookie with one bit flipped verifies");
        }
        if (verifier.Verify(address, prefix, suffix, cookie[..^1]))
        {
            throw new FuzzOracleException("a truncated cookie verifies");
        }
        Span<byte> otherAddress = stackalloc byte[address.Length + 1];
        address.CopyTo(otherAddress);
        otherAddress[^1] = 1;
        if (verifier.Verify(otherAddress, prefix, suffix, cookie))
        {
            throw new FuzzOracleException("a cookie verifies for another address");
        }

        time.Advance(Rotation);
        if (!verifier.Verify(address, prefix, suffix, cookie))
        {
            throw new FuzzOracleException("a cookie stopped verifying after one secret rotation");
        }
        time.Advance(Rotation);
        if (verifier.Verify(address, prefix, suffix, cookie))
        {
            throw new FuzzOracleException("a cookie still verifies two secret rotations later");
        }
    }
}
