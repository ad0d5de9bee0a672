using System.Security.Cryptography;
using HotDtls.Handshake;

namespace HotDtls.Connection;

/// <remarks>
/// Flights and timers. RFC 6347 §4.2.4's state machine, as this file implements it:
/// <code>
///                      +-----------+
///                      | PREPARING |  &lt;-- AddToFlight: the flight is encoded once
///                +---&gt; |           |
///                |     +-----------+
///                |           |
///                |           | SendFlight; arm the timer (RetransmitTimer.Arm)
///                |           v               unless it is our last flight (SendFinalFlight)
///                |     +-----------+
///                |     |  SENDING  |
///                |     +-----------+
///    Receive     |           |
///    next flight |           v        Timer expires (OnTimer): resend from the encoded bytes,
///   (the role's  |     +-----------+  double the period (BackOff), up to MaxRetransmitTimeout
///    action)     +---- |  WAITING  | ---------------------------+
///                      |           | &lt;--------------------------+
///                      +-----------+  Read retransmitted peer flight (OnOldMessage): resend
///                            |
///                            | Read the peer's last flight /    HandshakeDeadline passed:
///                            | send our last flight             the handshake ends (HandshakeTimeout)
///                            v
///                      +-----------+
///                      | FINISHED  |  only the 12-byte verify_data is kept: a genuine repeat of the peer's
///                      +-----------+  last flight gets our last flight again; nothing else does
/// </code>
/// </remarks>
internal abstract partial class DtlsConnection
{
    private int _peerFlightLastSeq = -1;
    private HandshakeType _peerFlightLastType;
    // The last flight (ChangeCipherSpec, Finished) is rebuilt from these for as long as the session lives, should
    // the peer repeat its own last flight (RFC 6347 §4.2.4).
    private VerifyDataBytes _finalVerifyData;
    private ushort _finalFinishedSeq;
    private bool _hasFinalFlight;
    // Server with tickets: the NewSessionTicket that opens its last flight (RFC 5077 §3.3), kept to send it again.
    private byte[]? _finalTicket;
    private ushort _finalTicketSeq;

    /// <summary>When the handshake is abandoned; long.MaxValue once it is over.</summary>
    public long HandshakeDeadlineMs => _handshake?.DeadlineMs ?? long.MaxValue;

    public bool HasRetransmitTimer => _handshake is { Retransmit.IsArmed: true };

    /// <summary>When <see cref="OnTimer"/> next has work: the earlier of the retransmission and the deadline.</summary>
    public long NextTimerMs => State is HandshakeState.Closed or HandshakeState.Established || _handshake is not { } handshake
        ? long.MaxValue
        : Math.Min(handshake.Retransmit.DueMs, handshake.DeadlineMs);

    /// <summary>
    /// Drives the timers: the handshake deadline and the RFC 6347 §4.2.4 retransmission timer, which doubles on
    /// each expiry up to <see cref="DtlsOptions.MaxRetransmitTimeout"/>.
    /// </summary>
    public void OnTimer(long nowMs)
    {
        if (State is HandshakeState.Closed or HandshakeState.Established || _handshake is not { } handshake)
        {
            return;
        }
        if (nowMs >= handshake.DeadlineMs)
        {
            Close(DtlsCloseReason.HandshakeTimeout, DtlsError.None, null);
            return;
        }
        if (nowMs >= handshake.Retransmit.DueMs)
        {
            // RFC 6347 §4.1.1.1: from the second unanswered retransmission on, each goes out in smaller datagrams.
            if (++handshake.UnansweredRetransmissions >= 2)
            {
                TryStepDownPathMtu(handshake, PathMtuReduction.Unanswered);
            }
            // Reported before it goes out, so that whatever answers it is reported after.
            Observer.OnFlightRetransmitted(this, handshake.UnansweredRetransmissions);
            ResendFlight();
            handshake.Retransmit.BackOff(nowMs, (long)Options.MaxRetransmitTimeout.TotalMilliseconds);
        }
    }

    /// <summary>
    /// A message older than the next expected one arrived. If it ends the peer's previous flight, the peer lost
    /// ours: send it again (RFC 6347 §4.2.4). Any other old message is dropped without a state change (HOSTILE 17),
    /// and so is a Finished that differs from the one already verified: it is no retransmission.
    /// </summary>
    private void OnOldMessage(in HandshakeHeader header, ReadOnlySpan<byte> fragment)
    {
        if (header.MessageSeq == _peerFlightLastSeq && header.MsgType == _peerFlightLastType)
        {
            if (_hasFinalFlight)
            {
                if (header.MsgType == HandshakeType.Finished && !RepeatsPeerFinished(header, fragment))
                {
                    Observer.OnDropped(this, DropReason.AlteredFinished);
                    return;
                }
                SendFinalFlight();
                return;
            }
            if (_handshake is { Flight.Count: > 0 })
            {
                ResendFlight();
                return;
            }
        }
        Observer.OnDropped(this, DropReason.OldMessage);
    }

    /// <summary>
    /// Whether a Finished after the handshake is the peer's verified Finished sent again: its first fragment, with the
    /// same verify_data. RFC 6347 §4.2.4 resends the last flight for a retransmission of the peer's last flight, and a
    /// different Finished is not one, however well it is protected.
    /// </summary>
    private bool RepeatsPeerFinished(in HandshakeHeader header, ReadOnlySpan<byte> fragment)
    {
        ReadOnlySpan<byte> verified = _peerVerifyData;
        return header.Length == verified.Length && header.FragmentOffset == 0 && !fragment.IsEmpty
            && CryptographicOperations.FixedTimeEquals(fragment, verified[..fragment.Length]);
    }

    /// <summary>Records the last message of the peer's flight we just handled, to recognise its retransmission.</summary>
    protected void SetPeerFlightEnd(HandshakeType type, ushort messageSeq)
    {
        _peerFlightLastType = type;
        _peerFlightLastSeq = messageSeq;
    }

    /// <summary>Adds a message we send to the flight and the transcript, and numbers it.</summary>
    protected bool AddToFlight(HandshakeType type, ushort epoch, ReadOnlySpan<byte> body)
    {
        var sequence = NextSendSeq++;
        Flight.AddHandshake(type, sequence, epoch, body);
        return AppendToTranscript(type, sequence, body);
    }

    /// <summary>Sends the current flight and, unless it is our last flight, arms the retransmission timer.</summary>
    protected void SendFlight(long nowMs, bool retransmitOnTimer)
    {
        var handshake = Handshake;
        handshake.UnansweredRetransmissions = 0;
        if (!SendFlightDatagrams(handshake))
        {
            return;
        }
        if (retransmitOnTimer)
        {
            handshake.Retransmit.Arm(nowMs, (long)Options.InitialRetransmitTimeout.TotalMilliseconds);
        }
        else
        {
            handshake.Retransmit.Stop();
        }
    }

    private void ResendFlight() => _ = SendFlightDatagrams(Handshake);

    /// <summary>The datagram size handshake flights go out in: <see cref="DtlsOptions.Mtu"/>, or the rung of <see cref="PathMtuLadder"/> reached.</summary>
    internal int PathMtu => _handshake is { PathMtu: > 0 } handshake ? handshake.PathMtu : Options.Mtu;

    /// <summary>
    /// Packs and sends the flight at the current path MTU; a send the socket refused as too large (EMSGSIZE,
    /// <see cref="Transport.IDatagramSendFeedback"/>) steps the MTU down at once and sends the flight again, down to the
    /// ladder's last rung. False (and closed) when the record layer ran out of sequence numbers.
    /// </summary>
    private bool SendFlightDatagrams(HandshakeContext handshake)
    {
        var feedback = Services.Sender as Transport.IDatagramSendFeedback;
        // A refusal left over from another connection's send on a shared socket is not ours.
        _ = feedback?.TakeMessageTooLarge();
        while (true)
        {
            if (!handshake.Flight.Send(Records, PathMtu, Scratch, Sender, Peer))
            {
                Close(DtlsCloseReason.SequenceExhausted, DtlsError.InternalError, null);
                return false;
            }
            if (feedback is null || !feedback.TakeMessageTooLarge() || !TryStepDownPathMtu(handshake, PathMtuReduction.MessageTooLarge))
            {
                return true;
            }
        }
    }

    /// <summary>Moves the handshake's path MTU one rung down <see cref="PathMtuLadder"/> and reports it; false at the bottom.</summary>
    private bool TryStepDownPathMtu(HandshakeContext handshake, PathMtuReduction reason)
    {
        var current = PathMtu;
        var next = PathMtuLadder.Next(current);
        if (next >= current)
        {
            return false;
        }
        handshake.PathMtu = next;
        Observer.OnPathMtuReduced(this, current, next, reason);
        return true;
    }

    /// <summary>
    /// Sends our last flight, ChangeCipherSpec and Finished(<paramref name="verifyData"/>), and keeps only the
    /// verify_data to send it again: it is never retransmitted on a timer, only when the peer repeats its flight
    /// (RFC 6347 §4.2.4). Call after <see cref="Records.RecordLayer.ActivateWrite"/>.
    /// </summary>
    protected void SendFinalFlight(ReadOnlySpan<byte> verifyData) => SendFinalFlight(verifyData, null, 0);

    /// <summary>
    /// As <see cref="SendFinalFlight(ReadOnlySpan{byte})"/>, the flight opened by a NewSessionTicket
    /// (<paramref name="ticket"/>, numbered <paramref name="ticketSeq"/>, already in the transcript), which is kept
    /// with the verify_data to send the flight again.
    /// </summary>
    protected void SendFinalFlight(ReadOnlySpan<byte> verifyData, byte[]? ticket, ushort ticketSeq)
    {
        _finalTicket = ticket;
        _finalTicketSeq = ticketSeq;
        verifyData.CopyTo(_finalVerifyData);
        _finalFinishedSeq = NextSendSeq++;
        _hasFinalFlight = true;
        StopRetransmitTimer();
        SendFinalFlight();
    }

    private void SendFinalFlight()
    {
        if (_finalTicket is { } ticket && !SendTicket(ticket))
        {
            Close(DtlsCloseReason.SequenceExhausted, DtlsError.InternalError, null);
            return;
        }
        if (!OutgoingFlight.SendFinished(Records, Scratch, Sender, Peer, _finalFinishedSeq, _finalVerifyData))
        {
            Close(DtlsCloseReason.SequenceExhausted, DtlsError.InternalError, null);
        }
    }

    /// <summary>Whether the NewSessionTicket of our last flight is still kept to send that flight again.</summary>
    internal bool HoldsFinalTicket => _finalTicket is not null;

    /// <summary>
    /// The peer's authenticated application data shows that our last flight arrived (a client sends none before our
    /// Finished): the ticket kept to resend that flight can go, and an idle session holds only its verify_data.
    /// </summary>
    private void ForgetFinalTicket()
    {
        if (_finalTicket is not null)
        {
            _finalTicket = null;
        }
    }

    /// <summary>
    /// The session has been quiet for a whole housekeeping period (<see cref="DtlsServerOptions.ReleaseIdleCiphersAfter"/>)
    /// since its handshake: a client still repeating its flight 5 by then has given up (its retransmissions come at 1, 2
    /// and 4 s), so the ticket kept to resend our last flight goes too — an idle session that never sends data (a
    /// sleeping device) must not hold it for its lifetime. A flight 5 repeated later gets no answer; the client times out
    /// and starts again.
    /// </summary>
    internal void ForgetFinalTicketWhenQuiet() => ForgetFinalTicket();

    /// <summary>
    /// The NewSessionTicket of the last flight, in epoch 0, in datagrams of its own just before ChangeCipherSpec and
    /// Finished: one record, or fragments (RFC 6347 §4.2.3) when the peer's record size limit is smaller than the ticket.
    /// </summary>
    private bool SendTicket(byte[] ticket)
    {
        var scratch = Scratch;
        var maxFragment = Records.MaxPayload(0) - HandshakeHeader.Size;
        // Each fragment's payload is staged at the end of the scratch buffer, its record built at the front.
        var staging = scratch.AsSpan(scratch.Length - HandshakeHeader.Size - Math.Min(ticket.Length, maxFragment));
        var datagramLimit = Math.Min(PathMtu, scratch.Length - staging.Length);
        var used = 0;
        var offset = 0;
        do
        {
            var length = Math.Min(ticket.Length - offset, maxFragment);
            var payload = staging[..(HandshakeHeader.Size + length)];
            new HandshakeHeader(HandshakeType.NewSessionTicket, ticket.Length, _finalTicketSeq, offset, length).Write(payload);
            ticket.AsSpan(offset, length).CopyTo(payload[HandshakeHeader.Size..]);
            if (used > 0 && used + Records.RecordSize(0, payload.Length) > datagramLimit)
            {
                Sender.Send(scratch.AsSpan(0, used), Peer);
                used = 0;
            }
            var written = Records.Write(HotDtls.Records.ContentType.Handshake, 0, payload, scratch.AsSpan(used, scratch.Length - staging.Length - used));
            if (written < 0)
            {
                return false;
            }
            used += written;
            offset += length;
        }
        while (offset < ticket.Length);
        Sender.Send(scratch.AsSpan(0, used), Peer);
        return true;
    }

    /// <summary>Stops retransmitting: the peer's answer to our flight arrived.</summary>
    protected void StopRetransmitTimer() => _handshake?.Retransmit.Stop();
}
