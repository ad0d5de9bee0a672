using System.Net;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Connection;

/// <summary>
/// The server's side of one association, created only after <c>HelloGate</c> admitted a ClientHello with a valid
/// cookie: the actions of the server's rows of <see cref="HandshakeTable"/> (flight 3 → 4, flight 5 → 6), including
/// the asynchronous PSK lookup.
/// </summary>
/// <remarks>
/// Everything only the handshake uses lives in the pooled <see cref="HandshakeContext"/>, everything the engine's
/// connections share in one <see cref="ConnectionServices"/>, and the timer wheel's links inline here: an idle
/// session keeps only what it needs.
/// </remarks>
internal sealed partial class ServerConnection : DtlsConnection, ITimerOwner<ServerConnection>, ISessionChannel
{
    private TimerLinks<ServerConnection> _timerLinks;
    // The random part of the CID this connection issued (RFC 9146; its layout: ConnectionIdTable); 0: none (the table
    // never issues 0, so one field says both).
    private ulong _connectionIdKey;

    /// <summary>A connection for a peer whose ClientHello carried a valid cookie; <see cref="Start"/> begins it.</summary>
    /// <param name="services">The engine's shared services; server options, and a <see cref="StandInKey"/> set.</param>
    /// <param name="peer">The peer's address (kept: the key of the engine's table).</param>
    /// <param name="nowMs">Now, in monotonic milliseconds.</param>
    public ServerConnection(ConnectionServices services, SocketAddress peer, long nowMs)
        : base(services, peer, HandshakeState.ServerExpectClientHello, nowMs)
    {
        if (services.Options is not DtlsServerOptions || services.StandInKey is null)
        {
            ThrowNotServerServices();
        }
    }

    private DtlsServerOptions ServerOptions => (DtlsServerOptions)Options;

    /// <summary>Set by the engine: the session object the application sees.</summary>
    public DtlsSession? Session { get; set; }

    /// <summary>An established association's successor: a new handshake from the same address (RFC 6347 §4.2.8).</summary>
    public ServerConnection? Successor { get; set; }

    /// <summary>
    /// This connection's place in the engine's timer wheel, held inline: retransmission while handshaking, idle and
    /// cipher checks after.
    /// </summary>
    public ref TimerLinks<ServerConnection> TimerLinks => ref _timerLinks;

    /// <summary>Whether this connection issued a non-empty CID (its records can then reach it from any address).</summary>
    public bool HasConnectionId => _connectionIdKey != 0;

    /// <summary>
    /// Slot and check bytes of the CID this connection holds, read as a number (0: none); set by the
    /// <see cref="ConnectionIdTable"/> that issued it, which finds the connection by it.
    /// </summary>
    internal ulong ConnectionIdKey
    {
        get => _connectionIdKey;
        set => _connectionIdKey = value;
    }

    /// <summary>The PSK lookup that has not completed yet, for the engine to await.</summary>
    public ValueTask<byte[]?> PendingPskLookup => HandshakeOrNull?.PendingPskLookup ?? default;

    /// <summary>
    /// Starts the handshake from the cookie-verified ClientHello (flight 3), sending flight 4 or the alert that
    /// refuses it. The hello's record is <paramref name="record"/>; its first fragment header numbered it
    /// <paramref name="messageSeq"/>.
    /// </summary>
    public RecordResult Start(in RecordHeader record, ushort messageSeq, ReadOnlySpan<byte> helloBody, long nowMs)
    {
        // RFC 6347 §4.2.1: our first record copies the ClientHello's sequence number — also when that record is the
        // alert refusing it, or the client's replay window (advanced by the HelloVerifyRequest) would drop it.
        Records.SetNextWriteSequence0(record.SequenceNumber);
        Records.AcceptEpoch0(record.SequenceNumber);
        return DriveMessage(HandshakeInput.ClientHello, record.Epoch, messageSeq, helloBody, nowMs);
    }

    /// <summary>The asynchronous PSK lookup finished with <paramref name="key"/> (or failed); called under the engine's lock.</summary>
    public RecordResult ResumeAfterPsk(byte[]? key, bool failed, long nowMs)
    {
        if (State is not (HandshakeState.ServerAwaitingPsk or HandshakeState.ServerAwaitingSessionPsk)
            || HandshakeOrNull is not { } handshake)
        {
            return IsClosed ? RecordResult.Stop : RecordResult.Continue;
        }
        handshake.PendingPskLookup = default;
        handshake.ResolvedPsk = key;
        handshake.PskLookupFailed = failed;
        return DriveLocal(HandshakeInput.PskResolved, nowMs);
    }

    /// <summary>Keeps the rest of a datagram that arrived while the PSK lookup runs (flight 5's ChangeCipherSpec and Finished).</summary>
    public void Defer(ReadOnlySpan<byte> records) => HandshakeOrNull?.Defer(records);

    /// <summary>
    /// Copies the deferred records into <paramref name="destination"/> (to process after the lookup, which may release
    /// the handshake state) and forgets them. Returns how many bytes were copied.
    /// </summary>
    public int TakeDeferred(Span<byte> destination)
    {
        if (HandshakeOrNull is not { Deferred: { } buffer } handshake)
        {
            return 0;
        }
        var length = handshake.DeferredLength;
        buffer.AsSpan(0, length).CopyTo(destination);
        buffer.AsSpan(0, length).Clear();
        handshake.DeferredLength = 0;
        return length;
    }

    protected override HandshakeStep Perform(HandshakeAction action, ushort messageSeq, ReadOnlySpan<byte> body, long nowMs)
        => action switch
        {
            HandshakeAction.ReadClientHello => ReadClientHello(messageSeq, body, nowMs),
            HandshakeAction.ReadClientKeyExchange => ReadClientKeyExchange(messageSeq, body),
            HandshakeAction.UseResolvedPsk => UseResolvedPsk(),
            HandshakeAction.ReadClientFinished => ReadClientFinished(messageSeq, body, nowMs),
            HandshakeAction.UseResolvedSessionPsk => UseResolvedSessionPsk(nowMs),
            HandshakeAction.ReadResumedClientFinished => ReadResumedClientFinished(messageSeq, body),
            _ => HandshakeStep.Fail(DtlsError.InternalError),
        };

    private HandshakeStep ReadClientHello(ushort messageSeq, ReadOnlySpan<byte> helloBody, long nowMs)
    {
        if (!ClientHello.TryParse(helloBody, out var hello))
        {
            return HandshakeStep.Fail(DtlsError.DecodeError);
        }
        // RFC 6347 §4.1 / RFC 5246 E.1: the client's highest version; DTLS version numbers go down as they go up.
        if (hello.ClientVersion > ProtocolVersion.Dtls12)
        {
            return HandshakeStep.Fail(DtlsError.ProtocolVersion);
        }
        if (!hello.OffersNullCompression)
        {
            return HandshakeStep.Fail(DtlsError.IllegalParameter);
        }
        // RFC 5746 §3.6: on an initial handshake the renegotiated_connection field must be empty.
        if (hello.HasRenegotiationInfo && !hello.RenegotiationInfo.IsEmpty)
        {
            return HandshakeStep.Fail(DtlsError.NoCommonCipherSuite);
        }
        if (!TryChooseSuite(hello, out var chosen, out var group))
        {
            return HandshakeStep.Fail(DtlsError.NoCommonCipherSuite);
        }
        // RFC 8422 §5.1.2: a client that lists point formats without uncompressed cannot take our points.
        if (chosen.IsEcdhe && !hello.AcceptsUncompressedPoints)
        {
            return HandshakeStep.Fail(DtlsError.IllegalParameter);
        }
        if (ServerOptions.RequireExtendedMasterSecret && !hello.OffersExtendedMasterSecret)
        {
            return HandshakeStep.Fail(DtlsError.ExtendedMasterSecretRequired);
        }
        Suite = chosen;
        ExtendedMasterSecret = hello.OffersExtendedMasterSecret;
        var secureRenegotiation = hello.HasRenegotiationInfo || hello.OffersRenegotiationScsv;
        hello.Random.CopyTo(ClientRandom);
        KeepClientRandomPrefix();
        Random.Fill(ServerRandom);

        // RFC 6347 §4.2.2 and §4.2.1: the server's message_seq follows the ClientHello it answers.
        NextSendSeq = messageSeq;
        Reassembler.NextSequence = (ushort)(messageSeq + 1);
        if (!AppendToTranscript(HandshakeType.ClientHello, messageSeq, helloBody))
        {
            return HandshakeStep.Fail(DtlsError.HandshakeMessageTooLarge);
        }
        SetPeerFlightEnd(HandshakeType.ClientHello, messageSeq);
        var handshake = Handshake;
        handshake.FullChoice = new FullHandshakeChoice(chosen, group, hello.OffersExtendedMasterSecret, secureRenegotiation,
            hello.HasEcPointFormats, ClientTakesTickets: hello.HasSessionTicket && Services.Tickets is not null);
        // RFC 9146 §3: connection_id only to a client that offered it ("the server MUST NOT include one" otherwise), in
        // the full and the abbreviated handshake alike.
        if (hello.OffersConnectionId && ServerOptions.ConnectionIdLength is not null)
        {
            handshake.AnswerConnectionId = true;
            Records.SetConnectionIds(hello.ConnectionId, IssueConnectionId());
            // draft-ietf-tls-dtls-rrc: how a moved CID session's new address proves itself, when the client can answer.
            ReturnRoutabilityCheckNegotiated = hello.OffersReturnRoutabilityCheck;
        }

        var limits = NegotiateRecordLimits(hello);
        if (limits != DtlsError.None)
        {
            return HandshakeStep.Fail(limits);
        }

        var resumption = FindResumableSession(hello, nowMs);
        if (resumption != DtlsError.None)
        {
            return HandshakeStep.Fail(resumption);
        }
        if (handshake.ResumptionCandidate is not { } candidate)
        {
            return SendFullHandshakeFlight(nowMs);
        }
        // A resumed session keeps its identity; the store must still know it, and the flight waits for its answer.
        PskIdentity = candidate.PskIdentity;
        return LookUpPsk(out var key) switch
        {
            PskLookup.Pending => HandshakeStep.Wait,
            PskLookup.Failed => ResumeOrFallBack(null, nowMs),
            _ => ResumeOrFallBack(key, nowMs),
        };
    }

    /// <summary>Flight 4 of a full handshake: ServerHello, [ServerKeyExchange], ServerHelloDone.</summary>
    private HandshakeStep SendFullHandshakeFlight(long nowMs)
    {
        var handshake = Handshake;
        var choice = handshake.FullChoice;
        var chosen = choice.Suite!;
        Suite = chosen;
        ExtendedMasterSecret = choice.ExtendedMasterSecret;
        // A session_id or a ticket only for a session worth resuming: RFC 7627 §5.3 has us refuse to resume one
        // without the extended master secret, so such a session gets neither and costs nothing. A client that takes
        // tickets gets one instead of a cache entry (RFC 5077 §3.4 lets the session_id be empty then).
        handshake.SessionIdLength = 0;
        handshake.TicketAnnounced = ExtendedMasterSecret && choice.ClientTakesTickets;
        if (Services.SessionCache is not null && ExtendedMasterSecret && !handshake.TicketAnnounced)
        {
            Random.Fill(handshake.SessionId);
            handshake.SessionIdLength = SessionCache.SessionIdLength;
        }

        StartFlightWithServerHello(chosen);
        if (chosen.IsEcdhe)
        {
            AddEcdheServerKeyExchange(choice.Group);
        }
        else if (Services.ServerKeyExchangeBody is { } serverKeyExchange)
        {
            AddToFlight(HandshakeType.ServerKeyExchange, 0, serverKeyExchange);
        }
        AddToFlight(HandshakeType.ServerHelloDone, 0, []);
        SendFlight(nowMs, retransmitOnTimer: true);
        return HandshakeStep.Next;
    }

    /// <summary>
    /// record_size_limit (RFC 8449) and max_fragment_length (RFC 6066 §4) from the ClientHello: what our ServerHello
    /// answers (kept in the handshake for the full and the abbreviated flight alike) and the limits the record layer
    /// applies from flight 4 on — the client's limit on what we send, ours on what we receive. Returns the error that
    /// ends the handshake, or <see cref="DtlsError.None"/>.
    /// </summary>
    private DtlsError NegotiateRecordLimits(scoped in ClientHello hello)
    {
        var handshake = Handshake;
        if (hello.HasRecordSizeLimit)
        {
            // RFC 8449 §4: "An endpoint MUST treat receipt of a smaller value as a fatal error and generate an
            // "illegal_parameter" alert."
            if (hello.RecordSizeLimit < HelloExtensions.MinRecordSizeLimit)
            {
                return DtlsError.IllegalParameter;
            }
            // RFC 8449 §5: "A server that supports the "record_size_limit" extension MUST ignore a
            // "max_fragment_length" that appears in a ClientHello if both extensions appear." A value above 2^14 still
            // leaves DTLS 1.2's own limit (§4).
            var own = Options.RecordSizeLimit ?? DtlsOptions.MaxRecordSizeLimit;
            handshake.AnswerRecordSizeLimit = (ushort)own;
            Records.SetPlaintextLimits(Math.Min((int)hello.RecordSizeLimit, DtlsOptions.MaxRecordSizeLimit), own);
            return DtlsError.None;
        }
        if (hello.HasMaxFragmentLength)
        {
            // RFC 6066 §4: a value "other than the allowed values" MUST abort the handshake with illegal_parameter; an
            // accepted one is echoed, and from the ServerHello on both sides "MUST immediately begin fragmenting messages
            // (including handshake messages)".
            var limit = HelloExtensions.MaxFragmentLengthOf(hello.MaxFragmentLength);
            if (limit == 0)
            {
                return DtlsError.IllegalParameter;
            }
            handshake.AnswerMaxFragmentLength = hello.MaxFragmentLength;
            Records.SetPlaintextLimits(limit, limit);
        }
        return DtlsError.None;
    }

    /// <summary>Adds the record limit answers <see cref="NegotiateRecordLimits"/> chose to a ServerHello of <paramref name="length"/> bytes.</summary>
    private int AppendRecordLimits(Span<byte> serverHello, int length)
    {
        var handshake = Handshake;
        return HelloExtensions.AppendRecordLimits(serverHello, length, ServerHello.GetExtensionBlockStart(handshake.SessionIdLength),
            handshake.AnswerRecordSizeLimit, handshake.AnswerMaxFragmentLength);
    }

    /// <summary>
    /// Starts a new flight with the ServerHello of either handshake for <paramref name="suite"/>: the session_id and
    /// ticket announcement the handshake chose, and the answers to the client's extensions (connection_id, rrc,
    /// record limits) kept from its hello. RFC 7366 §3: encrypt_then_mac is echoed only for a CBC suite; RFC 8422 §5.2:
    /// ec_point_formats only for an ECC suite, and only to a client that sent it.
    /// </summary>
    private void StartFlightWithServerHello(CipherSuiteInfo suite)
    {
        var handshake = Handshake;
        var choice = handshake.FullChoice;
        Span<byte> connectionId = stackalloc byte[DtlsServerOptions.MaxServerConnectionIdLength];
        connectionId = connectionId[..WriteOwnConnectionId(connectionId)];
        Span<byte> buffer = stackalloc byte[160 + DtlsServerOptions.MaxServerConnectionIdLength + HelloExtensions.RecordLimitsAppendedLength];
        var length = ServerHello.Write(buffer, ProtocolVersion.Dtls12, ServerRandom, handshake.SessionId.AsSpan(0, handshake.SessionIdLength),
            (ushort)suite.Suite, ExtendedMasterSecret, choice.SecureRenegotiation, encryptThenMac: !suite.IsAead,
            ecPointFormats: suite.IsEcdhe && choice.ClientSentEcPointFormats, sessionTicket: handshake.TicketAnnounced,
            handshake.AnswerConnectionId, connectionId, ReturnRoutabilityCheckNegotiated);
        length = AppendRecordLimits(buffer, length);
        Flight.Clear();
        AddToFlight(HandshakeType.ServerHello, 0, buffer[..length]);
    }

    /// <summary>
    /// Draws this connection's CID and returns its length: 0 when the server issues empty CIDs, or when no unused one
    /// was found (the session then simply cannot move).
    /// </summary>
    private int IssueConnectionId()
        => Services.ConnectionIds is { } table && table.TryIssue(this, out _) ? table.Length : 0;

    /// <summary>Writes the CID this connection issued (the table rebuilds it from its random part); returns its length.</summary>
    private int WriteOwnConnectionId(Span<byte> destination)
    {
        if (_connectionIdKey == 0 || Services.ConnectionIds is not { } table)
        {
            return 0;
        }
        table.Write(_connectionIdKey, destination);
        return table.Length;
    }

    protected override void OnClosing()
    {
        // The key stays: DtlsSession.UsesConnectionId still tells, after the close, what the session was. The table
        // gives the CID back only to its holder, so a second call (Close, then Dispose) frees nothing of another's.
        if (_connectionIdKey != 0)
        {
            Services.ConnectionIds?.Remove(_connectionIdKey, this);
        }
    }

    /// <summary>
    /// Asks the application's store for <see cref="DtlsConnection.PskIdentity"/>'s key. A lookup that completes later
    /// is kept in the handshake for the engine to await (the row then waits); a store that throws is reported.
    /// </summary>
    private PskLookup LookUpPsk(out byte[]? key)
    {
        key = null;
        Observer.OnPskLookup(this);
        var handshake = Handshake;
        ValueTask<byte[]?> lookup;
        try
        {
            lookup = ServerOptions.PskStore!.GetKeyAsync(PskIdentity, handshake.StartPskLookup());
        }
#pragma warning disable CA1031 // The store is application code; its failure must end this handshake, not the server.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Observer.OnPskStoreFailed(this, exception);
            return PskLookup.Failed;
        }
        if (!lookup.IsCompleted)
        {
            handshake.PendingPskLookup = lookup;
            return PskLookup.Pending;
        }
        try
        {
            key = lookup.GetAwaiter().GetResult();
        }
#pragma warning disable CA1031
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Observer.OnPskStoreFailed(this, exception);
            return PskLookup.Failed;
        }
        return PskLookup.Completed;
    }

    private HandshakeStep UseResolvedPsk()
    {
        var handshake = Handshake;
        var key = handshake.ResolvedPsk;
        handshake.ResolvedPsk = null;
        return handshake.PskLookupFailed
            ? HandshakeStep.Fail(DtlsError.InternalError)
            : HandshakeStep.From(CompleteKeyExchange(key));
    }

    private DtlsError CompleteKeyExchange(byte[]? key)
    {
        if (key is null || key.Length == 0 || key.Length > PskStore.MaxKeyLength)
        {
            if (ServerOptions.RevealUnknownPskIdentity)
            {
                return DtlsError.UnknownPskIdentity;
            }
            // RFC 4279 §2: an unknown identity MAY be treated as a wrong key. Deriving from a secret stand-in key
            // makes the rest of the handshake — messages, timing, the alert — identical to the wrong-key case.
            DeriveKeys(Services.StandInKey!.Key, isServer: true);
            return DtlsError.None;
        }
        Services.StandInKey!.Observe(key.Length);
        DeriveKeys(key, isServer: true);
        return DtlsError.None;
    }

    private HandshakeStep ReadClientFinished(ushort messageSeq, ReadOnlySpan<byte> body, long nowMs)
    {
        var error = VerifyPeerFinished(body, fromClient: true);
        if (error != DtlsError.None)
        {
            return HandshakeStep.Fail(error);
        }
        // The session is established: cache it now, while the master secret is still here (the handshake state,
        // and the secret with it, is wiped as the connection enters Established).
        var handshake = Handshake;
        if (Services.SessionCache is { } cache && handshake.SessionIdLength == SessionCache.SessionIdLength)
        {
            cache.Add(handshake.SessionId, Suite!.Suite, ExtendedMasterSecret, MasterSecret, PskIdentity, nowMs);
        }
        AppendToTranscript(HandshakeType.Finished, messageSeq, body);
        // RFC 5077 §3.3: the NewSessionTicket goes before our ChangeCipherSpec and is part of the transcript our
        // Finished covers.
        byte[]? ticket = null;
        ushort ticketSeq = 0;
        if (handshake.TicketAnnounced)
        {
            ticket = BuildNewSessionTicket(0);
            ticketSeq = NextSendSeq++;
            AppendToTranscript(HandshakeType.NewSessionTicket, ticketSeq, ticket);
        }
        SetPeerFlightEnd(HandshakeType.Finished, messageSeq);

        // Flight 6: ChangeCipherSpec in epoch 0, Finished in epoch 1. It is our last flight: it is sent again
        // only when the client repeats its flight 5 (RFC 6347 §4.2.4), from its verify_data alone.
        Span<byte> finished = stackalloc byte[Finished.VerifyDataLength];
        ComputeVerifyData(fromClient: false, finished);
        Records.ActivateWrite();
        SendFinalFlight(finished, ticket, ticketSeq);
        return HandshakeStep.Next;
    }

    IPEndPoint ISessionChannel.CreateRemoteEndPoint() => Peer.ToEndPoint();

    bool ISessionChannel.HasConnectionId => _connectionIdKey != 0;

    int ISessionChannel.MaxSendSize => MaxSendSize;

    bool ISessionChannel.PeerLimitsRecordSize => PeerLimitsRecordSize;

    // The application's calls through its DtlsSession, from any thread: under the engine's lock.
    bool ISessionChannel.TrySend(ReadOnlySpan<byte> datagram)
    {
        lock (Services.Gate)
        {
            return SendApplicationData(datagram);
        }
    }

    void ISessionChannel.Close()
    {
        lock (Services.Gate)
        {
            CloseGracefully(DtlsCloseReason.LocalClose);
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ThrowNotServerServices()
        => throw new ArgumentException("A server connection needs server options and a stand-in key.", "services");
}
