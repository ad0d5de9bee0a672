using HotDtls.Cluster;
using System.Net;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Cookies;

/// <summary>What <see cref="HelloGate.Check"/> decided about a ClientHello record from a peer with no state.</summary>
internal enum HelloVerdict : byte
{
    /// <summary>Nothing to do and nothing kept: malformed, a bad cookie that cannot be answered, or over a cap.</summary>
    Drop,

    /// <summary>A fragment that waits in the shared fragment cache for the rest of its hello; not a drop.</summary>
    Pending,

    /// <summary>Answer with the HelloVerifyRequest in <see cref="HelloDecision.Challenge"/>.</summary>
    Challenge,

    /// <summary>The cookie is valid: the peer is reachable; start a handshake from <see cref="HelloDecision.HelloBody"/>.</summary>
    Admit,
}

/// <summary>The details of a <see cref="HelloVerdict"/>; its spans are valid until the gate is called again.</summary>
internal readonly ref struct HelloDecision
{
    public HelloDecision(HelloVerdict verdict, DropReason dropReason, ReadOnlySpan<byte> challenge,
        ReadOnlySpan<byte> helloBody, ushort messageSeq, bool reassembled)
    {
        Verdict = verdict;
        DropReason = dropReason;
        Challenge = challenge;
        HelloBody = helloBody;
        MessageSeq = messageSeq;
        Reassembled = reassembled;
    }

    public HelloVerdict Verdict { get; }

    /// <summary>Why, for <see cref="HelloVerdict.Drop"/>.</summary>
    public DropReason DropReason { get; }

    /// <summary>The whole HelloVerifyRequest datagram, for <see cref="HelloVerdict.Challenge"/>.</summary>
    public ReadOnlySpan<byte> Challenge { get; }

    /// <summary>The ClientHello body (after its handshake header), for <see cref="HelloVerdict.Admit"/>.</summary>
    public ReadOnlySpan<byte> HelloBody { get; }

    /// <summary>The admitted hello's message_seq.</summary>
    public ushort MessageSeq { get; }

    /// <summary>
    /// The admitted hello was reassembled from fragments: its body lives in the fragment cache until
    /// <see cref="HelloGate.Release"/>.
    /// </summary>
    public bool Reassembled { get; }

    public static HelloDecision Dropped(DropReason reason) => new(HelloVerdict.Drop, reason, default, default, 0, false);
}

/// <summary>
/// The whole stateless hello path of a server (RFC 6347 §4.2.1): (peer, record, ClientHello) → drop, challenge
/// (HelloVerifyRequest bytes) or admit (the hello). It owns the cookie verifier, the bounded cache of fragmented
/// hellos and the HelloVerifyRequest writer; nothing it does keeps state for a peer, except a fragment in that shared
/// cache until its hello is whole.
/// </summary>
/// <remarks>
/// The cookie binds the peer's address and port to every field the client must repeat in its second ClientHello
/// (RFC 6347 §4.2.1: "the client MUST use the same parameter values (version, random, session_id, cipher_suites,
/// compression_method) as it did in the original ClientHello. The server SHOULD use those values to generate its
/// cookie and verify that they are correct upon cookie receipt."). A fragmented hello is therefore judged once it is
/// whole, unless its first fragment already shows that it carries no usable cookie.
/// <para>
/// Amplification (HOSTILE 19, 42): the HelloVerifyRequest is never larger than the datagram that asked for it, at
/// most one is sent per datagram however many hellos it packs, and reassembled fragments are never answered — a
/// cookieless hello must fit one datagram.
/// </para>
/// Not thread-safe: the engine calls it under its lock.
/// </remarks>
internal sealed class HelloGate : IDisposable
{
    /// <summary>Partial hellos untouched for this long are dropped (a client that gave up).</summary>
    public const int FragmentMaxAgeMs = 10_000;

    private const int FragmentScanIntervalMs = 1000;

    // Record and handshake headers around server_version(2) + cookie<0..255>.
    private const int ChallengeBodyLength = 2 + 1 + CookieVerifier.CookieLength;
    private const int ChallengeLength = RecordHeader.Size + HandshakeHeader.Size + ChallengeBodyLength;

    private readonly CookieVerifier _cookies;
    private readonly HelloFragmentCache _fragments = new();
    private readonly int _maxHelloLength;
    private readonly byte[] _challenge = new byte[ChallengeLength];
    private bool _challengedThisDatagram;
    private long _lastFragmentScanMs;

    /// <param name="timeProvider">The clock the cookie secret rotates by.</param>
    /// <param name="cookieSecretRotation">How often the secret changes (the previous one is still accepted).</param>
    /// <param name="maxHelloLength">Largest ClientHello body accepted (<see cref="DtlsOptions.MaxHandshakeMessageLength"/>).</param>
    /// <param name="random">Where cookie secrets come from.</param>
    /// <param name="sharedSecrets">A cluster's shared cookie secrets (every node accepts every node's cookies), or null.</param>
    public HelloGate(TimeProvider timeProvider, TimeSpan cookieSecretRotation, int maxHelloLength, IRandomSource random,
        ClusterKeyRing? sharedSecrets = null)
    {
        _cookies = new CookieVerifier(timeProvider, cookieSecretRotation, random, sharedSecrets);
        _maxHelloLength = maxHelloLength;
        _lastFragmentScanMs = timeProvider.GetMonotonicMilliseconds();
    }

    /// <summary>Partial ClientHellos waiting for their other fragments (bounded for all peers together).</summary>
    public int PendingFragments => _fragments.Count;

    /// <summary>A new datagram begins: it may be answered with one HelloVerifyRequest.</summary>
    public void BeginDatagram() => _challengedThisDatagram = false;

    /// <summary>
    /// Judges one epoch-0 handshake record whose first message is a ClientHello, from a peer with no handshake of its
    /// own for it. <paramref name="datagramLength"/> bounds the answer's size.
    /// </summary>
    public HelloDecision Check(SocketAddress from, in RecordHeader header, ReadOnlySpan<byte> body, int datagramLength, long nowMs)
    {
        // An epoch-0 record is plaintext: more than 2^14 bytes is no legal record (RFC 5246 §6.2.1, HOSTILE 4).
        if (header.Version is not (ProtocolVersion.Dtls12 or ProtocolVersion.Dtls10)
            || body.Length > DatagramReader.MaxPlaintextLength
            || !HandshakeHeader.TryRead(body, out var handshake)
            || body.Length < HandshakeHeader.Size + handshake.FragmentLength)
        {
            return HelloDecision.Dropped(DropReason.MalformedHandshake);
        }
        var fragment = body.Slice(HandshakeHeader.Size, handshake.FragmentLength);
        if (handshake.IsComplete)
        {
            return Judge(from, header, handshake.MessageSeq, fragment, reassembled: false, datagramLength);
        }

        // A first fragment that shows no cookie, or one that cannot be ours, ends here with nothing kept
        // (HOSTILE 18): a cookieless hello must fit one datagram. A cookie of the right length can only be checked
        // once the whole hello is here, since it also binds cipher_suites and compression_methods.
        if (handshake.FragmentOffset == 0
            && ClientHello.TryParseCookiePrefix(fragment, out _, out _, out var fragmentCookie)
            && fragmentCookie.Length != CookieVerifier.CookieLength)
        {
            _fragments.Release(from);
            return HelloDecision.Dropped(DropReason.BadCookie);
        }
        switch (_fragments.Add(from, handshake, fragment, nowMs, out var helloBody))
        {
            case FragmentStatus.Complete:
                var decision = Judge(from, header, handshake.MessageSeq, helloBody, reassembled: true, datagramLength);
                if (decision.Verdict != HelloVerdict.Admit)
                {
                    _fragments.Release(from);
                }
                return decision;
            case FragmentStatus.Rejected:
                return HelloDecision.Dropped(DropReason.FragmentRejected);
            default:
                return new HelloDecision(HelloVerdict.Pending, default, default, default, 0, false);
        }
    }

    /// <summary>Frees the fragments an admitted, reassembled hello was built from, once the handshake has used it.</summary>
    public void Release(SocketAddress from) => _fragments.Release(from);

    /// <summary>Drops partial hellos that waited too long; cheap to call on every tick.</summary>
    public void OnTick(long nowMs)
    {
        if (nowMs - _lastFragmentScanMs >= FragmentScanIntervalMs)
        {
            _lastFragmentScanMs = nowMs;
            _fragments.Expire(nowMs, FragmentMaxAgeMs);
        }
    }

    private HelloDecision Judge(SocketAddress from, in RecordHeader header, ushort messageSeq, ReadOnlySpan<byte> helloBody,
        bool reassembled, int datagramLength)
    {
        // Every DTLS version is {254, x} (RFC 6347 §4.1); a client_version outside it is no DTLS ClientHello and
        // gets no HelloVerifyRequest (HOSTILE 20). DTLS versions after the cookie are judged by ServerConnection.
        // The message cap holds for a ClientHello in one piece too: it is copied into the transcript.
        if (helloBody.Length > _maxHelloLength
            || !ClientHello.TryParse(helloBody, out var hello) || hello.ClientVersion >> 8 != 0xFE)
        {
            return HelloDecision.Dropped(DropReason.MalformedHandshake);
        }
        var address = from.Buffer.Span[..from.Size];
        if (_cookies.Verify(address, hello.CookieBindingPrefix, hello.CookieBindingSuffix, hello.Cookie))
        {
            // A valid cookie: the peer is reachable at this address. Only now may state be kept.
            return new HelloDecision(HelloVerdict.Admit, default, default, helloBody, messageSeq, reassembled);
        }
        // Never answer reassembled fragments, never with more bytes than the request carried, never more than once
        // per datagram: the cookie exchange must not amplify a spoofed flood (RFC 6347 §4.2.1, HOSTILE 19).
        if (reassembled)
        {
            return HelloDecision.Dropped(DropReason.BadCookie);
        }
        if (ChallengeLength > datagramLength || _challengedThisDatagram)
        {
            return HelloDecision.Dropped(DropReason.MalformedHandshake);
        }
        WriteChallenge(address, header, hello);
        _challengedThisDatagram = true;
        return new HelloDecision(HelloVerdict.Challenge, default, _challenge, default, 0, false);
    }

    private void WriteChallenge(ReadOnlySpan<byte> address, in RecordHeader header, in ClientHello hello)
    {
        Span<byte> cookie = stackalloc byte[CookieVerifier.CookieLength];
        _cookies.ComputeCookie(address, hello.CookieBindingPrefix, hello.CookieBindingSuffix, cookie);
        var datagram = _challenge.AsSpan();
        // RFC 6347 §4.2.1: the HelloVerifyRequest reuses the ClientHello's record sequence number, and its
        // server_version is DTLS 1.0 whatever version is negotiated later.
        new RecordHeader(ContentType.Handshake, header.Version, 0, header.SequenceNumber, HandshakeHeader.Size + ChallengeBodyLength)
            .Write(datagram);
        new HandshakeHeader(HandshakeType.HelloVerifyRequest, ChallengeBodyLength, 0, 0, ChallengeBodyLength)
            .Write(datagram[RecordHeader.Size..]);
        HelloVerifyRequest.Write(datagram[(RecordHeader.Size + HandshakeHeader.Size)..], ProtocolVersion.Dtls10, cookie);
    }

    public void Dispose()
    {
        _cookies.Dispose();
        _fragments.Dispose();
    }
}
