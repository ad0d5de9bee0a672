using System.Net;
using System.Security.Cryptography;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Connection;

/// <summary>
/// The client's side of one association: flights 1, 3 and 5 (see <see cref="HandshakeTable"/>), answering a
/// HelloVerifyRequest with the cookie, and verifying the server's Finished.
/// </summary>
internal sealed class ClientConnection : DtlsConnection
{
    private readonly DtlsClientOptions _clientOptions;
    private readonly byte[] _identity;
    private readonly ushort[] _offeredSuites;
    private byte[] _clientHello = [];
    private int _clientHelloLength;
    private ushort _clientHelloSeq;

    public ClientConnection(DtlsClientOptions options, SocketAddress peer, IDatagramSender sender, byte[] scratch,
        IConnectionObserver observer, IRandomSource random, long nowMs)
        : base(new ConnectionServices(options, sender, scratch, observer, random), peer, nowMs)
    {
        _clientOptions = options;
        _identity = System.Text.Encoding.UTF8.GetBytes(options.PskIdentity);
        PskIdentity = _identity;
        _offeredSuites = new ushort[options.CipherSuites.Count];
        for (var i = 0; i < _offeredSuites.Length; i++)
        {
            _offeredSuites[i] = (ushort)options.CipherSuites[i];
        }
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
    public void Start(long nowMs)
    {
        Random.Fill(ClientRandom);
        SendClientHello([], nowMs);
    }

    private void SendClientHello(ReadOnlySpan<byte> cookie, long nowMs)
    {
        var buffer = new byte[256 + cookie.Length + 2 * _offeredSuites.Length];
        var length = ClientHello.Write(buffer, ProtocolVersion.Dtls12, ClientRandom, [], cookie, _offeredSuites,
            offerExtendedMasterSecret: true, offerRenegotiationInfo: true);
        _clientHello = buffer;
        _clientHelloLength = length;
        _clientHelloSeq = NextSendSeq++;
        Flight.Clear();
        // The ClientHello enters the transcript only once the ServerHello shows which one was answered
        // (RFC 6347 §4.2.1: the first ClientHello and the HelloVerifyRequest are not hashed).
        Flight.AddHandshake(HandshakeType.ClientHello, _clientHelloSeq, 0, buffer.AsSpan(0, length));
        EnterState(HandshakeState.ClientExpectServerHello);
        SendFlight(nowMs, retransmitOnTimer: true);
    }

    protected override DtlsError HandleMessage(MessageKind kind, ushort messageSeq, ReadOnlySpan<byte> body,
        HandshakeState next, long nowMs)
    {
        switch (kind)
        {
            case MessageKind.HelloVerifyRequest:
                if (!HelloVerifyRequest.TryParse(body, out _, out var cookie))
                {
                    return DtlsError.DecodeError;
                }
                SetPeerFlightEnd(HandshakeType.HelloVerifyRequest, messageSeq);
                SendClientHello(cookie, nowMs);
                return DtlsError.None;
            case MessageKind.ServerHello:
                return OnServerHello(messageSeq, body, next);
            case MessageKind.ServerKeyExchange:
                if (!ServerKeyExchangePsk.TryParse(body, out var hint))
                {
                    return DtlsError.DecodeError;
                }
                IdentityHint = hint.ToArray();
                if (!AppendToTranscript(HandshakeType.ServerKeyExchange, messageSeq, body))
                {
                    return DtlsError.HandshakeMessageTooLarge;
                }
                EnterState(next);
                return DtlsError.None;
            case MessageKind.ServerHelloDone:
                return OnServerHelloDone(messageSeq, body, next, nowMs);
            case MessageKind.Finished:
                return OnFinished(body);
            default:
                return DtlsError.UnexpectedMessage;
        }
    }

    private DtlsError OnServerHello(ushort messageSeq, ReadOnlySpan<byte> body, HandshakeState next)
    {
        if (!ServerHello.TryParse(body, out var hello))
        {
            return DtlsError.DecodeError;
        }
        if (hello.ServerVersion != ProtocolVersion.Dtls12)
        {
            return DtlsError.ProtocolVersion;
        }
        if (!CipherSuiteInfo.TryGet(hello.CipherSuite, out var suite)
            || Array.IndexOf(_offeredSuites, hello.CipherSuite) < 0
            || hello.CompressionMethod != 0)
        {
            return DtlsError.IllegalParameter;
        }
        // RFC 5246 §7.4.1.4: a server must not send an extension the client did not offer.
        if (hello.HasUnknownExtension)
        {
            return DtlsError.UnsupportedExtension;
        }
        if (hello.HasRenegotiationInfo && !hello.RenegotiationInfo.IsEmpty)
        {
            return DtlsError.NoCommonCipherSuite;
        }
        if (_clientOptions.RequireExtendedMasterSecret && !hello.HasExtendedMasterSecret)
        {
            return DtlsError.ExtendedMasterSecretRequired;
        }
        Suite = suite;
        ExtendedMasterSecret = hello.HasExtendedMasterSecret;
        hello.Random.CopyTo(ServerRandom);
        if (!AppendToTranscript(HandshakeType.ClientHello, _clientHelloSeq, _clientHello.AsSpan(0, _clientHelloLength))
            || !AppendToTranscript(HandshakeType.ServerHello, messageSeq, body))
        {
            return DtlsError.HandshakeMessageTooLarge;
        }
        // Flight 4 is arriving: the ClientHello was answered.
        StopRetransmitTimer();
        EnterState(next);
        return DtlsError.None;
    }

    private DtlsError OnServerHelloDone(ushort messageSeq, ReadOnlySpan<byte> body, HandshakeState next, long nowMs)
    {
        if (!ServerHelloDone.IsValid(body))
        {
            return DtlsError.DecodeError;
        }
        if (!AppendToTranscript(HandshakeType.ServerHelloDone, messageSeq, body))
        {
            return DtlsError.HandshakeMessageTooLarge;
        }
        SetPeerFlightEnd(HandshakeType.ServerHelloDone, messageSeq);

        // Flight 5: ClientKeyExchange, ChangeCipherSpec, Finished (epoch 1).
        var keyExchange = new byte[2 + _identity.Length];
        var length = ClientKeyExchangePsk.Write(keyExchange, _identity);
        Flight.Clear();
        AddToFlight(HandshakeType.ClientKeyExchange, 0, keyExchange.AsSpan(0, length));
        DeriveKeys(_clientOptions.PskKey, isServer: false);
        Span<byte> verifyData = stackalloc byte[Finished.VerifyDataLength];
        ComputeVerifyData(fromClient: true, verifyData);
        VerifyDataHookForTests?.Invoke(verifyData);
        Flight.AddChangeCipherSpec();
        Records.ActivateWrite();
        AddToFlight(HandshakeType.Finished, 1, verifyData);
        EnterState(next);
        SendFlight(nowMs, retransmitOnTimer: true);
        return DtlsError.None;
    }

    private DtlsError OnFinished(ReadOnlySpan<byte> body)
    {
        var error = VerifyPeerFinished(body, fromClient: false);
        if (error != DtlsError.None)
        {
            return error;
        }
        StopRetransmitTimer();
        EnterState(HandshakeState.Established);
        ReleaseHandshakeState();
        Observer.OnEstablished(this);
        return DtlsError.None;
    }
}
