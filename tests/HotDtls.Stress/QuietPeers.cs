using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Stress;

/// <summary>A server handler that takes application data and does nothing with it (the in-process probes).</summary>
internal sealed class DiscardingHandler : DtlsServerHandler
{
    /// <inheritdoc/>
    public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ciphertext)
    {
    }
}

/// <summary>A connection observer for the in-process probes' clients: notes establishment, ignores everything else.</summary>
internal sealed class EstablishmentObserver : IConnectionObserver
{
    public bool Established { get; private set; }

    public void OnEstablished(DtlsConnection connection) => Established = true;

    public void OnPskLookup(DtlsConnection connection)
    {
    }

    public void OnPskStoreFailed(DtlsConnection connection, Exception exception)
    {
    }

    public void OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext)
    {
    }

    public void OnClosed(DtlsConnection connection, DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
    }

    public void OnDropped(DtlsConnection connection, DropReason reason)
    {
    }
}
