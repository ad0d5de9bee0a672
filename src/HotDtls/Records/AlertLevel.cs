namespace HotDtls.Records;

/// <summary>TLS alert levels (RFC 5246 §7.2).</summary>
internal enum AlertLevel : byte
{
    /// <summary>The connection may continue.</summary>
    Warning = 1,

    /// <summary>The connection ends at once (RFC 5246 §7.2.2).</summary>
    Fatal = 2,
}
