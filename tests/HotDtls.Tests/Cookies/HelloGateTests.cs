using System.Net;
using HotDtls.Cookies;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HotDtls.Tests.Cookies;

/// <summary>
/// The stateless hello path on its own, without an engine: (peer, record, ClientHello) → drop, pending, challenge or
/// admit (RFC 6347 §4.2.1; HOSTILE 18–24, 42).
/// </summary>
public sealed class HelloGateTests : IDisposable
{
    private static readonly SocketAddress s_peer = new IPEndPoint(IPAddress.Loopback, 40100).Serialize();
    private static readonly SocketAddress s_other = new IPEndPoint(IPAddress.Loopback, 40101).Serialize();
    private static readonly byte[] s_random = Enumerable.Range(1, 32).Select(i => (byte)i).ToArray();

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero));
    private readonly HelloGate _gate;

    public HelloGateTests()
    {
        _gate = new HelloGate(_time, TimeSpan.FromMinutes(5), maxHelloLength: 8192, new DeterministicRandomSource());
    }

    public void Dispose() => _gate.Dispose();

    /// <summary>What the gate decided, copied out of the ref struct.</summary>
    private sealed record Outcome(HelloVerdict Verdict, DropReason DropReason, byte[] Challenge, byte[] HelloBody, ushort MessageSeq, bool Reassembled);

    private Outcome Check(SocketAddress from, byte[] datagram, bool newDatagram = true)
    {
        if (newDatagram)
        {
            _gate.BeginDatagram();
        }
        var (header, body) = Assert.Single(Wire.Records(datagram));
        var decision = _gate.Check(from, header, body, datagram.Length, _time.GetTimestamp() / TimeSpan.TicksPerMillisecond);
        return new Outcome(decision.Verdict, decision.DropReason, decision.Challenge.ToArray(), decision.HelloBody.ToArray(),
            decision.MessageSeq, decision.Reassembled);
    }

    private byte[] CookieFor(SocketAddress from, byte[] random)
    {
        var outcome = Check(from, Wire.ClientHelloDatagram(random, []));
        Assert.Equal(HelloVerdict.Challenge, outcome.Verdict);
        return Wire.CookieOf(outcome.Challenge)!;
    }

    [Fact]
    public void A_cookieless_hello_is_challenged_with_a_HelloVerifyRequest_that_echoes_its_record_sequence_in_dtls_1_0()
    {
        var hello = Wire.ClientHelloDatagram(s_random, [], recordSequence: 7);

        var outcome = Check(s_peer, hello);

        Assert.Equal(HelloVerdict.Challenge, outcome.Verdict);
        Assert.True(outcome.Challenge.Length <= hello.Length, "never more bytes than the request (HOSTILE 19)");
        var (header, body) = Assert.Single(Wire.Records(outcome.Challenge));
        Assert.Equal((ContentType.Handshake, (ushort)0, 7UL), (header.Type, header.Epoch, header.SequenceNumber));
        Assert.True(HandshakeHeader.TryRead(body, out var handshake));
        Assert.Equal(HandshakeType.HelloVerifyRequest, handshake.MsgType);
        Assert.True(HelloVerifyRequest.TryParse(body.AsSpan(HandshakeHeader.Size), out var version, out var cookie));
        Assert.Equal(ProtocolVersion.Dtls10, version);
        Assert.Equal(CookieVerifier.CookieLength, cookie.Length);
    }

    [Fact]
    public void The_same_hello_with_its_cookie_is_admitted_with_its_body_and_message_seq()
    {
        var cookie = CookieFor(s_peer, s_random);
        var second = Wire.ClientHelloDatagram(s_random, cookie, messageSeq: 1, recordSequence: 1);

        var outcome = Check(s_peer, second);

        Assert.Equal(HelloVerdict.Admit, outcome.Verdict);
        Assert.Equal((ushort)1, outcome.MessageSeq);
        Assert.False(outcome.Reassembled);
        Assert.Equal(Wire.ClientHelloBody(s_random, cookie), outcome.HelloBody);
    }

    [Fact]
    public void A_cookie_is_bound_to_the_address_and_to_the_hello_it_was_made_for()
    {
        var cookie = CookieFor(s_peer, s_random);
        var otherRandom = (byte[])s_random.Clone();
        otherRandom[0] ^= 1;

        Assert.Equal(HelloVerdict.Challenge, Check(s_other, Wire.ClientHelloDatagram(s_random, cookie, 1)).Verdict);
        Assert.Equal(HelloVerdict.Challenge, Check(s_peer, Wire.ClientHelloDatagram(otherRandom, cookie, 1)).Verdict);
        Assert.Equal(HelloVerdict.Admit, Check(s_peer, Wire.ClientHelloDatagram(s_random, cookie, 1)).Verdict);
    }

    [Fact]
    public void One_datagram_gets_at_most_one_challenge()
    {
        var hello = Wire.ClientHelloDatagram(s_random, []);

        Assert.Equal(HelloVerdict.Challenge, Check(s_peer, hello).Verdict);
        var second = Check(s_peer, hello, newDatagram: false);

        Assert.Equal(HelloVerdict.Drop, second.Verdict);
        Assert.Equal(HelloVerdict.Challenge, Check(s_peer, hello).Verdict);
    }

    [Fact]
    public void A_datagram_smaller_than_the_challenge_gets_none()
    {
        // A hello record cut to a length below the HelloVerifyRequest's: even if it parsed, answering would amplify.
        var hello = Wire.ClientHelloDatagram(s_random, []);
        var (header, body) = Assert.Single(Wire.Records(hello));
        _gate.BeginDatagram();

        var decision = _gate.Check(s_peer, header, body, datagramLength: 40, nowMs: 0);

        Assert.Equal(HelloVerdict.Drop, decision.Verdict);
        Assert.Equal(DropReason.MalformedHandshake, decision.DropReason);
    }

    [Theory]
    [InlineData((ushort)0x0303)]
    [InlineData((ushort)0x0000)]
    public void A_hello_that_is_not_dtls_is_dropped_unanswered(ushort version)
    {
        var body = Wire.ClientHelloBody(s_random, [], version: version);
        var datagram = Wire.Record(ContentType.Handshake, 0, 0, Wire.Handshake(HandshakeType.ClientHello, 0, body));

        var outcome = Check(s_peer, datagram);

        Assert.Equal((HelloVerdict.Drop, DropReason.MalformedHandshake), (outcome.Verdict, outcome.DropReason));
    }

    [Fact]
    public void A_record_of_another_version_family_or_a_cut_header_is_dropped()
    {
        var body = Wire.Handshake(HandshakeType.ClientHello, 0, Wire.ClientHelloBody(s_random, []));

        Assert.Equal(HelloVerdict.Drop, Check(s_peer, Wire.Record(ContentType.Handshake, 0, 0, body, version: 0x0303)).Verdict);
        Assert.Equal(HelloVerdict.Drop, Check(s_peer, Wire.Record(ContentType.Handshake, 0, 0, body.AsSpan(0, 8))).Verdict);
    }

    [Fact]
    public void A_hello_longer_than_the_message_cap_is_dropped()
    {
        using var gate = new HelloGate(_time, TimeSpan.FromMinutes(5), maxHelloLength: 256, new DeterministicRandomSource());
        var suites = Enumerable.Range(1, 200).Select(i => (ushort)i).ToArray();
        var body = Wire.ClientHelloBody(s_random, [], suites);
        var datagram = Wire.Record(ContentType.Handshake, 0, 0, Wire.Handshake(HandshakeType.ClientHello, 0, body));
        var (header, record) = Assert.Single(Wire.Records(datagram));
        gate.BeginDatagram();

        Assert.Equal(HelloVerdict.Drop, gate.Check(s_peer, header, record, datagram.Length, 0).Verdict);
    }

    [Fact]
    public void A_fragmented_hello_with_a_valid_cookie_waits_then_is_admitted_from_the_cache_until_released()
    {
        var cookie = CookieFor(s_peer, s_random);
        var body = Wire.ClientHelloBody(s_random, cookie);
        var first = Wire.Record(ContentType.Handshake, 0, 1, Wire.HandshakeFragment(HandshakeType.ClientHello, 1, body.Length, 0, body.AsSpan(0, 60)));
        var second = Wire.Record(ContentType.Handshake, 0, 2, Wire.HandshakeFragment(HandshakeType.ClientHello, 1, body.Length, 60, body.AsSpan(60)));

        Assert.Equal(HelloVerdict.Pending, Check(s_peer, first).Verdict);
        Assert.Equal(1, _gate.PendingFragments);
        var outcome = Check(s_peer, second);

        Assert.Equal(HelloVerdict.Admit, outcome.Verdict);
        Assert.True(outcome.Reassembled);
        Assert.Equal(body, outcome.HelloBody);
        Assert.Equal(1, _gate.PendingFragments);
        _gate.Release(s_peer);
        Assert.Equal(0, _gate.PendingFragments);
    }

    [Fact]
    public void A_first_fragment_without_a_cookie_is_dropped_with_nothing_kept()
    {
        var body = Wire.ClientHelloBody(s_random, []);
        // client_version, random, session_id and the empty cookie: enough to see that there is no cookie.
        var first = Wire.Record(ContentType.Handshake, 0, 0, Wire.HandshakeFragment(HandshakeType.ClientHello, 0, body.Length, 0, body.AsSpan(0, 40)));

        var outcome = Check(s_peer, first);

        Assert.Equal((HelloVerdict.Drop, DropReason.BadCookie), (outcome.Verdict, outcome.DropReason));
        Assert.Equal(0, _gate.PendingFragments);
    }

    [Fact]
    public void A_reassembled_hello_with_a_wrong_cookie_is_never_answered()
    {
        var wrong = new byte[CookieVerifier.CookieLength];
        var body = Wire.ClientHelloBody(s_random, wrong);
        var first = Wire.Record(ContentType.Handshake, 0, 0, Wire.HandshakeFragment(HandshakeType.ClientHello, 1, body.Length, 0, body.AsSpan(0, 70)));
        var second = Wire.Record(ContentType.Handshake, 0, 1, Wire.HandshakeFragment(HandshakeType.ClientHello, 1, body.Length, 70, body.AsSpan(70)));

        Assert.Equal(HelloVerdict.Pending, Check(s_peer, first).Verdict);
        var outcome = Check(s_peer, second);

        Assert.Equal((HelloVerdict.Drop, DropReason.BadCookie), (outcome.Verdict, outcome.DropReason));
        Assert.Empty(outcome.Challenge);
        Assert.Equal(0, _gate.PendingFragments);
    }

    [Fact]
    public void Waiting_fragments_expire_on_tick()
    {
        var cookie = CookieFor(s_peer, s_random);
        var body = Wire.ClientHelloBody(s_random, cookie);
        var first = Wire.Record(ContentType.Handshake, 0, 1, Wire.HandshakeFragment(HandshakeType.ClientHello, 1, body.Length, 0, body.AsSpan(0, 60)));
        Assert.Equal(HelloVerdict.Pending, Check(s_peer, first).Verdict);

        var now = _time.GetTimestamp() / TimeSpan.TicksPerMillisecond;
        _gate.OnTick(now + HelloGate.FragmentMaxAgeMs - 1);
        Assert.Equal(1, _gate.PendingFragments);
        _gate.OnTick(now + HelloGate.FragmentMaxAgeMs + 1000);

        Assert.Equal(0, _gate.PendingFragments);
    }

    [Fact]
    public void A_cookie_from_the_previous_secret_is_admitted_and_one_two_rotations_old_is_challenged()
    {
        var cookie = CookieFor(s_peer, s_random);
        var again = Wire.ClientHelloDatagram(s_random, cookie, 1);

        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(HelloVerdict.Admit, Check(s_peer, again).Verdict);
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(HelloVerdict.Challenge, Check(s_peer, again).Verdict);
    }
}
