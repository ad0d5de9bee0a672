using System.Buffers.Binary;
using HotDtls.Crypto;
using HotDtls.Handshake;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// Every handshake message parser, both roles and both key exchanges: the input is one handshake message (12-byte
/// DTLS header and body) and msg_type picks the parser, as the state machines do after reassembly. ServerKeyExchange
/// and ClientKeyExchange go through the PSK and the ECDHE_PSK parsers (the negotiated suite decides which one a
/// connection uses); a key exchange that parses must write back to the same bytes, and an ECDH point that parses goes
/// to <see cref="EphemeralKeyPair.TryAgree"/>, the peer-facing point validation. A NewSessionTicket's ticket goes on to
/// the <c>ticket</c> target's open oracle.
/// </summary>
internal static class HandshakeTarget
{
    // ECCurveType named_curve (RFC 8422 §5.4), the only curve_type the ECDHE_PSK parser may accept.
    private const byte NamedCurve = 3;

    // Fixed private keys for the agreement checks (any 32 bytes are an X25519 scalar; this one is below P-256's n).
    private static readonly byte[] X25519Scalar = Convert.FromHexString("0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20");
    private static readonly byte[] P256Scalar = Convert.FromHexString("1F1E1D1C1B1A191817161514131211100F0E0D0C0B0A09080706050403020101");

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (!HandshakeHeader.TryRead(input, out var header))
        {
            return;
        }
        var body = input[HandshakeHeader.Size..];
        if (body.Length > header.FragmentLength)
        {
            body = body[..header.FragmentLength];
        }
        switch (header.MsgType)
        {
            case HandshakeType.ClientHello:
                ClientHelloTarget.Run(body);
                if (ClientHello.TryParse(body, out var hello) && !hello.SessionTicket.IsEmpty)
                {
                    // The ticket a resuming client presents: what a server opens once the cookie is checked.
                    TicketTarget.Run([0, .. hello.SessionTicket]);
                }
                break;
            case HandshakeType.ServerHello:
                CheckServerHello(body);
                break;
            case HandshakeType.HelloVerifyRequest:
                if (HelloVerifyRequest.TryParse(body, out _, out var cookie) && cookie.Length > ClientHello.MaxCookieLength)
                {
                    throw new FuzzOracleException("HelloVerifyRequest.TryParse accepted an oversized cookie");
                }
                break;
            case HandshakeType.ServerKeyExchange:
                CheckServerKeyExchange(body);
                break;
            case HandshakeType.ClientKeyExchange:
                CheckClientKeyExchange(body);
                break;
            case HandshakeType.Finished:
                if (Finished.TryParse(body, out var verifyData) && verifyData.Length != Finished.VerifyDataLength)
                {
                    throw new FuzzOracleException("Finished.TryParse accepted verify_data of the wrong size");
                }
                break;
            case HandshakeType.ServerHelloDone:
                _ = ServerHelloDone.IsValid(body);
                break;
            case HandshakeType.NewSessionTicket:
                CheckNewSessionTicket(body);
                break;
        }
    }

    private static void CheckServerHello(ReadOnlySpan<byte> body)
    {
        var parsed = ServerHello.TryParse(body, out var hello);
        var expectParse = HelloOracle.TryLocateServerHelloExtensions(body, out var block);
        var expected = HelloOracle.ReadExtensions(block);
        if (parsed != (expectParse && expected.Valid))
        {
            throw new FuzzOracleException(parsed
                ? "ServerHello.TryParse accepted a hello the long reading finds malformed"
                : "ServerHello.TryParse refused a hello the long reading finds well formed");
        }
        if (!parsed)
        {
            return;
        }
        if (hello.Random.Length != ClientHello.RandomLength)
        {
            throw new FuzzOracleException("ServerHello.TryParse accepted a random of the wrong size");
        }
        Slices.RequireWithin(body, hello.Random, "ServerHello random");
        Slices.RequireWithin(body, hello.SessionId, "ServerHello session_id");
        Slices.RequireWithin(block, hello.EcPointFormats, "ServerHello ec_point_formats");
        if (hello.HasEncryptThenMac != expected.EncryptThenMac || hello.HasEcPointFormats != expected.HasEcPointFormats
            || !Slices.Same(hello.EcPointFormats, expected.EcPointFormats) || hello.HasExtendedMasterSecret != expected.ExtendedMasterSecret
            || hello.HasRenegotiationInfo != expected.HasRenegotiationInfo || !Slices.Same(hello.RenegotiationInfo, expected.RenegotiationInfo)
            || hello.HasConnectionId != expected.HasConnectionId || !Slices.Same(hello.ConnectionId, expected.ConnectionId)
            || hello.HasReturnRoutabilityCheck != expected.ReturnRoutabilityCheck)
        {
            throw new FuzzOracleException("ServerHello's extension fields disagree with its block");
        }
        // RFC 5077 §3.2: the server's SessionTicket extension is empty; the client refuses one with data.
        if (hello.HasSessionTicket != expected.HasSessionTicket || hello.HasNonEmptySessionTicket != !expected.SessionTicket.IsEmpty
            || hello.HasConnectionId != expected.HasConnectionId || !Slices.Same(hello.ConnectionId, expected.ConnectionId)
            || hello.HasReturnRoutabilityCheck != expected.ReturnRoutabilityCheck)
        {
            throw new FuzzOracleException("ServerHello's session_ticket, connection_id or rrc disagrees with its block");
        }
        // A TLS 1.2 server never sends supported_groups (RFC 8422 §5.2): to the client it is an extension it did not offer.
        if (hello.HasUnknownExtension != (expected.HasUnknown || expected.HasSupportedGroups))
        {
            throw new FuzzOracleException("ServerHello.HasUnknownExtension disagrees with its block");
        }
    }

    /// <summary>
    /// NewSessionTicket (RFC 5077 §3.3): <c>uint32 ticket_lifetime_hint | opaque ticket&lt;0..2^16-1&gt;</c>, nothing after.
    /// What parses must be the ticket at byte 6, write back to the same bytes, and — a ticket is opaque to the client,
    /// but the same bytes come back to a server in a ClientHello — go through a server's ticket opening unharmed.
    /// </summary>
    private static void CheckNewSessionTicket(ReadOnlySpan<byte> body)
    {
        var expected = body.Length >= 6 && BinaryPrimitives.ReadUInt16BigEndian(body[4..]) == body.Length - 6;
        if (!NewSessionTicket.TryParse(body, out var lifetimeHint, out var ticket))
        {
            if (expected)
            {
                throw new FuzzOracleException($"a well-formed NewSessionTicket of {body.Length} bytes was refused");
            }
            return;
        }
        if (!expected)
        {
            throw new FuzzOracleException($"a NewSessionTicket of {body.Length} bytes whose ticket length does not reach its end was accepted");
        }
        Slices.RequireAt(body, ticket, 6, "NewSessionTicket ticket");
        if (ticket.Length != body.Length - 6 || lifetimeHint != BinaryPrimitives.ReadUInt32BigEndian(body))
        {
            throw new FuzzOracleException("NewSessionTicket fields do not describe the message");
        }
        var scratch = Scratch(body.Length);
        RequireRoundTrip(body, scratch, NewSessionTicket.Write(scratch, lifetimeHint, ticket), "NewSessionTicket");
        TicketTarget.Run([0, .. ticket]);
    }

    private static void CheckServerKeyExchange(ReadOnlySpan<byte> body)
    {
        var psk = ServerKeyExchangePsk.TryParse(body, out var hint);
        if (psk)
        {
            Slices.RequireAt(body, hint, 2, "PSK ServerKeyExchange identity hint");
            var scratch = Scratch(body.Length);
            RequireRoundTrip(body, scratch, ServerKeyExchangePsk.Write(scratch, hint), "PSK ServerKeyExchange");
        }

        //   uint16 h | hint (h) | curve_type (1) = 3 | namedcurve (2) | uint8 n ≥ 1 | point (n)
        var ecdhe = ServerKeyExchangeEcdhePsk.TryParse(body, out var ecdheHint, out var group, out var point);
        if (!ecdhe)
        {
            return;
        }
        if (psk)
        {
            throw new FuzzOracleException("one ServerKeyExchange parses as both PSK and ECDHE_PSK");
        }
        var curveType = 2 + ecdheHint.Length;
        Slices.RequireAt(body, ecdheHint, 2, "ECDHE_PSK ServerKeyExchange identity hint");
        Slices.RequireAt(body, point, curveType + 4, "ECDHE_PSK ServerKeyExchange point");
        if (point.Length is < 1 or > byte.MaxValue)
        {
            throw new FuzzOracleException($"an ECDHE_PSK ServerKeyExchange point of {point.Length} bytes accepted (ECPoint is <1..2^8-1>)");
        }
        if (body[curveType] != NamedCurve)
        {
            throw new FuzzOracleException($"curve_type {body[curveType]} accepted: only named_curve (3) is (RFC 8422 §5.4)");
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(body[(curveType + 1)..]) != group || body[curveType + 3] != point.Length
            || curveType + 4 + point.Length != body.Length)
        {
            throw new FuzzOracleException("ECDHE_PSK ServerKeyExchange fields do not describe the message");
        }
        var rewritten = Scratch(body.Length);
        RequireRoundTrip(body, rewritten, ServerKeyExchangeEcdhePsk.Write(rewritten, ecdheHint, (NamedGroup)group, point), "ECDHE_PSK ServerKeyExchange");
        if (group is (ushort)NamedGroup.X25519 or (ushort)NamedGroup.Secp256r1)
        {
            CheckAgreement((NamedGroup)group, point, "ServerKeyExchange");
        }
    }

    private static void CheckClientKeyExchange(ReadOnlySpan<byte> body)
    {
        var psk = ClientKeyExchangePsk.TryParse(body, out var identity);
        if (psk)
        {
            Slices.RequireAt(body, identity, 2, "PSK ClientKeyExchange identity");
            if (identity.Length > body.Length)
            {
                throw new FuzzOracleException("ClientKeyExchange identity longer than its message");
            }
            var scratch = Scratch(body.Length);
            RequireRoundTrip(body, scratch, ClientKeyExchangePsk.Write(scratch, identity), "PSK ClientKeyExchange");
        }

        //   uint16 i | identity (i) | uint8 n ≥ 1 | point (n)
        if (!ClientKeyExchangeEcdhePsk.TryParse(body, out var ecdheIdentity, out var point))
        {
            return;
        }
        if (psk)
        {
            throw new FuzzOracleException("one ClientKeyExchange parses as both PSK and ECDHE_PSK");
        }
        Slices.RequireAt(body, ecdheIdentity, 2, "ECDHE_PSK ClientKeyExchange identity");
        Slices.RequireAt(body, point, 2 + ecdheIdentity.Length + 1, "ECDHE_PSK ClientKeyExchange point");
        if (point.Length is < 1 or > byte.MaxValue || 2 + ecdheIdentity.Length + 1 + point.Length != body.Length)
        {
            throw new FuzzOracleException($"an ECDHE_PSK ClientKeyExchange point of {point.Length} bytes accepted, or the fields do not describe the message");
        }
        var rewritten = Scratch(body.Length);
        RequireRoundTrip(body, rewritten, ClientKeyExchangeEcdhePsk.Write(rewritten, ecdheIdentity, point), "ECDHE_PSK ClientKeyExchange");
        // The server agrees on the group it chose; here the point's length picks (65: P-256), other lengths alternate.
        var group = point.Length == 65 || (point.Length != 32 && (point[0] & 1) != 0) ? NamedGroup.Secp256r1 : NamedGroup.X25519;
        CheckAgreement(group, point, "ClientKeyExchange");
    }

    /// <summary>
    /// The peer's point through the agreement a connection runs: never an exception, and only a point of the group's
    /// encoding (32 bytes for X25519; 65 bytes starting 04 for P-256, RFC 8422 §5.4) may agree.
    /// </summary>
    private static void CheckAgreement(NamedGroup group, ReadOnlySpan<byte> point, string message)
    {
        using var key = EphemeralKeyPair.FromPrivateKey(group, group == NamedGroup.X25519 ? X25519Scalar : P256Scalar);
        Span<byte> secret = stackalloc byte[EphemeralKeyPair.SharedSecretLength];
        if (!key.TryAgree(point, secret, out var written))
        {
            return;
        }
        if (written != EphemeralKeyPair.SharedSecretLength || point.Length != EphemeralKeyPair.PublicKeyLength(group)
            || (group == NamedGroup.Secp256r1 && point[0] != 4))
        {
            throw new FuzzOracleException($"a {message} point of {point.Length} bytes agreed on {group}");
        }
        if (!secret.ContainsAnyExcept((byte)0))
        {
            throw new FuzzOracleException($"a {message} point agreed to the all-zero secret on {group} (RFC 8422 §5.11)");
        }
    }

    // Room to spare, so a writer that would write more than it parsed says so rather than throwing.
    private static byte[] Scratch(int length) => new byte[length + 16];

    /// <summary>Golden bytes both ways: what parsed must write back to exactly the same bytes.</summary>
    private static void RequireRoundTrip(ReadOnlySpan<byte> body, byte[] scratch, int written, string message)
    {
        if (written != body.Length || !scratch.AsSpan(0, written).SequenceEqual(body))
        {
            throw new FuzzOracleException($"{message} parsed from {body.Length} bytes writes back as {written} other bytes");
        }
    }
}
