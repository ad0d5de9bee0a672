using HotDtls.Handshake;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The ClientHello body parser, the first-fragment cookie parser and the extension scanner: the one message a
/// stranger can make the server parse before proving its address (RFC 6347 §4.2.1).
/// </summary>
internal static class ClientHelloTarget
{
    public static void Run(ReadOnlySpan<byte> input)
    {
        if (ClientHello.TryParseCookiePrefix(input, out var prefix, out var random, out var cookie))
        {
            Within(input, prefix, "cookie binding prefix");
            Within(input, random, "random");
            Within(input, cookie, "cookie");
            if (random.Length != ClientHello.RandomLength || cookie.Length > ClientHello.MaxCookieLength)
            {
                throw new FuzzOracleException("TryParseCookiePrefix accepted a random or cookie of the wrong size");
            }
        }
        if (!ClientHello.TryParse(input, out var hello))
        {
            return;
        }
        Within(input, hello.Random, "random");
        Within(input, hello.SessionId, "session_id");
        Within(input, hello.Cookie, "cookie");
        Within(input, hello.CipherSuites, "cipher_suites");
        Within(input, hello.CompressionMethods, "compression_methods");
        Within(input, hello.Extensions, "extensions");
        Within(input, hello.CookieBindingPrefix, "cookie binding prefix");
        Within(input, hello.CookieBindingSuffix, "cookie binding suffix");
        if (hello.CipherSuites.Length % 2 != 0 || hello.CipherSuites.Length == 0 || hello.CompressionMethods.Length == 0)
        {
            throw new FuzzOracleException("ClientHello.TryParse accepted an empty or odd-length list (RFC 5246 §7.4.1.2)");
        }
        // A hello that parses whole must agree with the first-fragment parser the cookie check relies on.
        if (!ClientHello.TryParseCookiePrefix(input, out var prefix2, out _, out var cookie2)
            || !prefix2.SequenceEqual(hello.CookieBindingPrefix) || !cookie2.SequenceEqual(hello.Cookie))
        {
            throw new FuzzOracleException("the whole-hello and first-fragment parsers disagree on the cookie");
        }
        _ = HelloExtensions.TryScan(hello.Extensions, out _, out _, out _, out _);
        _ = hello.OffersRenegotiationScsv;
        _ = hello.OffersNullCompression;
    }

    private static void Within(ReadOnlySpan<byte> input, ReadOnlySpan<byte> part, string name)
    {
        if (!part.IsEmpty && !input.Overlaps(part))
        {
            throw new FuzzOracleException($"ClientHello {name} is not a slice of the input");
        }
    }
}
