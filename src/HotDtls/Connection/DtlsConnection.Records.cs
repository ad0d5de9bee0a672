using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Connection;

internal abstract partial class DtlsConnection
{
    /// <summary>
    /// Handles one record addressed to this connection. <paramref name="body"/> is writable: protected records are
    /// decrypted in place and their plaintext handed on as a slice of it.
    /// </summary>
    public RecordResult ProcessRecord(in RecordHeader header, Span<byte> body, long nowMs)
        => ProcessRecord(header, default, body, nowMs);

    /// <summary>Whether a tls12_cid record's CID is the one this connection issued (the server's engine has matched it already).</summary>
    protected virtual bool IsOwnConnectionId(ReadOnlySpan<byte> connectionId) => true;

    /// <summary>
    /// Handles one record addressed to this connection; a tls12_cid record brings the <paramref name="connectionId"/>
    /// its header carried (RFC 9146 §4). <paramref name="body"/> is writable: protected records are decrypted in place
    /// and their plaintext handed on as a slice of it.
    /// </summary>
    public RecordResult ProcessRecord(in RecordHeader header, ReadOnlySpan<byte> connectionId, Span<byte> body, long nowMs)
    {
        if (State == HandshakeState.Closed)
        {
            return RecordResult.Stop;
        }
        if (header.Type == ContentType.Tls12Cid && !IsOwnConnectionId(connectionId))
        {
            Observer.OnDropped(this, DropReason.UnknownConnectionId);
            return RecordResult.Continue;
        }
        // RFC 6347 §4.1: records carry DTLS 1.2; only an epoch-0 ClientHello or HelloVerifyRequest record may carry
        // DTLS 1.0, since a client sends its ClientHello before it knows the version, and servers answer
        // HelloVerifyRequest in 1.0. Any later handshake message in a 1.0 record is dropped (HOSTILE 3).
        if (header.Version != ProtocolVersion.Dtls12
            && !(header.Version == ProtocolVersion.Dtls10 && header.Epoch == 0 && header.Type == ContentType.Handshake
                && !body.IsEmpty && body[0] is (byte)HandshakeType.ClientHello or (byte)HandshakeType.HelloVerifyRequest))
        {
            Observer.OnDropped(this, DropReason.BadVersion);
            return RecordResult.Continue;
        }
        switch (Records.TryOpen(header, connectionId, body, out var plaintext, out var type))
        {
            case OpenResult.Opened:
                break;
            case OpenResult.ConnectionIdMismatch:
                Observer.OnDropped(this, DropReason.UnknownConnectionId);
                return RecordResult.Continue;
            case OpenResult.AuthenticationFailed:
                // The first protected record of a handshake that fails to authenticate means the two sides derived
                // different keys: a wrong PSK, or an unknown identity (which gets a random key). Ending the handshake
                // with the same alert in both cases keeps them indistinguishable (RFC 4279 §2).
                if (State is HandshakeState.ServerExpectFinished or HandshakeState.ClientExpectFinished)
                {
                    Fail(DtlsError.BadRecordMac);
                    return RecordResult.Stop;
                }
                Observer.OnDropped(this, DropReason.AuthenticationFailed);
                return RecordResult.Continue;
            case OpenResult.Replayed:
                Observer.OnDropped(this, DropReason.Replayed);
                return RecordResult.Continue;
            case OpenResult.TooLong:
                Observer.OnDropped(this, DropReason.RecordTooLong);
                return RecordResult.Continue;
            case OpenResult.Malformed:
                Observer.OnDropped(this, DropReason.MalformedRecord);
                return RecordResult.Continue;
            case OpenResult.Overflow:
                // RFC 8449 §4 / RFC 6066 §4: an authentic record over our announced limit is fatal, in the handshake
                // (the peer's Finished) and after it alike.
                FailWith(DtlsError.RecordOverflow, State == HandshakeState.Established ? DtlsCloseReason.ProtocolError : DtlsCloseReason.HandshakeFailed);
                return RecordResult.Stop;
            default:
                Observer.OnDropped(this, DropReason.UnknownEpoch);
                return RecordResult.Continue;
        }
        // Once the peer's records are protected, only a protected record proves the peer is alive: plaintext
        // epoch-0 noise from a spoofed address must not hold an idle session open (HOSTILE 2).
        if (header.Epoch == Records.ReadEpoch)
        {
            LastReceiveMs = nowMs;
        }
        if (header.Epoch == 1)
        {
            Observer.OnAuthenticRecord(this, Records.LastOpenedWasNewest, header.Type == ContentType.Tls12Cid);
            if (State == HandshakeState.Closed)
            {
                return RecordResult.Stop;
            }
        }
        return type switch
        {
            ContentType.Handshake => ProcessHandshake(header.Epoch, plaintext, nowMs),
            ContentType.ChangeCipherSpec => ProcessChangeCipherSpec(header.Epoch, plaintext, nowMs),
            ContentType.Alert => ProcessAlert(header.Epoch, plaintext),
            ContentType.ApplicationData => ProcessApplicationData(header.Epoch, plaintext),
            ContentType.ReturnRoutabilityCheck => ProcessReturnRoutabilityCheck(header.Epoch, plaintext),
            _ => DropUnknownType(),
        };
    }

    private RecordResult DropUnknownType()
    {
        // Heartbeat (24), a tls12_cid (25) inside a tls12_cid, and anything else: never answered (CVE-2014-0160).
        Observer.OnDropped(this, DropReason.UnknownContentType);
        return RecordResult.Continue;
    }

    private RecordResult ProcessApplicationData(ushort epoch, ReadOnlySpan<byte> plaintext)
    {
        // Application data is delivered only under the negotiated keys and only once the peer's Finished has been
        // verified (HOSTILE 34, CVE-2020-24585).
        if (epoch != 1 || State != HandshakeState.Established)
        {
            Observer.OnDropped(this, DropReason.UnexpectedApplicationData);
            return RecordResult.Continue;
        }
        ForgetFinalTicket();
        Observer.OnApplicationData(this, plaintext);
        return State == HandshakeState.Closed ? RecordResult.Stop : RecordResult.Continue;
    }

    /// <summary>Whether both sides sent rrc (draft-ietf-tls-dtls-rrc): return_routability_check messages are answered.</summary>
    public bool ReturnRoutabilityCheckNegotiated { get; protected set; }

    private RecordResult ProcessReturnRoutabilityCheck(ushort epoch, ReadOnlySpan<byte> plaintext)
    {
        if (epoch != 1 || State != HandshakeState.Established || !ReturnRoutabilityCheckNegotiated
            || !ReturnRoutabilityCheck.TryRead(plaintext, out var message))
        {
            Observer.OnDropped(this, DropReason.UnexpectedReturnRoutabilityCheck);
            return RecordResult.Continue;
        }
        switch (message.Type)
        {
            case ReturnRoutabilityCheckType.PathChallenge:
                // Answered at once, to the address the connection sends to: a challenge proves that address.
                SendReturnRoutabilityCheck(ReturnRoutabilityCheckType.PathResponse, message.Cookie);
                break;
            case ReturnRoutabilityCheckType.PathResponse:
                Observer.OnPathResponse(this, message.Cookie);
                break;
            default:
                Observer.OnDropped(this, DropReason.UnexpectedReturnRoutabilityCheck);
                break;
        }
        return State == HandshakeState.Closed ? RecordResult.Stop : RecordResult.Continue;
    }

    /// <summary>Sends a return_routability_check message under the session's keys; false if it could not go out.</summary>
    internal bool SendReturnRoutabilityCheck(ReturnRoutabilityCheckType type, ulong cookie)
    {
        if (State != HandshakeState.Established || Services.IsShutDown)
        {
            return false;
        }
        var payloadOffset = Records.PayloadOffset(1);
        var scratch = Scratch;
        new ReturnRoutabilityCheck(type, cookie).Write(scratch.AsSpan(payloadOffset));
        var written = Records.Write(ContentType.ReturnRoutabilityCheck, 1, scratch.AsSpan(payloadOffset, ReturnRoutabilityCheck.Size), scratch);
        if (written < 0)
        {
            Close(DtlsCloseReason.SequenceExhausted, DtlsError.None, null);
            return false;
        }
        return TrySendWithinCredit(scratch.AsSpan(0, written));
    }

    /// <summary>
    /// The largest application datagram one record may carry: 2^14, or less when the peer limited our records
    /// (record_size_limit, RFC 8449; max_fragment_length, RFC 6066 §4). A datagram is one record: it is never split.
    /// </summary>
    public int MaxSendSize => Records.MaxPayload(1);

    /// <summary>Whether <see cref="MaxSendSize"/> is below 2^14 because the peer asked for it.</summary>
    public bool PeerLimitsRecordSize => Records.PeerLimitsRecordSize;

    /// <summary>Protects and sends application data. Returns false when the session cannot send (or the data exceeds <see cref="MaxSendSize"/>).</summary>
    public bool SendApplicationData(ReadOnlySpan<byte> data)
    {
        if (State != HandshakeState.Established || Services.IsShutDown || data.Length > Records.MaxPayload(1))
        {
            return false;
        }
        var payloadOffset = Records.PayloadOffset(1);
        var scratch = Scratch;
        data.CopyTo(scratch.AsSpan(payloadOffset));
        var written = Records.Write(ContentType.ApplicationData, 1, scratch.AsSpan(payloadOffset, data.Length), scratch);
        if (written < 0)
        {
            Close(DtlsCloseReason.SequenceExhausted, DtlsError.None, null);
            return false;
        }
        Sender.Send(scratch.AsSpan(0, written), Peer);
        return true;
    }
}
