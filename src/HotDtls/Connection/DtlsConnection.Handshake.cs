using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Connection;

internal abstract partial class DtlsConnection
{
    // The peer's next message_seq, kept when the handshake state goes: older messages may be a retransmitted flight.
    private ushort _nextPeerSequence;

    /// <summary>
    /// Runs a role's action for the row <see cref="HandshakeTable"/> gives (<paramref name="action"/>). Returns what
    /// the handshake does next; only <see cref="Drive"/> turns that into a state.
    /// </summary>
    protected abstract HandshakeStep Perform(HandshakeAction action, ushort messageSeq, ReadOnlySpan<byte> body, long nowMs);

    /// <summary>
    /// The driver: looks up (state, input, epoch), runs the row's action, and moves to the row's next (or waiting)
    /// state. Every state change of a handshake happens here. <paramref name="consumed"/>, when given, is the
    /// reassembler the message came from: it moves past the message once the action has used the body.
    /// </summary>
    private RecordResult Drive(HandshakeInput input, ushort epoch, ushort messageSeq, ReadOnlySpan<byte> body, long nowMs,
        HandshakeReassembler? consumed)
    {
        switch (HandshakeTable.Find(State, input, epoch, out var row))
        {
            case TableVerdict.WrongEpoch:
                // A message in the wrong epoch is a forged or misplaced record: dropped, never fatal (HOSTILE 30, 31,
                // 35, 36). Its reassembly slot is freed without moving on: the genuine message may still come.
                consumed?.DiscardNext();
                Observer.OnDropped(this, input == HandshakeInput.ChangeCipherSpec ? DropReason.UnexpectedChangeCipherSpec : DropReason.WrongEpoch);
                return RecordResult.Continue;
            case TableVerdict.NotAllowed when input == HandshakeInput.ChangeCipherSpec:
                // A retransmitted, duplicated or premature ChangeCipherSpec never bumps the epoch twice (HOSTILE 32);
                // a premature one is dropped rather than fatal because reordering makes it normal on UDP.
                Observer.OnDropped(this, DropReason.UnexpectedChangeCipherSpec);
                return RecordResult.Continue;
            case TableVerdict.NotAllowed:
                Fail(DtlsError.UnexpectedMessage);
                return RecordResult.Stop;
        }

        var step = row.Action == HandshakeAction.ActivateReadEpoch
            ? ActivateReadEpoch()
            : Perform(row.Action, messageSeq, body, nowMs);
        if (consumed is not null && _handshake?.Reassembler == consumed)
        {
            consumed.Advance();
        }
        if (State == HandshakeState.Closed)
        {
            // The action ended the association itself (its flight could not be sent).
            return RecordResult.Stop;
        }
        switch (step.Kind)
        {
            case StepKind.Next:
                Enter(row.Next);
                return State == HandshakeState.Closed ? RecordResult.Stop : RecordResult.Continue;
            case StepKind.Wait when row.Wait != HandshakeState.Closed:
                Enter(row.Wait);
                return RecordResult.Defer;
            case StepKind.Abbreviate when row.Abbreviated != HandshakeState.Closed:
                Enter(row.Abbreviated);
                return State == HandshakeState.Closed ? RecordResult.Stop : RecordResult.Continue;
            case StepKind.Drop:
                Observer.OnDropped(this, step.DropReason);
                return RecordResult.Continue;
            case StepKind.Fail:
                Fail(step.Error);
                return RecordResult.Stop;
            default:
                // A Wait or Abbreviate from a row that names no such state: the action and the table disagree.
                Fail(DtlsError.InternalError);
                return RecordResult.Stop;
        }
    }

    /// <summary>Assigns a state the table named; entering <see cref="HandshakeState.Established"/> ends the handshake.</summary>
    private void Enter(HandshakeState state)
    {
        State = state;
        if (state == HandshakeState.Established)
        {
            var started = _handshake?.StartedTimestamp ?? 0;
            ReleaseHandshakeState();
            Observer.OnHandshakeEnded(this, started, null, DtlsError.None);
            Observer.OnEstablished(this);
        }
    }

    /// <summary>Feeds a local event (no record) to the driver: <see cref="HandshakeInput.Start"/>, <see cref="HandshakeInput.PskResolved"/>.</summary>
    protected RecordResult DriveLocal(HandshakeInput input, long nowMs)
        => State == HandshakeState.Closed ? RecordResult.Stop : Drive(input, HandshakeTable.NoRecord, 0, default, nowMs, null);

    /// <summary>Feeds a whole message that did not come through the reassembler (the ClientHello the cookie check admitted).</summary>
    protected RecordResult DriveMessage(HandshakeInput input, ushort epoch, ushort messageSeq, ReadOnlySpan<byte> body, long nowMs)
        => State == HandshakeState.Closed ? RecordResult.Stop : Drive(input, epoch, messageSeq, body, nowMs, null);

    private RecordResult ProcessChangeCipherSpec(ushort epoch, ReadOnlySpan<byte> body, long nowMs)
    {
        if (!ChangeCipherSpec.IsValid(body))
        {
            Observer.OnDropped(this, DropReason.UnexpectedChangeCipherSpec);
            return RecordResult.Continue;
        }
        return Drive(HandshakeInput.ChangeCipherSpec, epoch, 0, body, nowMs, null);
    }

    private HandshakeStep ActivateReadEpoch()
        => Records.ActivateRead() ? HandshakeStep.Next : HandshakeStep.Drop(DropReason.UnexpectedChangeCipherSpec);

    private RecordResult ProcessHandshake(ushort epoch, ReadOnlySpan<byte> plaintext, long nowMs)
    {
        var rest = plaintext;
        while (!rest.IsEmpty)
        {
            if (!HandshakeHeader.TryRead(rest, out var header) || rest.Length - HandshakeHeader.Size < header.FragmentLength)
            {
                Observer.OnDropped(this, DropReason.MalformedHandshake);
                return RecordResult.Continue;
            }
            var fragment = rest.Slice(HandshakeHeader.Size, header.FragmentLength);
            rest = rest[(HandshakeHeader.Size + header.FragmentLength)..];

            // Each message travels in the one epoch the table names for it: Finished under the new keys, everything
            // else in epoch 0. Anything else is a renegotiation attempt or an attack mixing epochs, refused before it
            // is buffered (HOSTILE 30, 31, 35, 36; CVE-2021-42141).
            if (HandshakeTable.RecordEpochOf(header.MsgType) != epoch)
            {
                if (epoch == 1 && State == HandshakeState.Established
                    && header.MsgType is HandshakeType.ClientHello or HandshakeType.HelloRequest)
                {
                    SendAlert(AlertLevel.Warning, AlertDescription.NoRenegotiation);
                }
                Observer.OnDropped(this, DropReason.WrongEpoch);
                continue;
            }

            if (_handshake is not { } handshake)
            {
                OnMessageAfterHandshake(header, fragment);
                continue;
            }

            switch (handshake.Reassembler.Add(header, fragment, epoch))
            {
                case FragmentStatus.Rejected:
                    Observer.OnDropped(this, DropReason.FragmentRejected);
                    continue;
                case FragmentStatus.Old:
                    OnOldMessage(header, fragment);
                    continue;
                case FragmentStatus.Buffered:
                    continue;
            }

            // Complete messages are driven in message_seq order for as long as the handshake lasts; once it is
            // established its state is gone and whatever follows goes through OnMessageAfterHandshake.
            while (_handshake is { } current && current.Reassembler.TryGetNext(out var type, out var messageEpoch, out var body))
            {
                var sequence = current.Reassembler.NextSequence;
                if (!HandshakeTable.TryGetInput(type, out var input))
                {
                    Fail(DtlsError.UnexpectedMessage);
                    return RecordResult.Stop;
                }
                var result = Drive(input, messageEpoch, sequence, body, nowMs, current.Reassembler);
                if (result != RecordResult.Continue)
                {
                    return result;
                }
            }
        }
        return RecordResult.Continue;
    }

    /// <summary>
    /// A handshake fragment after the handshake state is gone (established): nothing is buffered any more. An old
    /// message may be the peer repeating its last flight, which gets ours again; anything newer is renegotiation or
    /// noise and is dropped as the reassembler's caps and the established state would drop it (HOSTILE 11, 16).
    /// </summary>
    private void OnMessageAfterHandshake(in HandshakeHeader header, ReadOnlySpan<byte> fragment)
    {
        if (header.FragmentOffset + fragment.Length > header.Length || header.Length > Options.MaxHandshakeMessageLength)
        {
            Observer.OnDropped(this, DropReason.FragmentRejected);
        }
        else if (header.MessageSeq < _nextPeerSequence)
        {
            OnOldMessage(header, fragment);
        }
        else
        {
            Observer.OnDropped(this, header.MessageSeq - _nextPeerSequence >= HandshakeReassembler.DefaultMaxLookahead
                ? DropReason.FragmentRejected : DropReason.NotAllowedAfterHandshake);
        }
    }
}
