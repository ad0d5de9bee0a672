using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Connection;

/// <summary>The client's session resumption: the abbreviated handshake's Finished, the server's ticket, and what is kept to resume.</summary>
internal sealed partial class ClientConnection
{
    /// <summary>
    /// The server's Finished of an abbreviated handshake (its flight went first): verify it, then send our
    /// ChangeCipherSpec and Finished. That is our last flight: it is sent again only when the server repeats its
    /// flight (RFC 6347 §4.2.4), never on a timer.
    /// </summary>
    private HandshakeStep ReadResumedServerFinished(ushort messageSeq, ReadOnlySpan<byte> body)
    {
        var error = VerifyPeerFinished(body, fromClient: false);
        if (error != DtlsError.None)
        {
            return HandshakeStep.Fail(error);
        }
        if (!AppendToTranscript(HandshakeType.Finished, messageSeq, body))
        {
            return HandshakeStep.Fail(DtlsError.HandshakeMessageTooLarge);
        }
        SetPeerFlightEnd(HandshakeType.Finished, messageSeq);
        Span<byte> verifyData = stackalloc byte[Finished.VerifyDataLength];
        ComputeVerifyData(fromClient: true, verifyData);
        VerifyDataHookForTests?.Invoke(verifyData);
        Records.ActivateWrite();
        SendFinalFlight(verifyData);
        KeepForResumption();
        return HandshakeStep.Next;
    }

    /// <summary>
    /// NewSessionTicket (RFC 5077 §3.3): "This message MUST NOT be sent if the server did not include a SessionTicket
    /// extension in the ServerHello." The ticket enters the transcript and is kept for <see cref="SaveSession"/>; an
    /// empty one withdraws the offer.
    /// </summary>
    private HandshakeStep ReadNewSessionTicket(ushort messageSeq, ReadOnlySpan<byte> body)
    {
        if (!_ticketAnnounced)
        {
            return HandshakeStep.Fail(DtlsError.UnexpectedMessage);
        }
        if (!NewSessionTicket.TryParse(body, out _, out var ticket))
        {
            return HandshakeStep.Fail(DtlsError.DecodeError);
        }
        if (!AppendToTranscript(HandshakeType.NewSessionTicket, messageSeq, body))
        {
            return HandshakeStep.Fail(DtlsError.HandshakeMessageTooLarge);
        }
        _ticket = ticket.ToArray();
        return HandshakeStep.Next;
    }

    /// <summary>Keeps the master secret for <see cref="SaveSession"/> before the handshake state (and it) is wiped.</summary>
    private void KeepForResumption()
    {
        if (_sessionId.Length > 0 || _ticket.Length > 0)
        {
            MasterSecret.CopyTo(_savedMasterSecret, 0);
        }
    }
}
