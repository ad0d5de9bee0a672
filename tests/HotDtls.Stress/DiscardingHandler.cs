namespace HotDtls.Stress;

/// <summary>A server handler that takes application data and does nothing with it (the in-process probes).</summary>
internal sealed class DiscardingHandler : DtlsServerHandler
{
    /// <inheritdoc/>
    public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
    {
    }
}
