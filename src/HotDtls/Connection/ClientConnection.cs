using System.Net;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Connection;

/// <summary>
/// The client's side of one association: the actions of the client's rows of <see cref="HandshakeTable"/> —
/// flights 1, 3 and 5, answering a HelloVerifyRequest with the cookie, and verifying the server's Finished.
/// </summary>
internal sealed partial class ClientConnection : DtlsConnection
{
    private readonly DtlsClientOptions _clientOptions;
    private readonly byte[] _identity;
    private readonly ushort[] _offeredSuites;
    // supported_groups (and ec_point_formats) go out only when an ECDHE_PSK suite is offered; encrypt_then_mac only when a
    // CBC suite is (RFC 8422 §4, RFC 7366 §2).
    private readonly ushort[] _offeredGroups;
    private readonly bool _offersEncryptThenMac;
    // Resumption (RFC 5246 §7.3): the saved session offered in the ClientHello, copied when the connection is made;
    // its master secret is zeroed as soon as the ServerHello shows whether it is used.
    private readonly byte[] _offeredSessionId = [];
    // RFC 5077: whether we ask for tickets, the ticket we present, and the one the server gave (kept for SaveSession).
    private readonly bool _offersTickets;
    private readonly byte[] _offeredTicket = [];
    private bool _ticketAnnounced;
    private byte[] _ticket = [];
    private readonly byte[] _offeredMasterSecret = new byte[KeySchedule.MasterSecretLength];
    private readonly CipherSuite _offeredSuite;
    private readonly bool _offeredExtendedMasterSecret;
    // What SaveSession hands out: this session's id and master secret, kept once the server's Finished verified.
    private byte[] _sessionId = [];
    private readonly byte[] _savedMasterSecret = new byte[KeySchedule.MasterSecretLength];
    // RFC 9146: the CID this client asks for in the server's records (null: connection_id not offered).
    private readonly byte[]? _ownConnectionId;
    private byte[] _clientHello = [];
    private int _clientHelloLength;
    private ushort _clientHelloSeq;

    public ClientConnection(ConnectionServices services, SocketAddress peer, long nowMs)
        : base(services, peer, HandshakeState.ClientNotStarted, nowMs)
    {
        if (services.Options is not DtlsClientOptions options)
        {
            throw new ArgumentException("A client connection needs client options.", nameof(services));
        }
        _clientOptions = options;
        _identity = System.Text.Encoding.UTF8.GetBytes(options.PskIdentity);
        PskIdentity = _identity;
        _offeredSuites = new ushort[options.CipherSuites.Count];
        var offersEcdhe = false;
        for (var i = 0; i < _offeredSuites.Length; i++)
        {
            _offeredSuites[i] = (ushort)options.CipherSuites[i];
            var info = CipherSuiteInfo.Get(options.CipherSuites[i]);
            offersEcdhe |= info.IsEcdhe;
            _offersEncryptThenMac |= !info.IsAead;
        }
        // A group this platform cannot compute (X25519 without libsodium) is not offered.
        var groups = new List<ushort>(options.NamedGroups.Count);
        foreach (var group in options.NamedGroups)
        {
            if (offersEcdhe && EphemeralKeyPair.IsSupported(group))
            {
                groups.Add((ushort)group);
            }
        }
        _offeredGroups = [.. groups];
        if (options.ConnectionIdLength is { } cidLength)
        {
            _ownConnectionId = new byte[cidLength];
            services.Random.Fill(_ownConnectionId);
        }
        _offersTickets = options.UseSessionTickets;
        if (options.Session is { } saved && CanOffer(saved, options) && saved.TryCopyMasterSecret(_offeredMasterSecret))
        {
            if (saved.HasTicket)
            {
                // RFC 5077 §3.4: with a ticket, a session_id of our own; its echo tells that the ticket was taken.
                _offeredTicket = saved.Ticket.ToArray();
                _offeredSessionId = new byte[SessionCache.SessionIdLength];
                Random.Fill(_offeredSessionId);
            }
            else
            {
                _offeredSessionId = saved.SessionId.ToArray();
            }
            _offeredSuite = saved.CipherSuite;
            _offeredExtendedMasterSecret = saved.UsesExtendedMasterSecret;
        }
    }

    /// <summary>The CID the server put in its connection_id (empty when it issued none, or CID was not negotiated).</summary>
    public ReadOnlySpan<byte> ServerConnectionId => Records.SendConnectionId;

    /// <summary>Whether the server answered connection_id (RFC 9146 §3): CID is in use, possibly empty both ways.</summary>
    public bool ConnectionIdNegotiated { get; private set; }

    /// <summary>The CID this client asked for in the server's records (empty if none).</summary>
    public ReadOnlySpan<byte> OwnConnectionId => _ownConnectionId;

    protected override bool IsOwnConnectionId(ReadOnlySpan<byte> connectionId)
#pragma warning disable RS0030 // Public data: a CID travels in clear in every record that carries it.
        => _ownConnectionId is not null && connectionId.SequenceEqual(_ownConnectionId);
#pragma warning restore RS0030

    /// <summary>
    /// Whether a saved session may be offered: a resumed session keeps its suite and its identity (RFC 5246 §7.4.1.2),
    /// so both must still be ours, and one without the extended master secret only where we do not require it.
    /// </summary>
    private bool CanOffer(DtlsSavedSession saved, DtlsClientOptions options)
        => (!saved.HasTicket || options.UseSessionTickets)
            && options.CipherSuites.Contains(saved.CipherSuite)
            && (saved.UsesExtendedMasterSecret || !options.RequireExtendedMasterSecret)
            && saved.PskIdentityBytes.Length == _identity.Length
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(saved.PskIdentityBytes, _identity);

    /// <summary>
    /// This session, to resume later (a copy of its master secret), once the server's Finished is verified and only if
    /// the server gave it a session_id; null otherwise.
    /// </summary>
    public DtlsSavedSession? SaveSession()
    {
        if (!IsEstablished)
        {
            return null;
        }
        if (_ticket.Length > 0)
        {
            return new DtlsSavedSession([], Suite!.Suite, ExtendedMasterSecret, _savedMasterSecret, _identity, _ticket);
        }
        return _sessionId.Length > 0
            ? new DtlsSavedSession(_sessionId, Suite!.Suite, ExtendedMasterSecret, _savedMasterSecret, _identity)
            : null;
    }

    public override void Dispose()
    {
        base.Dispose();
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_savedMasterSecret);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_offeredMasterSecret);
    }

    /// <summary>
    /// Test hook only (HOSTILE 30, 31, 33): sees, and may alter, the verify_data of our Finished before it is sent, so a
    /// test can build a Finished that authenticates but carries a wrong verify_data. Null in production.
    /// </summary>
    internal VerifyDataHook? VerifyDataHookForTests { get; set; }

    internal delegate void VerifyDataHook(Span<byte> verifyData);

    /// <summary>The psk_identity_hint the server sent, if any.</summary>
    public byte[]? IdentityHint { get; private set; }

    /// <summary>Sends flight 1: a ClientHello without a cookie.</summary>
    public void Start(long nowMs) => DriveLocal(HandshakeInput.Start, nowMs);

    protected override HandshakeStep Perform(HandshakeAction action, ushort messageSeq, ReadOnlySpan<byte> body, long nowMs)
        => action switch
        {
            HandshakeAction.SendClientHello => SendFirstClientHello(nowMs),
            HandshakeAction.ReadHelloVerifyRequest => ReadHelloVerifyRequest(messageSeq, body, nowMs),
            HandshakeAction.ReadServerHello => ReadServerHello(messageSeq, body),
            HandshakeAction.ReadServerKeyExchange => ReadServerKeyExchange(messageSeq, body),
            HandshakeAction.ReadServerHelloDone => ReadServerHelloDone(messageSeq, body, nowMs),
            HandshakeAction.ReadServerFinished => ReadServerFinished(body),
            HandshakeAction.ReadResumedServerFinished => ReadResumedServerFinished(messageSeq, body),
            HandshakeAction.ReadNewSessionTicket => ReadNewSessionTicket(messageSeq, body),
            _ => HandshakeStep.Fail(DtlsError.InternalError),
        };

    private HandshakeStep SendFirstClientHello(long nowMs)
    {
        Random.Fill(ClientRandom);
        KeepClientRandomPrefix();
        SendClientHello([], nowMs);
        return HandshakeStep.Next;
    }

    private void SendClientHello(ReadOnlySpan<byte> cookie, long nowMs)
    {
        var needed = 256 + _offeredSessionId.Length + _offeredTicket.Length + cookie.Length + (2 * _offeredSuites.Length)
            + (2 * _offeredGroups.Length) + (_ownConnectionId?.Length ?? 0) + HelloExtensions.RecordLimitsAppendedLength;
        if (_clientHello.Length < needed)
        {
            _clientHello = new byte[needed];
        }
        _clientHelloLength = ClientHello.Write(_clientHello, ProtocolVersion.Dtls12, ClientRandom, _offeredSessionId, cookie, _offeredSuites,
            offerExtendedMasterSecret: true, offerRenegotiationInfo: true, _offersEncryptThenMac, _offeredGroups,
            offerSessionTicket: _offersTickets, sessionTicket: _offeredTicket,
            offerConnectionId: _ownConnectionId is not null, _ownConnectionId, offerReturnRoutabilityCheck: _ownConnectionId is not null);
        _clientHelloLength = HelloExtensions.AppendRecordLimits(_clientHello, _clientHelloLength,
            ClientHello.GetExtensionBlockStart(_offeredSessionId.Length, cookie.Length, _offeredSuites.Length),
            _clientOptions.RecordSizeLimit ?? 0, HelloExtensions.MaxFragmentLengthCode(_clientOptions.MaxFragmentLength ?? 0));
        _clientHelloSeq = NextSendSeq++;
        Flight.Clear();
        // The ClientHello enters the transcript only once the ServerHello shows which one was answered
        // (RFC 6347 §4.2.1: the first ClientHello and the HelloVerifyRequest are not hashed).
        Flight.AddHandshake(HandshakeType.ClientHello, _clientHelloSeq, 0, _clientHello.AsSpan(0, _clientHelloLength));
        SendFlight(nowMs, retransmitOnTimer: true);
        Observer.OnClientHelloSent(this, withCookie: !cookie.IsEmpty);
    }

    /// <summary>
    /// The server's answers to record_size_limit (RFC 8449) and max_fragment_length (RFC 6066 §4): the limits the record
    /// layer applies from now on (flight 5 included), the server's on what we send and ours on what we receive. Returns
    /// the error that ends the handshake, or <see cref="DtlsError.None"/>.
    /// </summary>
    private DtlsError NegotiateRecordLimits(scoped in ServerHello hello)
    {
        var offeredLimit = _clientOptions.RecordSizeLimit;
        var offeredCode = HelloExtensions.MaxFragmentLengthCode(_clientOptions.MaxFragmentLength ?? 0);
        // RFC 5246 §7.4.1.4: an extension we did not offer is unsupported_extension.
        if ((hello.HasRecordSizeLimit && offeredLimit is null) || (hello.HasMaxFragmentLength && offeredCode == 0))
        {
            return DtlsError.UnsupportedExtension;
        }
        // RFC 8449 §5: "A client MUST treat receipt of both "max_fragment_length" and "record_size_limit" as a fatal
        // error, and it SHOULD generate an "illegal_parameter" alert."
        if (hello.HasRecordSizeLimit && hello.HasMaxFragmentLength)
        {
            return DtlsError.IllegalParameter;
        }
        if (hello.HasRecordSizeLimit)
        {
            // RFC 8449 §4: a value below 64 is illegal_parameter; one above 2^14 leaves DTLS 1.2's own limit.
            if (hello.RecordSizeLimit < HelloExtensions.MinRecordSizeLimit)
            {
                return DtlsError.IllegalParameter;
            }
            Records.SetPlaintextLimits(Math.Min((int)hello.RecordSizeLimit, DtlsOptions.MaxRecordSizeLimit), offeredLimit!.Value);
        }
        else if (hello.HasMaxFragmentLength)
        {
            // RFC 6066 §4: "If a client receives a maximum fragment length negotiation response that differs from the
            // length it requested, it MUST also abort the handshake with an "illegal_parameter" alert."
            if (hello.MaxFragmentLength != offeredCode)
            {
                return DtlsError.IllegalParameter;
            }
            var limit = HelloExtensions.MaxFragmentLengthOf(offeredCode);
            Records.SetPlaintextLimits(limit, limit);
        }
        return DtlsError.None;
    }

    private HandshakeStep ReadHelloVerifyRequest(ushort messageSeq, ReadOnlySpan<byte> body, long nowMs)
    {
        if (!HelloVerifyRequest.TryParse(body, out _, out var cookie))
        {
            return HandshakeStep.Fail(DtlsError.DecodeError);
        }
        SetPeerFlightEnd(HandshakeType.HelloVerifyRequest, messageSeq);
        Observer.OnHelloVerifyRequest(this);
        SendClientHello(cookie, nowMs);
        return HandshakeStep.Next;
    }

    private HandshakeStep ReadServerHello(ushort messageSeq, ReadOnlySpan<byte> body)
    {
        if (!ServerHello.TryParse(body, out var hello))
        {
            return HandshakeStep.Fail(DtlsError.DecodeError);
        }
        if (hello.ServerVersion != ProtocolVersion.Dtls12)
        {
            return HandshakeStep.Fail(DtlsError.ProtocolVersion);
        }
        if (!CipherSuiteInfo.TryGet(hello.CipherSuite, out var suite)
            || Array.IndexOf(_offeredSuites, hello.CipherSuite) < 0
            || hello.CompressionMethod != 0)
        {
            return HandshakeStep.Fail(DtlsError.IllegalParameter);
        }
        // RFC 5246 §7.4.1.4: a server must not send an extension the client did not offer.
        if (hello.HasUnknownExtension)
        {
            return HandshakeStep.Fail(DtlsError.UnsupportedExtension);
        }
        if ((hello.HasEncryptThenMac && !_offersEncryptThenMac) || (hello.HasEcPointFormats && _offeredGroups.Length == 0)
            || ((hello.HasConnectionId || hello.HasReturnRoutabilityCheck) && _ownConnectionId is null))
        {
            return HandshakeStep.Fail(DtlsError.UnsupportedExtension);
        }
        // HotDtls never runs a CBC suite MAC-then-encrypt (RFC 7366): a server that picks one without echoing
        // encrypt_then_mac is refused; one that echoes it for an AEAD suite breaks RFC 7366 §3.
        if (hello.HasEncryptThenMac == suite.IsAead)
        {
            return HandshakeStep.Fail(suite.IsAead ? DtlsError.IllegalParameter : DtlsError.NoCommonCipherSuite);
        }
        if (suite.IsEcdhe && hello.HasEcPointFormats
            && !hello.EcPointFormats.Contains(HelloExtensions.UncompressedPointFormat))
        {
            return HandshakeStep.Fail(DtlsError.IllegalParameter);
        }
        if (hello.HasRenegotiationInfo && !hello.RenegotiationInfo.IsEmpty)
        {
            return HandshakeStep.Fail(DtlsError.NoCommonCipherSuite);
        }
        if (_clientOptions.RequireExtendedMasterSecret && !hello.HasExtendedMasterSecret)
        {
            return HandshakeStep.Fail(DtlsError.ExtendedMasterSecretRequired);
        }
        // RFC 5077 §3.2: the server's SessionTicket extension answers ours, and is empty.
        if ((hello.HasSessionTicket && !_offersTickets) || hello.HasNonEmptySessionTicket)
        {
            return HandshakeStep.Fail(DtlsError.UnsupportedExtension);
        }
        var limits = NegotiateRecordLimits(hello);
        if (limits != DtlsError.None)
        {
            return HandshakeStep.Fail(limits);
        }
        _ticketAnnounced = hello.HasSessionTicket;
        // RFC 5246 §7.4.1.3: a ServerHello echoing the session_id we offered resumes that session.
        var resuming = _offeredSessionId.Length > 0
            && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(hello.SessionId, _offeredSessionId);
        if (resuming)
        {
            // The resumed session keeps its suite (RFC 5246 §7.4.1.2); RFC 7627 §5.3: "If the original session used
            // the extended master secret but the new ServerHello does not contain the extension, the client MUST
            // abort the handshake", and likewise the other way round.
            if (hello.CipherSuite != (ushort)_offeredSuite)
            {
                return HandshakeStep.Fail(DtlsError.IllegalParameter);
            }
            if (hello.HasExtendedMasterSecret != _offeredExtendedMasterSecret)
            {
                return HandshakeStep.Fail(DtlsError.ExtendedMasterSecretMismatch);
            }
        }
        Suite = suite;
        ExtendedMasterSecret = hello.HasExtendedMasterSecret;
        hello.Random.CopyTo(ServerRandom);
        if (hello.HasConnectionId)
        {
            // From our Finished on, every protected record carries the server's CID, and the server's carry ours.
            Records.SetConnectionIds(hello.ConnectionId, _ownConnectionId!.Length);
            ConnectionIdNegotiated = true;
            ReturnRoutabilityCheckNegotiated = hello.HasReturnRoutabilityCheck;
        }
        if (!AppendToTranscript(HandshakeType.ClientHello, _clientHelloSeq, _clientHello.AsSpan(0, _clientHelloLength))
            || !AppendToTranscript(HandshakeType.ServerHello, messageSeq, body))
        {
            return HandshakeStep.Fail(DtlsError.HandshakeMessageTooLarge);
        }
        // Flight 4 is arriving: the ClientHello was answered.
        StopRetransmitTimer();
        _sessionId = hello.SessionId.IsEmpty ? [] : hello.SessionId.ToArray();
        if (!resuming)
        {
            // A full handshake: the offered session is of no more use.
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(_offeredMasterSecret);
            Observer.OnServerHello(this, resumed: false);
            return HandshakeStep.Next;
        }
        // The abbreviated handshake: the server's ChangeCipherSpec and Finished come next, under keys from the saved
        // master secret and the new randoms (RFC 5246 §7.3).
        _offeredMasterSecret.CopyTo(MasterSecret);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(_offeredMasterSecret);
        // The ticket stays good for another resumption unless the server sends a fresh one.
        _ticket = _offeredTicket;
        IsResumed = true;
        DeriveKeysFromMasterSecret(isServer: false);
        Observer.OnServerHello(this, resumed: true);
        return HandshakeStep.Abbreviate;
    }

    private HandshakeStep ReadServerKeyExchange(ushort messageSeq, ReadOnlySpan<byte> body)
    {
        ReadOnlySpan<byte> hint;
        if (Suite!.IsEcdhe)
        {
            if (!ServerKeyExchangeEcdhePsk.TryParse(body, out hint, out var groupCode, out var serverPublicKey))
            {
                return HandshakeStep.Fail(DtlsError.DecodeError);
            }
            // RFC 8422 §5.4: the group must be one we offered; the point must be valid (checked by the agreement).
            if (Array.IndexOf(_offeredGroups, groupCode) < 0)
            {
                return HandshakeStep.Fail(DtlsError.IllegalParameter);
            }
            var handshake = Handshake;
            handshake.EphemeralKey?.Dispose();
            var key = handshake.EphemeralKey = CreateEphemeralKey((NamedGroup)groupCode);
            if (!key.TryAgree(serverPublicKey, handshake.EcdhSharedSecret, out _))
            {
                return HandshakeStep.Fail(DtlsError.IllegalParameter);
            }
            handshake.HasEcdhSharedSecret = true;
        }
        else if (!ServerKeyExchangePsk.TryParse(body, out hint))
        {
            return HandshakeStep.Fail(DtlsError.DecodeError);
        }
        IdentityHint = hint.ToArray();
        return AppendToTranscript(HandshakeType.ServerKeyExchange, messageSeq, body)
            ? HandshakeStep.Next
            : HandshakeStep.Fail(DtlsError.HandshakeMessageTooLarge);
    }

    private HandshakeStep ReadServerHelloDone(ushort messageSeq, ReadOnlySpan<byte> body, long nowMs)
    {
        if (!ServerHelloDone.IsValid(body))
        {
            return HandshakeStep.Fail(DtlsError.DecodeError);
        }
        if (!AppendToTranscript(HandshakeType.ServerHelloDone, messageSeq, body))
        {
            return HandshakeStep.Fail(DtlsError.HandshakeMessageTooLarge);
        }
        SetPeerFlightEnd(HandshakeType.ServerHelloDone, messageSeq);

        var handshake = Handshake;
        // RFC 5489 §2: an ECDHE_PSK server always sends ServerKeyExchange; without its ECDH parameters there is no key.
        if (Suite!.IsEcdhe && !handshake.HasEcdhSharedSecret)
        {
            return HandshakeStep.Fail(DtlsError.UnexpectedMessage);
        }

        // Flight 5: ClientKeyExchange, ChangeCipherSpec, Finished (epoch 1).
        // An identity may be up to 64 KiB: only short ones go on the stack.
        const int MaxPublicKey = 1 + 65;
        var capacity = 2 + _identity.Length + MaxPublicKey;
        Span<byte> keyExchange = capacity <= 600 ? stackalloc byte[capacity] : new byte[capacity];
        int length;
        if (Suite.IsEcdhe)
        {
            var key = handshake.EphemeralKey!;
            Span<byte> publicKey = stackalloc byte[EphemeralKeyPair.PublicKeyLength(key.Group)];
            key.WritePublicKey(publicKey);
            length = ClientKeyExchangeEcdhePsk.Write(keyExchange, _identity, publicKey);
            // Used once: the private key goes before the keys are derived.
            key.Dispose();
            handshake.EphemeralKey = null;
        }
        else
        {
            length = ClientKeyExchangePsk.Write(keyExchange, _identity);
        }
        Flight.Clear();
        AddToFlight(HandshakeType.ClientKeyExchange, 0, keyExchange[..length]);
        DeriveKeys(_clientOptions.PskKey, isServer: false);
        Span<byte> verifyData = stackalloc byte[Finished.VerifyDataLength];
        ComputeVerifyData(fromClient: true, verifyData);
        VerifyDataHookForTests?.Invoke(verifyData);
        Flight.AddChangeCipherSpec();
        Records.ActivateWrite();
        AddToFlight(HandshakeType.Finished, 1, verifyData);
        SendFlight(nowMs, retransmitOnTimer: true);
        return HandshakeStep.Next;
    }

    private HandshakeStep ReadServerFinished(ReadOnlySpan<byte> body)
    {
        var error = VerifyPeerFinished(body, fromClient: false);
        if (error != DtlsError.None)
        {
            return HandshakeStep.Fail(error);
        }
        StopRetransmitTimer();
        KeepForResumption();
        return HandshakeStep.Next;
    }
}
