using HotDtls.Diagnostics;
using HotDtls.Handshake;

namespace HotDtls.Connection;

/// <summary>The <c>error.type</c> of a handshake that ended without a session (docs/_fragments/metrics.md).</summary>
internal static class HandshakeErrorType
{
    /// <summary>
    /// A failure names its error (<c>bad_record_mac</c>, <c>finished_mismatch</c>, …); any other end of an unfinished
    /// handshake names why it was closed (<c>handshake_timeout</c>, <c>evicted</c>, <c>peer_alert</c>, <c>replaced</c>,
    /// <c>local_close</c>). Both are fixed names: nothing a peer chooses reaches the tag.
    /// </summary>
    public static string Of(DtlsCloseReason reason, DtlsError error)
        => MetricNames.SnakeCase(reason == DtlsCloseReason.HandshakeFailed && error != DtlsError.None
            ? error.ToString()
            : reason.ToString());
}
