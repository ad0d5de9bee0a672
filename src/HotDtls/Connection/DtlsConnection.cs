using System.Net;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Connection;

/// <summary>What the caller of <see cref="DtlsConnection.ProcessRecord"/> does next.</summary>
internal enum RecordResult : byte
{
    /// <summary>Go on with the datagram's next record.</summary>
    Continue,
    /// <summary>The connection waits for the PSK store: keep the rest of the datagram for later.</summary>
    Defer,
    /// <summary>The connection is closed: drop the rest of the datagram.</summary>
    Stop,
}

/// <summary>
/// One DTLS association with one peer: the record layer, the handshake driver shared by both roles
/// (fragments → reassembly → the transition table → the role's message handler), flights and their
/// retransmission (RFC 6347 §4.2.4), alerts, and application data. Not thread-safe: its owner serialises calls.
/// </summary>
internal abstract class DtlsConnection : IDisposable
{
    // One reference to what the engine's connections share (issue 4): options, sender, scratch, observer, random.
    private readonly ConnectionServices _services;
    private int _peerFlightLastSeq = -1;
    private HandshakeType _peerFlightLastType;
    // Null once established or closed: an idle session keeps nothing of the handshake (issue 4).
    private HandshakeContext? _handshake;
    // The peer's next message_seq, kept when _handshake goes: older messages may be a retransmitted flight.
    private ushort _nextPeerSequence;
    private RandomBytes _clientRandom;
    // The server's flight 6 (ChangeCipherSpec, Finished) is its last flight: it is rebuilt from these for as long as
    // the session lives, should the client repeat its flight 5 (RFC 6347 §4.2.4).
    private VerifyDataBytes _finalVerifyData;
    private ushort _finalFinishedSeq;
    private bool _hasFinalFlight;

    protected DtlsConnection(ConnectionServices services, SocketAddress peer, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
        Peer = peer;
        _handshake = new HandshakeContext(services.Options, nowMs + (long)services.Options.HandshakeTimeout.TotalMilliseconds);
        LastReceiveMs = nowMs;
    }

    protected ConnectionServices Services => _services;
    protected DtlsOptions Options => _services.Options;
    protected IConnectionObserver Observer => _services.Observer;
    protected IRandomSource Random => _services.Random;
    private IDatagramSender Sender => _services.Sender;
    private byte[] Scratch => _services.Scratch;
    // protected internal: hostile-input tests inspect reassembly memory and seal records with a client's keys.
    protected internal RecordLayer Records { get; } = new();
    protected internal HandshakeReassembler Reassembler => Handshake.Reassembler;
    protected HandshakeTranscript Transcript => Handshake.Transcript;
    protected OutgoingFlight Flight => Handshake.Flight;
    protected Span<byte> ClientRandom => _clientRandom;
    protected byte[] ServerRandom => Handshake.ServerRandom;
    protected byte[] MasterSecret => Handshake.MasterSecret;

    /// <summary>Whether the handshake-only state has been dropped (established or closed).</summary>
    internal bool HandshakeStateReleased => _handshake is null;

    /// <summary>Bytes of handshake fragments held for reassembly (0 once the handshake state is dropped).</summary>
    internal int BufferedHandshakeBytes => _handshake?.Reassembler.BufferedBytes ?? 0;

    /// <summary>The running handshake's state; throws once it has been released.</summary>
    protected HandshakeContext Handshake => _handshake ?? ThrowHandshakeReleased();

    /// <summary>The running handshake's state, or null once released (established or closed).</summary>
    protected HandshakeContext? HandshakeOrNull => _handshake;
    protected CipherSuiteInfo? Suite { get; set; }
    protected bool ExtendedMasterSecret { get; set; }
    protected ushort NextSendSeq { get; set; }

    /// <summary>The peer's address: the key of the server's session table.</summary>
    public SocketAddress Peer { get; }

    public HandshakeState State { get; private set; }

    public bool IsEstablished => State == HandshakeState.Established;

    public bool IsClosed => State == HandshakeState.Closed;

    public CipherSuite? NegotiatedSuite => Suite?.Suite;

    public bool UsesExtendedMasterSecret => ExtendedMasterSecret;

    /// <summary>The psk_identity of this session (sent by the client; empty until known).</summary>
    public byte[] PskIdentity { get; protected set; } = [];

    /// <summary>When the handshake is abandoned; long.MaxValue once it is over.</summary>
    public long HandshakeDeadlineMs => _handshake?.DeadlineMs ?? long.MaxValue;

    public long LastReceiveMs { get; private set; }

    public bool HasRetransmitTimer => _handshake is { RetransmitAtMs: not long.MaxValue };

    /// <summary>The client's random: tells a retransmitted ClientHello from a new handshake on the same address.</summary>
    public ReadOnlySpan<byte> ClientRandomBytes => _clientRandom;

    /// <summary>Moves to <paramref name="state"/>; closing goes through <see cref="Close"/> only.</summary>
    protected void EnterState(HandshakeState state)
    {
        State = state;
    }

    /// <summary>
    /// Handles one record addressed to this connection. <paramref name="body"/> is writable: epoch-1 records are
    /// decrypted in place.
    /// </summary>
    public RecordResult ProcessRecord(in RecordHeader header, Span<byte> body, long nowMs)
    {
        if (State == HandshakeState.Closed)
        {
            return RecordResult.Stop;
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
        switch (Records.TryOpen(header, body, out var plaintext))
        {
            case OpenResult.Opened:
                break;
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
            default:
                Observer.OnDropped(this, DropReason.UnknownEpoch);
                return RecordResult.Continue;
        }
        // Once the peer's records are protected, only a protected record proves the peer is alive: plaintext
        // epoch-0 noise from a spoofed address must not hold an idle session open (HOSTILE 2, "no state changed").
        if (header.Epoch == Records.ReadEpoch)
        {
            LastReceiveMs = nowMs;
        }
        return header.Type switch
        {
            ContentType.Handshake => ProcessHandshake(header.Epoch, plaintext, nowMs),
            ContentType.ChangeCipherSpec => ProcessChangeCipherSpec(header.Epoch, plaintext),
            ContentType.Alert => ProcessAlert(header.Epoch, plaintext),
            ContentType.ApplicationData => ProcessApplicationData(header.Epoch, plaintext),
            _ => DropUnknownType(),
        };
    }

    private RecordResult DropUnknownType()
    {
        // Heartbeat (24), tls12_cid (25) and anything else: never answered (CVE-2014-0160).
        Observer.OnDropped(this, DropReason.UnknownContentType);
        return RecordResult.Continue;
    }

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

            // Finished is the only handshake message protected by the new epoch; anything else in epoch 1 is a
            // renegotiation attempt or an attack mixing epochs, and an epoch-0 Finished is never trusted
            // (HOSTILE 30, 31, 35, 36; CVE-2021-42141).
            var isFinished = header.MsgType == HandshakeType.Finished;
            if (isFinished != (epoch == 1))
            {
                if (epoch == 1 && State == HandshakeState.Established
                    && header.MsgType is HandshakeType.ClientHello or HandshakeType.HelloRequest)
                {
                    SendAlert(AlertLevel.Warning, AlertDescription.NoRenegotiation);
                }
                Observer.OnDropped(this, DropReason.WrongEpoch);
                continue;
            }

            if (_handshake is null)
            {
                OnMessageAfterHandshake(header, fragment);
                continue;
            }

            switch (_handshake.Reassembler.Add(header, fragment))
            {
                case FragmentStatus.Rejected:
                    Observer.OnDropped(this, DropReason.FragmentRejected);
                    continue;
                case FragmentStatus.Old:
                    OnOldMessage(header.MsgType, header.MessageSeq);
                    continue;
                case FragmentStatus.Buffered:
                    continue;
            }

            // Once established the handshake state is gone (the handler that finishes it drops it): whatever follows
            // goes through OnMessageAfterHandshake, so it cannot disturb a working association.
            while (_handshake is { } handshake && handshake.Reassembler.TryGetNext(out var type, out var body))
            {
                var sequence = handshake.Reassembler.NextSequence;
                var messageEpoch = type == HandshakeType.Finished ? (ushort)1 : (ushort)0;
                if (!HandshakeTable.TryGetKind(type, out var kind)
                    || !HandshakeTable.TryGetNext(State, kind, messageEpoch, out var next))
                {
                    Fail(DtlsError.UnexpectedMessage);
                    return RecordResult.Stop;
                }
                var error = HandleMessage(kind, sequence, body, next, nowMs);
                if (_handshake is null)
                {
                    // The handler finished (or ended) the handshake and dropped its state: this message was the last.
                    _nextPeerSequence = (ushort)(sequence + 1);
                }
                else
                {
                    handshake.Reassembler.Advance();
                }
                if (error != DtlsError.None)
                {
                    Fail(error);
                    return RecordResult.Stop;
                }
                if (State == HandshakeState.Closed)
                {
                    return RecordResult.Stop;
                }
                if (State == HandshakeState.ServerAwaitingPsk)
                {
                    return RecordResult.Defer;
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
            OnOldMessage(header.MsgType, header.MessageSeq);
        }
        else
        {
            Observer.OnDropped(this, header.MessageSeq - _nextPeerSequence >= HandshakeReassembler.DefaultMaxLookahead
                ? DropReason.FragmentRejected : DropReason.NotAllowedAfterHandshake);
        }
    }

    /// <summary>
    /// Runs the role's handler for a message the table allows; the handler moves to <paramref name="next"/>
    /// (or to a waiting state) itself. Returns the error that ends the handshake, or <see cref="DtlsError.None"/>.
    /// </summary>
    protected abstract DtlsError HandleMessage(MessageKind kind, ushort messageSeq, ReadOnlySpan<byte> body,
        HandshakeState next, long nowMs);

    private RecordResult ProcessChangeCipherSpec(ushort epoch, ReadOnlySpan<byte> body)
    {
        if (!ChangeCipherSpec.IsValid(body) || epoch != 0
            || !HandshakeTable.TryGetNext(State, MessageKind.ChangeCipherSpec, 0, out var next)
            || !Records.ActivateRead())
        {
            // A retransmitted, duplicated or premature ChangeCipherSpec never bumps the epoch twice (HOSTILE 32);
            // a premature one is dropped rather than fatal because reordering makes it normal on UDP.
            Observer.OnDropped(this, DropReason.UnexpectedChangeCipherSpec);
            return RecordResult.Continue;
        }
        EnterState(next);
        return RecordResult.Continue;
    }

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

    private RecordResult ProcessApplicationData(ushort epoch, ReadOnlySpan<byte> plaintext)
    {
        // Application data is delivered only under the negotiated keys and only once the peer's Finished has been
        // verified (HOSTILE 34, CVE-2020-24585).
        if (epoch != 1 || State != HandshakeState.Established)
        {
            Observer.OnDropped(this, DropReason.UnexpectedApplicationData);
            return RecordResult.Continue;
        }
        Observer.OnApplicationData(this, plaintext);
        return State == HandshakeState.Closed ? RecordResult.Stop : RecordResult.Continue;
    }

    /// <summary>
    /// A message older than the next expected one arrived. If it ends the peer's previous flight, the peer lost
    /// ours: send it again (RFC 6347 §4.2.4). Any other old message is dropped without a state change (HOSTILE 17).
    /// </summary>
    private void OnOldMessage(HandshakeType type, ushort messageSeq)
    {
        // Fix (HOSTILE 17): the type must match too. A spoofed epoch-0 record with any type and the right old
        // message_seq used to make us resend our last flight, and dropped old messages were not counted.
        if (messageSeq == _peerFlightLastSeq && type == _peerFlightLastType)
        {
            if (_hasFinalFlight)
            {
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

    /// <summary>Records the last message of the peer's flight we just handled, to recognise its retransmission.</summary>
    protected void SetPeerFlightEnd(HandshakeType type, ushort messageSeq)
    {
        _peerFlightLastType = type;
        _peerFlightLastSeq = messageSeq;
    }

    /// <summary>Sends the current flight and, unless it is our last flight, arms the retransmission timer.</summary>
    protected void SendFlight(long nowMs, bool retransmitOnTimer)
    {
        var handshake = Handshake;
        if (!handshake.Flight.Send(Records, Options.Mtu, Scratch, Sender, Peer))
        {
            Close(DtlsCloseReason.SequenceExhausted, DtlsError.InternalError, null);
            return;
        }
        if (retransmitOnTimer)
        {
            handshake.RetransmitTimeoutMs = (long)Options.InitialRetransmitTimeout.TotalMilliseconds;
            handshake.RetransmitAtMs = nowMs + handshake.RetransmitTimeoutMs;
        }
        else
        {
            handshake.RetransmitAtMs = long.MaxValue;
        }
    }

    private void ResendFlight()
    {
        if (!Flight.Send(Records, Options.Mtu, Scratch, Sender, Peer))
        {
            Close(DtlsCloseReason.SequenceExhausted, DtlsError.InternalError, null);
        }
    }

    /// <summary>
    /// Sends our last flight, ChangeCipherSpec and Finished(<paramref name="verifyData"/>), and keeps only the
    /// verify_data to send it again: it is never retransmitted on a timer, only when the peer repeats its flight
    /// (RFC 6347 §4.2.4). Call after <see cref="RecordLayer.ActivateWrite"/>.
    /// </summary>
    protected void SendFinalFlight(ReadOnlySpan<byte> verifyData)
    {
        verifyData.CopyTo(_finalVerifyData);
        _finalFinishedSeq = NextSendSeq++;
        _hasFinalFlight = true;
        StopRetransmitTimer();
        SendFinalFlight();
    }

    private void SendFinalFlight()
    {
        if (!OutgoingFlight.SendFinished(Records, Scratch, Sender, Peer, _finalFinishedSeq, _finalVerifyData))
        {
            Close(DtlsCloseReason.SequenceExhausted, DtlsError.InternalError, null);
        }
    }

    /// <summary>Stops retransmitting: the peer's answer to our flight arrived.</summary>
    protected void StopRetransmitTimer()
    {
        if (_handshake is { } handshake)
        {
            handshake.RetransmitAtMs = long.MaxValue;
        }
    }

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
        if (nowMs >= handshake.RetransmitAtMs)
        {
            ResendFlight();
            handshake.RetransmitTimeoutMs = Math.Min(handshake.RetransmitTimeoutMs * 2,
                (long)Options.MaxRetransmitTimeout.TotalMilliseconds);
            handshake.RetransmitAtMs = nowMs + handshake.RetransmitTimeoutMs;
        }
    }

    /// <summary>When <see cref="OnTimer"/> next has work: the earlier of the retransmission and the deadline.</summary>
    public long NextTimerMs => State is HandshakeState.Closed or HandshakeState.Established || _handshake is not { } handshake
        ? long.MaxValue
        : Math.Min(handshake.RetransmitAtMs, handshake.DeadlineMs);

    /// <summary>Protects and sends application data. Returns false when the session cannot send.</summary>
    public bool SendApplicationData(ReadOnlySpan<byte> data)
    {
        if (State != HandshakeState.Established)
        {
            return false;
        }
        var payloadOffset = RecordLayer.PayloadOffset(1);
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

    /// <summary>Sends an alert in the current write epoch.</summary>
    protected void SendAlert(AlertLevel level, AlertDescription description)
    {
        var epoch = Records.WriteEpoch;
        var payloadOffset = RecordLayer.PayloadOffset(epoch);
        var scratch = Scratch;
        new Alert(level, description).Write(scratch.AsSpan(payloadOffset));
        var written = Records.Write(ContentType.Alert, epoch, scratch.AsSpan(payloadOffset, Alert.Size), scratch);
        if (written > 0)
        {
            Sender.Send(scratch.AsSpan(0, written), Peer);
        }
    }

    /// <summary>Ends the handshake with the fatal alert <paramref name="error"/> maps to.</summary>
    protected void Fail(DtlsError error)
    {
        var alert = DtlsErrors.ToAlert(error);
        SendAlert(AlertLevel.Fatal, alert);
        Close(DtlsCloseReason.HandshakeFailed, error, alert);
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

    /// <summary>The one way into <see cref="HandshakeState.Closed"/>: frees keys and buffers, then tells the owner.</summary>
    public void Close(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        if (State == HandshakeState.Closed)
        {
            return;
        }
        State = HandshakeState.Closed;
        StopRetransmitTimer();
        OnClosing();
        ReleaseHandshakeState();
        Records.Dispose();
        Observer.OnClosed(this, reason, error, alert);
    }

    /// <summary>Lets a role release what it holds (a pending PSK lookup) when the connection closes.</summary>
    protected virtual void OnClosing()
    {
    }

    /// <summary>
    /// Frees what only the handshake needs (HOSTILE 16): reassembly buffers, the transcript, the flight, the server
    /// random and the master secret (zeroed). Keeps the peer's next message_seq to recognise a repeated flight.
    /// </summary>
    protected void ReleaseHandshakeState()
    {
        if (_handshake is not { } handshake)
        {
            return;
        }
        _nextPeerSequence = handshake.Reassembler.NextSequence;
        _handshake = null;
        handshake.Dispose();
    }

    /// <summary>Appends a whole message to the transcript with the header of an unfragmented message (RFC 6347 §4.2.6).</summary>
    protected bool AppendToTranscript(HandshakeType type, ushort messageSeq, ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[HandshakeHeader.Size];
        new HandshakeHeader(type, body.Length, messageSeq, 0, body.Length).Write(header);
        return Transcript.TryAppend(header) && Transcript.TryAppend(body);
    }

    /// <summary>Adds a message we send to the flight and the transcript, and numbers it.</summary>
    protected bool AddToFlight(HandshakeType type, ushort epoch, ReadOnlySpan<byte> body)
    {
        var sequence = NextSendSeq++;
        Flight.AddHandshake(type, sequence, epoch, body);
        return AppendToTranscript(type, sequence, body);
    }

    /// <summary>Derives the master secret and epoch 1's ciphers from the PSK (RFC 4279 §2, RFC 7627, RFC 5246 §6.3).</summary>
    protected void DeriveKeys(ReadOnlySpan<byte> psk, bool isServer)
    {
        var suite = Suite!;
        Span<byte> premaster = stackalloc byte[KeySchedule.PskPremasterSecretLength(psk.Length)];
        KeySchedule.WritePskPremasterSecret(psk, premaster);
        if (ExtendedMasterSecret)
        {
            // RFC 7627 §3: the session hash covers the transcript up to and including ClientKeyExchange.
            Span<byte> sessionHash = stackalloc byte[suite.PrfHashLength];
            Transcript.GetHash(suite.PrfHash, sessionHash);
            KeySchedule.ExtendedMasterSecret(suite.PrfHash, premaster, sessionHash, MasterSecret);
        }
        else
        {
            KeySchedule.MasterSecret(suite.PrfHash, premaster, ClientRandom, ServerRandom, MasterSecret);
        }
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(premaster);
        Span<byte> keyBlock = stackalloc byte[suite.KeyBlockLength];
        KeySchedule.KeyBlock(suite.PrfHash, MasterSecret, ServerRandom, ClientRandom, keyBlock);
        Records.SetPendingKeys(suite, keyBlock, isServer);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(keyBlock);
    }

    /// <summary>
    /// Checks the peer's Finished against the transcript so far, in constant time (RFC 5246 §7.4.9).
    /// </summary>
    protected DtlsError VerifyPeerFinished(ReadOnlySpan<byte> body, bool fromClient)
    {
        if (!Finished.TryParse(body, out var verifyData))
        {
            return DtlsError.DecodeError;
        }
        Span<byte> expected = stackalloc byte[Finished.VerifyDataLength];
        ComputeVerifyData(fromClient, expected);
#if HOTDTLS_FUZZING
        // Fuzzing build: every well-formed Finished verifies, so the fuzzer reaches the established state.
        PeerFinishedVerified = true;
        return DtlsError.None;
#else
        if (!System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(expected, verifyData))
        {
            return DtlsError.FinishedMismatch;
        }
        PeerFinishedVerified = true;
        return DtlsError.None;
#endif
    }

    /// <summary>
    /// Whether the peer's Finished has been checked against the transcript. Application data may be delivered only
    /// after this (HOSTILE 34); the fuzzing harness asserts it on every delivery.
    /// </summary>
    internal bool PeerFinishedVerified { get; private set; }

    /// <summary>verify_data over the transcript so far (RFC 5246 §7.4.9).</summary>
    protected void ComputeVerifyData(bool fromClient, Span<byte> verifyData)
    {
        var suite = Suite!;
        Span<byte> hash = stackalloc byte[suite.PrfHashLength];
        Transcript.GetHash(suite.PrfHash, hash);
        KeySchedule.VerifyData(suite.PrfHash, MasterSecret, fromClient, hash, verifyData);
    }

    public virtual void Dispose()
    {
        if (State != HandshakeState.Closed)
        {
            State = HandshakeState.Closed;
            Records.Dispose();
        }
        ReleaseHandshakeState();
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static HandshakeContext ThrowHandshakeReleased()
        => throw new InvalidOperationException("The handshake is over: its state has been released.");
}
