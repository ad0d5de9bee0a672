using System.Collections.Concurrent;
using System.Text;

namespace HotDtls.Diagnostics;

/// <summary>
/// The names of the <c>HotDtls</c> meter, its instruments and their tags (docs/_fragments/metrics.md), in one place so
/// the server and client use the same words. They follow the OpenTelemetry semantic conventions (<c>server.address</c>,
/// <c>network.io.direction</c>, <c>error.type</c>, UCUM units) and Kestrel's <c>kestrel.*</c> instruments
/// (<c>kestrel.active_tls_handshakes</c> → <see cref="ActiveHandshakes"/>, <c>kestrel.tls_handshake.duration</c> →
/// <see cref="HandshakeDuration"/>), with the prefix <c>dtls.</c> throughout.
/// </summary>
internal static class MetricNames
{
    public const string MeterName = "HotDtls";

    public const string Datagrams = "dtls.network.datagrams";
    public const string Bytes = "dtls.network.io";
    public const string DeliveredDatagrams = "dtls.delivered_datagrams";
    public const string DroppedRecords = "dtls.dropped_records";
    public const string HelloVerifyRequests = "dtls.hello_verify_requests";
    public const string StartedHandshakes = "dtls.started_handshakes";
    public const string CompletedHandshakes = "dtls.completed_handshakes";
    public const string FailedHandshakes = "dtls.failed_handshakes";
    public const string EvictedHandshakes = "dtls.evicted_handshakes";
    public const string HandshakeDuration = "dtls.handshake.duration";
    public const string ActiveSessions = "dtls.active_sessions";
    public const string ActiveHandshakes = "dtls.active_handshakes";
    public const string Alerts = "dtls.alerts";
    public const string ClusterDatagrams = "dtls.cluster.datagrams";
    public const string ClusterChannelFrames = "dtls.cluster.channel_frames";

    public const string RoleTag = "dtls.role";
    public const string ServerAddressTag = "server.address";
    public const string ServerPortTag = "server.port";
    public const string DirectionTag = "network.io.direction";
    public const string DropReasonTag = "dtls.drop.reason";
    public const string CipherSuiteTag = "dtls.cipher_suite";
    public const string ResumedTag = "dtls.handshake.resumed";
    public const string ErrorTypeTag = "error.type";
    public const string AlertLevelTag = "dtls.alert.level";
    public const string AlertDescriptionTag = "dtls.alert.description";
    public const string ClusterRouteTag = "dtls.cluster.route";
    public const string ClusterFrameOutcomeTag = "dtls.cluster.frame.outcome";

    public const string Server = "server";
    public const string Client = "client";
    public const string Receive = "receive";
    public const string Transmit = "transmit";

    /// <summary>
    /// Bucket advice for <see cref="HandshakeDuration"/>: a PSK handshake over loopback takes ≈ 100 µs of CPU, one over
    /// a mobile link with a lost flight seconds (RFC 6347 §4.2.4.1 starts the retransmission timer at 1 s), and the
    /// default handshake timeout is tens of seconds. OpenTelemetry's default buckets start at 5 ms — too coarse here.
    /// </summary>
    public static readonly IReadOnlyList<double> HandshakeDurationBuckets =
        [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private static readonly ConcurrentDictionary<string, string> s_snakeCase = new(StringComparer.Ordinal);

    /// <summary>
    /// An enum member's name as a tag value: <c>AuthenticationFailed</c> → <c>authentication_failed</c>, as TLS writes
    /// alert names (RFC 5246 §7.2) and OpenTelemetry writes <c>error.type</c>. Computed once per name: metrics callers
    /// pass only the names of a few small enums, so the cache stays small.
    /// </summary>
    public static string SnakeCase(string name) => s_snakeCase.GetOrAdd(name, static text =>
    {
        var builder = new StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsUpper(c))
            {
                // A word starts at an upper-case letter after a lower-case one or a digit, or at the last capital of
                // an acronym that a lower-case letter follows ("TLSError" → tls_error).
                var boundary = i > 0 && (!char.IsUpper(text[i - 1])
                    || (i + 1 < text.Length && char.IsLower(text[i + 1])));
                if (boundary)
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    });
}
