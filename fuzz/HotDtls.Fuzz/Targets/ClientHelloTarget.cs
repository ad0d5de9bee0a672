using System.Buffers.Binary;
using HotDtls.Handshake;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The ClientHello body parser, the first-fragment cookie parser and the extension scanner: the one message a
/// stranger can make the server parse before proving its address (RFC 6347 §4.2.1). Every parsed field must be a
/// slice of the input, and the parser and scanner must agree, both ways, with <see cref="HelloOracle"/>'s independent
/// reading — including what the ECDHE_PSK and CBC suites need: supported_groups, ec_point_formats, encrypt_then_mac.
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

        // The scanner alone, over the raw input as if it were an extension block: refusals are checked too.
        var rawScanned = HelloExtensions.TryScan(input, out HelloExtensionSummary rawSummary);
        HelloOracle.CheckScan(input, rawScanned, rawSummary, "raw extension block");

        var parsed = ClientHello.TryParse(input, out var hello);
        var expectParse = HelloOracle.TryLocateClientHelloExtensions(input, out var expectedBlock)
            && HelloOracle.ReadExtensions(expectedBlock).Valid;
        if (parsed != expectParse)
        {
            throw new FuzzOracleException(parsed
                ? "ClientHello.TryParse accepted a hello the long reading finds malformed"
                : "ClientHello.TryParse refused a hello the long reading finds well formed");
        }
        if (!parsed)
        {
            return;
        }
        if (!Slices.Same(hello.Extensions, expectedBlock))
        {
            throw new FuzzOracleException("ClientHello.Extensions is not the block that ends the hello");
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
        CheckExtensions(input, hello);
    }

    /// <summary>The hello's extension fields against a re-scan of its block and against the long reading.</summary>
    private static void CheckExtensions(ReadOnlySpan<byte> input, ClientHello hello)
    {
        var extensions = hello.Extensions;
        // Re-scan: the same block must scan the same way, into the fields the hello reports.
        var scanned = HelloExtensions.TryScan(extensions, out HelloExtensionSummary summary);
        HelloOracle.CheckScan(extensions, scanned, summary, "ClientHello");
        if (!scanned)
        {
            throw new FuzzOracleException("a ClientHello parsed whole but its extension block does not scan");
        }
        if (hello.OffersEncryptThenMac != summary.EncryptThenMac || hello.OffersExtendedMasterSecret != summary.ExtendedMasterSecret
            || hello.HasRenegotiationInfo != summary.HasRenegotiationInfo || hello.HasSupportedGroups != summary.HasSupportedGroups
            || hello.HasEcPointFormats != summary.HasEcPointFormats
            || !Slices.Same(hello.SupportedGroups, summary.SupportedGroups) || !Slices.Same(hello.EcPointFormats, summary.EcPointFormats)
            || !Slices.Same(hello.RenegotiationInfo, summary.RenegotiationInfo)
            || hello.OffersConnectionId != summary.HasConnectionId || !Slices.Same(hello.ConnectionId, summary.ConnectionId)
            || hello.OffersReturnRoutabilityCheck != summary.ReturnRoutabilityCheck)
        {
            throw new FuzzOracleException("ClientHello's extension fields differ from a scan of its own block");
        }
        // supported_groups: whole uint16 code points (RFC 8422 §5.1.1), inside the block.
        if (hello.HasSupportedGroups)
        {
            if (hello.SupportedGroups.Length < 2 || (hello.SupportedGroups.Length & 1) != 0)
            {
                throw new FuzzOracleException($"supported_groups of {hello.SupportedGroups.Length} bytes accepted");
            }
            Slices.RequireWithin(extensions, hello.SupportedGroups, "supported_groups");
        }
        else if (!hello.SupportedGroups.IsEmpty)
        {
            throw new FuzzOracleException("a named_group_list without supported_groups");
        }
        // ec_point_formats: a non-empty list (RFC 8422 §5.1.2), inside the block.
        if (hello.HasEcPointFormats)
        {
            if (hello.EcPointFormats.IsEmpty)
            {
                throw new FuzzOracleException("an empty ec_point_formats list accepted");
            }
            Slices.RequireWithin(extensions, hello.EcPointFormats, "ec_point_formats");
        }
        var expected = HelloOracle.ReadExtensions(extensions);
        if (hello.OffersEncryptThenMac != expected.EncryptThenMac)
        {
            // encrypt_then_mac is offered exactly when the type is present; with data the hello must not parse at all.
            throw new FuzzOracleException("OffersEncryptThenMac disagrees with the block");
        }
        if (hello.AcceptsUncompressedPoints != (!expected.HasEcPointFormats || expected.EcPointFormats.Contains(HelloExtensions.UncompressedPointFormat)))
        {
            throw new FuzzOracleException("AcceptsUncompressedPoints disagrees with ec_point_formats");
        }

        // OffersGroup against a walk of the list: the two groups HotDtls speaks, the list's own ends, some non-groups,
        // and a value taken from the input so the fuzzer can steer it.
        Span<ushort> probes = stackalloc ushort[8];
        probes[0] = (ushort)NamedGroup.X25519;
        probes[1] = (ushort)NamedGroup.Secp256r1;
        probes[2] = 0;
        probes[3] = ushort.MaxValue;
        probes[4] = input.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(input[^2..]) : (ushort)0x001D;
        var groups = expected.SupportedGroups;
        probes[5] = groups.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(groups) : (ushort)0x0017;
        probes[6] = groups.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(groups[^2..]) : (ushort)0x0018;
        // A value straddling two code points: found only by a walk that loses its alignment.
        probes[7] = groups.Length >= 3 ? BinaryPrimitives.ReadUInt16BigEndian(groups[1..]) : (ushort)0x1D00;
        foreach (var group in probes)
        {
            var offered = !expected.HasSupportedGroups || HelloOracle.ListsGroup(groups, group);
            if (hello.OffersGroup(group) != offered)
            {
                throw new FuzzOracleException($"OffersGroup(0x{group:X4}) is {!offered}, the list says {offered}");
            }
        }
    }

    private static void Within(ReadOnlySpan<byte> input, ReadOnlySpan<byte> part, string name)
        => Slices.RequireWithin(input, part, $"ClientHello {name}");
}
