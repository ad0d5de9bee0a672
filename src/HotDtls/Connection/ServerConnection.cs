using System.Net;
using System.Security.Cryptography;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Connection;

/// <summary>
/// The server's side of one association, created only after a ClientHello brought back a valid cookie.
/// Handles flight 3 → 4, flight 5 → 6 (see <see cref="HandshakeTable"/>), including the asynchronous PSK lookup.
/// </summary>
/// <remarks>
/// Everything only the handshake uses (PSK lookup, deferred records, timers, the engine's handshake list node) lives
/// in the <see cref="HandshakeContext"/>, everything the engine's connections share in one
/// <see cref="ConnectionServices"/>, and the timer wheel's links inline here: an idle session keeps only what it
/// needs (issue 4: memory per session).
/// </remarks>
internal sealed class ServerConnection : DtlsConnection, ITimerOwner<ServerConnection>
{
    private TimerLinks<ServerConnection> _timerLinks;

    /// <summary>A connection for a peer whose ClientHello carried a valid cookie; <see cref="Start"/> begins it.</summary>
    /// <param name="services">The engine's shared services; server options, and a <see cref="StandInKey"/> set.</param>
    /// <param name="peer">The peer's address (kept: the key of the engine's table).</param>
    /// <param name="nowMs">Now, in monotonic milliseconds.</param>
    public ServerConnection(ConnectionServices services, SocketAddress peer, long nowMs)
        : base(services, peer, nowMs)
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

    /// <summary>
    /// The node of this connection in the engine's list of handshakes in progress, oldest first. Set once, when the
    /// handshake starts; the connection leaves the list when it releases its handshake (established or closed).
    /// </summary>
    public LinkedListNode<ServerConnection>? HandshakeNode
    {
        get => HandshakeOrNull?.HandshakeNode;
        set => Handshake.HandshakeNode = value;
    }

    /// <summary>The PSK lookup that has not completed yet, for the engine to await.</summary>
    public ValueTask<byte[]?> PendingPskLookup => HandshakeOrNull?.PendingPskLookup ?? default;

    /// <summary>
    /// Starts the handshake from the cookie-verified ClientHello (flight 3) and sends flight 4.
    /// Returns the error that refuses the handshake, if any.
    /// </summary>
    public DtlsError Start(in ClientHello hello, ushort messageSeq, ReadOnlySpan<byte> helloBody, ulong recordSequence, long nowMs)
    {
        // RFC 6347 §4.2.1: our first record copies the ClientHello's sequence number — also when that record is the
        // alert refusing it, or the client's replay window (advanced by the HelloVerifyRequest) would drop it.
        Records.SetNextWriteSequence0(recordSequence);
        // RFC 6347 §4.1 / RFC 5246 E.1: the client's highest version; DTLS version numbers go down as they go up.
        if (hello.ClientVersion > ProtocolVersion.Dtls12)
        {
            return DtlsError.ProtocolVersion;
        }
        if (!hello.OffersNullCompression)
        {
            return DtlsError.IllegalParameter;
        }
        // RFC 5746 §3.6: on an initial handshake the renegotiated_connection field must be empty.
        if (hello.HasRenegotiationInfo && !hello.RenegotiationInfo.IsEmpty)
        {
            return DtlsError.NoCommonCipherSuite;
        }
        CipherSuiteInfo? chosen = null;
        foreach (var suite in ServerOptions.CipherSuites)
        {
            if (hello.OffersCipherSuite((ushort)suite))
            {
                chosen = CipherSuiteInfo.Get(suite);
                break;
            }
        }
        if (chosen is null)
        {
            return DtlsError.NoCommonCipherSuite;
        }
        if (ServerOptions.RequireExtendedMasterSecret && !hello.OffersExtendedMasterSecret)
        {
            return DtlsError.ExtendedMasterSecretRequired;
        }
        Suite = chosen;
        ExtendedMasterSecret = hello.OffersExtendedMasterSecret;
        var secureRenegotiation = hello.HasRenegotiationInfo || hello.OffersRenegotiationScsv;
        hello.Random.CopyTo(ClientRandom);
        Random.Fill(ServerRandom);

        // RFC 6347 §4.2.2 and §4.2.1: the server's message_seq follows the ClientHello it answers, and the
        // ServerHello's record sequence number is the ClientHello's.
        NextSendSeq = messageSeq;
        Reassembler.NextSequence = (ushort)(messageSeq + 1);
        Records.AcceptEpoch0(recordSequence);
        if (!AppendToTranscript(HandshakeType.ClientHello, messageSeq, helloBody))
        {
            return DtlsError.HandshakeMessageTooLarge;
        }
        SetPeerFlightEnd(HandshakeType.ClientHello, messageSeq);

        Span<byte> buffer = stackalloc byte[128];
        var length = ServerHello.Write(buffer, ProtocolVersion.Dtls12, ServerRandom, [], (ushort)chosen.Suite,
            ExtendedMasterSecret, secureRenegotiation);
        Flight.Clear();
        AddToFlight(HandshakeType.ServerHello, 0, buffer[..length]);
        if (Services.IdentityHint is { } identityHint)
        {
            var hint = new byte[2 + identityHint.Length];
            length = ServerKeyExchangePsk.Write(hint, identityHint);
            AddToFlight(HandshakeType.ServerKeyExchange, 0, hint.AsSpan(0, length));
        }
        AddToFlight(HandshakeType.ServerHelloDone, 0, []);
        EnterState(HandshakeState.ServerExpectClientKeyExchange);
        SendFlight(nowMs, retransmitOnTimer: true);
        return DtlsError.None;
    }

    protected override DtlsError HandleMessage(MessageKind kind, ushort messageSeq, ReadOnlySpan<byte> body,
        HandshakeState next, long nowMs)
    {
        switch (kind)
        {
            case MessageKind.ClientKeyExchange:
                return OnClientKeyExchange(messageSeq, body, next);
            case MessageKind.Finished:
                return OnFinished(messageSeq, body);
            default:
                return DtlsError.UnexpectedMessage;
        }
    }

    private DtlsError OnClientKeyExchange(ushort messageSeq, ReadOnlySpan<byte> body, HandshakeState next)
    {
        if (!ClientKeyExchangePsk.TryParse(body, out var identity))
        {
            return DtlsError.DecodeError;
        }
        if (!AppendToTranscript(HandshakeType.ClientKeyExchange, messageSeq, body))
        {
            return DtlsError.HandshakeMessageTooLarge;
        }
        // The flight went through to the client: its ClientHello is answered, stop repeating flight 4.
        StopRetransmitTimer();
        PskIdentity = identity.ToArray();
        Observer.OnPskLookup(this);
        var handshake = Handshake;
        handshake.PskCancellation = new CancellationTokenSource();
        ValueTask<byte[]?> lookup;
        try
        {
            lookup = ServerOptions.PskStore!.GetKeyAsync(PskIdentity, handshake.PskCancellation.Token);
        }
#pragma warning disable CA1031 // The store is application code; its failure must end this handshake, not the server.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            Observer.OnPskStoreFailed(this, exception);
            return DtlsError.InternalError;
        }
        if (lookup.IsCompleted)
        {
            byte[]? key;
            try
            {
                key = lookup.GetAwaiter().GetResult();
            }
#pragma warning disable CA1031
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Observer.OnPskStoreFailed(this, exception);
                return DtlsError.InternalError;
            }
            var keyError = CompleteKeyExchange(key);
            if (keyError != DtlsError.None)
            {
                return keyError;
            }
            EnterState(next);
            return DtlsError.None;
        }
        handshake.PendingPskLookup = lookup;
        EnterState(HandshakeState.ServerAwaitingPsk);
        return DtlsError.None;
    }

    /// <summary>Keeps the rest of a datagram that arrived while the PSK lookup runs (flight 5's ChangeCipherSpec and Finished).</summary>
    public void Defer(ReadOnlySpan<byte> records)
    {
        // One datagram's worth is enough: the client sends flight 5 in one go and retransmits it on timeout.
        if (records.IsEmpty || records.Length > 2 * DtlsOptions.DefaultMtu + 512 || HandshakeOrNull is not { } handshake)
        {
            return;
        }
        var deferred = handshake.Deferred ??= new byte[2 * DtlsOptions.DefaultMtu + 512];
        if (handshake.DeferredLength + records.Length > deferred.Length)
        {
            return;
        }
        records.CopyTo(deferred.AsSpan(handshake.DeferredLength));
        handshake.DeferredLength += records.Length;
    }

    /// <summary>
    /// Takes the deferred records (to process after the lookup); the span is valid until the next Defer, and stays
    /// valid when the handshake state is released meanwhile (the buffer is a plain array, not pooled).
    /// </summary>
    public Span<byte> TakeDeferred()
    {
        if (HandshakeOrNull is not { Deferred: { } buffer } handshake)
        {
            return Span<byte>.Empty;
        }
        var deferred = buffer.AsSpan(0, handshake.DeferredLength);
        handshake.DeferredLength = 0;
        return deferred;
    }

    /// <summary>The asynchronous PSK lookup finished (on the engine's lock).</summary>
    public DtlsError ResumeAfterPsk(byte[]? key, bool failed)
    {
        if (HandshakeOrNull is { } handshake)
        {
            handshake.PendingPskLookup = default;
        }
        if (State != HandshakeState.ServerAwaitingPsk)
        {
            return DtlsError.None;
        }
        if (failed)
        {
            Fail(DtlsError.InternalError);
            return DtlsError.InternalError;
        }
        var keyError = CompleteKeyExchange(key);
        if (keyError != DtlsError.None)
        {
            Fail(keyError);
            return keyError;
        }
        EnterState(HandshakeState.ServerExpectChangeCipherSpec);
        return DtlsError.None;
    }

    private DtlsError CompleteKeyExchange(byte[]? key)
    {
        var handshake = Handshake;
        handshake.PskCancellation?.Dispose();
        handshake.PskCancellation = null;
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

    private DtlsError OnFinished(ushort messageSeq, ReadOnlySpan<byte> body)
    {
        var error = VerifyPeerFinished(body, fromClient: true);
        if (error != DtlsError.None)
        {
            return error;
        }
        AppendToTranscript(HandshakeType.Finished, messageSeq, body);
        SetPeerFlightEnd(HandshakeType.Finished, messageSeq);

        // Flight 6: ChangeCipherSpec in epoch 0, Finished in epoch 1. It is our last flight: it is sent again
        // only when the client repeats its flight 5 (RFC 6347 §4.2.4).
        // Only its verify_data is kept to send it again (no transcript entry: nothing hashes past it).
        Span<byte> finished = stackalloc byte[Finished.VerifyDataLength];
        ComputeVerifyData(fromClient: false, finished);
        Records.ActivateWrite();
        EnterState(HandshakeState.Established);
        SendFinalFlight(finished);
        ReleaseHandshakeState();
        Observer.OnEstablished(this);
        return DtlsError.None;
    }

    /// <summary>Ends the handshake as <paramref name="error"/> says, before it has started (the ClientHello was refused).</summary>
    public void Refuse(DtlsError error) => Fail(error);

    protected override void OnClosing()
    {
        if (HandshakeOrNull is { PskCancellation: { } cancellation } handshake)
        {
            cancellation.Cancel();
            cancellation.Dispose();
            handshake.PskCancellation = null;
        }
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void ThrowNotServerServices()
        => throw new ArgumentException("A server connection needs server options and a stand-in key.", "services");
}
