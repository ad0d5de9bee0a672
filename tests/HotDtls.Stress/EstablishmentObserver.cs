using HotDtls.Client;
using HotDtls.Handshake;

namespace HotDtls.Stress;

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
