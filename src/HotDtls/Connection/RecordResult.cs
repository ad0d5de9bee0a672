namespace HotDtls.Connection;

/// <summary>What the caller of <see cref="DtlsConnection.ProcessRecord(in HotDtls.Records.RecordHeader, Span{byte}, long)"/> does next.</summary>
internal enum RecordResult : byte
{
    /// <summary>Go on with the datagram's next record.</summary>
    Continue,

    /// <summary>The connection waits for the PSK store: keep the rest of the datagram for later.</summary>
    Defer,

    /// <summary>The connection is closed: drop the rest of the datagram.</summary>
    Stop,
}
