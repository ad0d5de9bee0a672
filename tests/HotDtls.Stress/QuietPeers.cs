using HotDtls.Client;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Stress;

/// <summary>A server handler that takes application data and does nothing with it (the in-process probes).</summary>
internal sealed class DiscardingHandler : DtlsServerHandler
{
    /// <inheritdoc/>
    public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
    {
    }
}

/// <summary>Client events for the in-process probes' clients: notes establishment, ignores everything else.</summary>
internal sealed class EstablishmentObserver : IClientEvents
{
    public bool Established { get; private set; }

    public void OnEstablished() => Established = true;

    public void OnApplicationData(ReadOnlySpan<byte> plaintext)
    {
    }

    public void OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
    }

    public void OnDropped(DropReason reason)
    {
    }
}
