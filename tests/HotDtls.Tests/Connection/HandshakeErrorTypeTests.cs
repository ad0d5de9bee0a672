using HotDtls.Connection;
using HotDtls.Handshake;

namespace HotDtls.Tests.Connection;

public sealed class HandshakeErrorTypeTests
{
    [Theory]
    [InlineData(DtlsCloseReason.HandshakeFailed, DtlsError.BadRecordMac, "bad_record_mac")]
    [InlineData(DtlsCloseReason.HandshakeFailed, DtlsError.NoCommonCipherSuite, "no_common_cipher_suite")]
    [InlineData(DtlsCloseReason.HandshakeFailed, DtlsError.None, "handshake_failed")]
    [InlineData(DtlsCloseReason.HandshakeTimeout, DtlsError.None, "handshake_timeout")]
    [InlineData(DtlsCloseReason.Evicted, DtlsError.None, "evicted")]
    [InlineData(DtlsCloseReason.PeerAlert, DtlsError.None, "peer_alert")]
    [InlineData(DtlsCloseReason.LocalClose, DtlsError.None, "local_close")]
    internal void A_failure_names_its_error_and_any_other_end_its_close_reason(DtlsCloseReason reason, DtlsError error, string expected)
        => Assert.Equal(expected, HandshakeErrorType.Of(reason, error));
}
