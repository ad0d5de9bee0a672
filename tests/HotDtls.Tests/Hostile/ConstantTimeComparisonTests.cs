using System.Net;
using HotDtls.Cookies;
using HotDtls.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace HotDtls.Tests.Hostile;

/// <summary>
/// HOSTILE 41: cookies and verify_data are compared in constant time. How the comparison is made is enforced when the
/// library builds: src/HotDtls/BannedSymbols.txt bans every variable-time comparison (SequenceEqual, SequenceCompareTo,
/// span ==) through Microsoft.CodeAnalysis.BannedApiAnalyzers, so secrets can only be compared with
/// CryptographicOperations.FixedTimeEquals; the one exception (the public client random) says why where it is made.
/// What the comparison decides is tested here: the whole value counts, under each secret. Timing itself is measured,
/// never asserted in a unit test: <c>HotDtls.Stress timing</c> (run by CI) compares the medians.
/// </summary>
public sealed class ConstantTimeComparisonTests : IDisposable
{
    private static readonly byte[] s_address = new IPEndPoint(IPAddress.Loopback, 40000).Serialize().Buffer.ToArray();
    private static readonly byte[] s_prefix = [0xFE, 0xFD, 1, 2, 3];
    private static readonly byte[] s_suffix = [0, 2, 0xC0, 0xA8, 1, 0];

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 4, 0, 0, 0, TimeSpan.Zero));
    private readonly CookieVerifier _verifier;

    public ConstantTimeComparisonTests()
    {
        _verifier = new CookieVerifier(_clock, TimeSpan.FromMinutes(5), new DeterministicRandomSource());
    }

    public void Dispose() => _verifier.Dispose();

    private byte[] Cookie()
    {
        var cookie = new byte[CookieVerifier.CookieLength];
        _verifier.ComputeCookie(s_address, s_prefix, s_suffix, cookie);
        return cookie;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(CookieVerifier.CookieLength / 2)]
    [InlineData(CookieVerifier.CookieLength - 1)]
    public void A_cookie_wrong_in_any_one_byte_is_rejected_under_the_current_and_the_previous_secret(int index)
    {
        var cookie = Cookie();
        var wrong = (byte[])cookie.Clone();
        wrong[index] ^= 0x80;

        Assert.True(_verifier.Verify(s_address, s_prefix, s_suffix, cookie));
        Assert.False(_verifier.Verify(s_address, s_prefix, s_suffix, wrong));
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True(_verifier.Verify(s_address, s_prefix, s_suffix, cookie));
        Assert.False(_verifier.Verify(s_address, s_prefix, s_suffix, wrong));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void A_Finished_wrong_in_its_first_or_last_byte_fails_the_handshake_with_decrypt_error(int index)
    {
        using var server = new ServerHarness();
        using var client = new TestClient(server, new IPEndPoint(IPAddress.Loopback, 40050));
        client.Connection.VerifyDataHookForTests = v => v[index] ^= 1;
        var flight5 = FlightSteps.ToFlight5(server, client);

        FlightSteps.Deliver(server, client, flight5);

        client.Deliver(Assert.Single(server.Sender.TakeFor(client.Address)));
        Assert.Equal(AlertDescription.DecryptError, client.ClosedAlert);
        Assert.Equal(1, server.Statistics.HandshakesFailed);
    }
}
