using System.Text.RegularExpressions;
using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

public sealed partial class DtlsErrorTests
{
    public static TheoryData<byte> Failures()
    {
        var data = new TheoryData<byte>();
        foreach (var error in Enum.GetValues<DtlsError>())
        {
            if (error != DtlsError.None)
            {
                data.Add((byte)error);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public void Every_failure_maps_to_a_fatal_alert_that_is_not_close_notify(byte value)
    {
        var alert = DtlsErrors.ToAlert((DtlsError)value);

        Assert.True(Enum.IsDefined(alert), $"{(DtlsError)value} maps to undefined alert {(byte)alert}");
        Assert.NotEqual(AlertDescription.CloseNotify, alert);
        Assert.NotEqual(AlertDescription.NoRenegotiation, alert);
    }

    [Theory]
    [MemberData(nameof(Failures))]
    public void Every_failure_has_a_sentence_without_key_material(byte value)
    {
        var error = (DtlsError)value;
        var description = DtlsErrors.Describe(error);

        Assert.False(string.IsNullOrWhiteSpace(description));
        // A real sentence, not the fallback to the enum name.
        Assert.NotEqual(error.ToString(), description);
        Assert.Contains(' ', description);
        Assert.False(HexRun().IsMatch(description), $"'{description}' contains a run of hex digits");
        Assert.DoesNotContain(Convert.ToHexString(Support.ServerHarness.Key), description, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void None_is_not_a_failure()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DtlsErrors.ToAlert(DtlsError.None));
    }

    [Fact]
    public void An_undefined_error_is_refused_rather_than_mapped_silently()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DtlsErrors.ToAlert((DtlsError)200));
    }

    [Fact]
    public void The_alert_map_is_the_documented_one()
    {
        // RFC 5246 §7.2.2, RFC 7627 §5.3, RFC 4279 §2, RFC 8449 §4.
        var expected = new Dictionary<DtlsError, AlertDescription>
        {
            [DtlsError.UnexpectedMessage] = AlertDescription.UnexpectedMessage,
            [DtlsError.DecodeError] = AlertDescription.DecodeError,
            [DtlsError.IllegalParameter] = AlertDescription.IllegalParameter,
            [DtlsError.NoCommonCipherSuite] = AlertDescription.HandshakeFailure,
            [DtlsError.ProtocolVersion] = AlertDescription.ProtocolVersion,
            [DtlsError.ExtendedMasterSecretRequired] = AlertDescription.HandshakeFailure,
            [DtlsError.UnsupportedExtension] = AlertDescription.UnsupportedExtension,
            [DtlsError.FinishedMismatch] = AlertDescription.DecryptError,
            [DtlsError.BadRecordMac] = AlertDescription.DecryptError,
            [DtlsError.HandshakeMessageTooLarge] = AlertDescription.HandshakeFailure,
            [DtlsError.InternalError] = AlertDescription.InternalError,
            [DtlsError.UnknownPskIdentity] = AlertDescription.UnknownPskIdentity,
            [DtlsError.ExtendedMasterSecretMismatch] = AlertDescription.HandshakeFailure,
            // RFC 8449 §4, RFC 6066 §4.
            [DtlsError.RecordOverflow] = AlertDescription.RecordOverflow,
        };

        Assert.Equal(Enum.GetValues<DtlsError>().Length - 1, expected.Count);
        foreach (var (error, alert) in expected)
        {
            Assert.Equal(alert, DtlsErrors.ToAlert(error));
        }
    }

    [Fact]
    public void Wrong_key_and_unknown_identity_are_indistinguishable_on_the_wire()
    {
        // RFC 4279 §2: both end in decrypt_error, so identities cannot be probed; unknown_psk_identity comes only from
        // the error that DtlsServerOptions.RevealUnknownPskIdentity opts into.
        foreach (var error in Enum.GetValues<DtlsError>())
        {
            if (error is not DtlsError.None and not DtlsError.UnknownPskIdentity)
            {
                Assert.NotEqual(AlertDescription.UnknownPskIdentity, DtlsErrors.ToAlert(error));
            }
        }
        Assert.Equal(DtlsErrors.ToAlert(DtlsError.FinishedMismatch), DtlsErrors.ToAlert(DtlsError.BadRecordMac));
    }

    [Fact]
    public void Descriptions_are_distinct()
    {
        var descriptions = Enum.GetValues<DtlsError>().Where(e => e != DtlsError.None).Select(DtlsErrors.Describe).ToList();

        Assert.Equal(descriptions.Count, descriptions.Distinct().Count());
    }

    [GeneratedRegex("[0-9A-Fa-f]{8,}")]
    private static partial Regex HexRun();
}
