using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Connection;

internal abstract partial class DtlsConnection
{
    private RecordResult ProcessAlert(ushort epoch, ReadOnlySpan<byte> body)
    {
        if (!Alert.TryRead(body, out var alert))
        {
            Observer.OnDropped(this, DropReason.MalformedAlert);
            return RecordResult.Continue;
        }
        // Once the association is protected, an alert in clear text is forgeable by anyone who can spoof the
        // peer's address: ignore it.
        if (epoch < Records.ReadEpoch)
        {
            Observer.OnDropped(this, DropReason.UnauthenticatedAlert);
            return RecordResult.Continue;
        }
        Observer.OnAlert(this, alert.Level, alert.Description, sent: false);
        if (alert.Description == AlertDescription.CloseNotify)
        {
            // RFC 5246 §7.2.1: answer close_notify with close_notify, then forget the association.
            SendAlert(AlertLevel.Warning, AlertDescription.CloseNotify);
            Close(DtlsCloseReason.PeerClosed, DtlsError.None, alert.Description);
            return RecordResult.Stop;
        }
        if (alert.Level == AlertLevel.Fatal)
        {
            Close(DtlsCloseReason.PeerAlert, DtlsError.None, alert.Description);
            return RecordResult.Stop;
        }
        return RecordResult.Continue;
    }

    /// <summary>Sends an alert in the current write epoch.</summary>
    protected void SendAlert(AlertLevel level, AlertDescription description)
    {
        var epoch = Records.WriteEpoch;
        var payloadOffset = Records.PayloadOffset(epoch);
        var scratch = Scratch;
        new Alert(level, description).Write(scratch.AsSpan(payloadOffset));
        var written = Records.Write(ContentType.Alert, epoch, scratch.AsSpan(payloadOffset, Alert.Size), scratch);
        if (written > 0)
        {
            Sender.Send(scratch.AsSpan(0, written), Peer);
            Observer.OnAlert(this, level, description, sent: true);
        }
    }

    /// <summary>Ends the handshake with the fatal alert <paramref name="error"/> maps to (the one error→alert map: <see cref="DtlsErrors"/>).</summary>
    protected void Fail(DtlsError error) => FailWith(error, DtlsCloseReason.HandshakeFailed);

    /// <summary>As <see cref="Fail"/>, closing for <paramref name="reason"/> (a failure after the handshake is no handshake failure).</summary>
    private void FailWith(DtlsError error, DtlsCloseReason reason)
    {
        var alert = DtlsErrors.ToAlert(error);
        SendAlert(AlertLevel.Fatal, alert);
        Close(reason, error, alert);
    }

    /// <summary>Sends close_notify (if the association is established) and closes.</summary>
    public void CloseGracefully(DtlsCloseReason reason)
    {
        if (State == HandshakeState.Closed)
        {
            return;
        }
        if (State == HandshakeState.Established)
        {
            SendAlert(AlertLevel.Warning, AlertDescription.CloseNotify);
        }
        Close(reason, DtlsError.None, null);
    }
}
