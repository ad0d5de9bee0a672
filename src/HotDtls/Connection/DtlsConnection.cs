using System.Net;
using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Connection;

/// <summary>
/// One DTLS association with one peer, shared by both roles and split by concern over partial files:
/// <list type="bullet">
/// <item><c>DtlsConnection.cs</c>: identity, state and the one way out (<see cref="Close"/>);</item>
/// <item><c>DtlsConnection.Records.cs</c>: records in (version, protection, replay, content type) and application data out;</item>
/// <item><c>DtlsConnection.Handshake.cs</c>: the driver — fragments, reassembly, <see cref="HandshakeTable"/>, the roles' actions;</item>
/// <item><c>DtlsConnection.Flights.cs</c>: flights, their retransmission and the handshake deadline (RFC 6347 §4.2.4);</item>
/// <item><c>DtlsConnection.Keys.cs</c>: transcript, key derivation and Finished;</item>
/// <item><c>DtlsConnection.Alerts.cs</c>: alerts in and out, failure and graceful close.</item>
/// </list>
/// The roles (<see cref="ServerConnection"/>, <see cref="ClientConnection"/>) implement the actions their table rows
/// name. Not thread-safe: every call is made under <see cref="ConnectionServices.Gate"/>.
/// </summary>
internal abstract partial class DtlsConnection : IDisposable
{
    // One reference to what the owner's connections share: options, lock, sender, scratch, observer, random, pool.
    private readonly ConnectionServices _services;
    // Null once established or closed: an idle session keeps nothing of the handshake.
    private HandshakeContext? _handshake;
    private RandomBytes _clientRandom;

    protected DtlsConnection(ConnectionServices services, SocketAddress peer, HandshakeState initialState, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
        Peer = peer;
        State = initialState;
        _handshake = services.RentHandshake(nowMs + (long)services.Options.HandshakeTimeout.TotalMilliseconds);
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

    /// <summary>Whether the handshake-only state has been given back (established or closed).</summary>
    internal bool HandshakeStateReleased => _handshake is null;

    /// <summary>Bytes of handshake fragments held for reassembly (0 once the handshake state is released).</summary>
    internal int BufferedHandshakeBytes => _handshake?.Reassembler.BufferedBytes ?? 0;

    /// <summary>The running handshake's state; throws once it has been released.</summary>
    protected HandshakeContext Handshake => _handshake ?? ThrowHandshakeReleased();

    /// <summary>The running handshake's state, or null once released (established or closed).</summary>
    internal HandshakeContext? HandshakeOrNull => _handshake;

    protected CipherSuiteInfo? Suite { get; set; }
    protected bool ExtendedMasterSecret { get; set; }
    protected ushort NextSendSeq { get; set; }

    /// <summary>The peer's address: the key of the server's session table.</summary>
    public SocketAddress Peer { get; }

    /// <summary>Where the handshake stands; assigned only by the driver (<see cref="Enter"/>) and <see cref="Close"/>.</summary>
    public HandshakeState State { get; private set; }

    public bool IsEstablished => State == HandshakeState.Established;

    public bool IsClosed => State == HandshakeState.Closed;

    public CipherSuite? NegotiatedSuite => Suite?.Suite;

    public bool UsesExtendedMasterSecret => ExtendedMasterSecret;

    /// <summary>Whether this association came from an abbreviated handshake (RFC 5246 §7.3 session resumption).</summary>
    public bool IsResumed { get; protected set; }

    /// <summary>The psk_identity of this session (sent by the client; empty until known).</summary>
    public byte[] PskIdentity { get; protected set; } = [];

    /// <summary>When the last record of the current read epoch arrived (idle expiry).</summary>
    public long LastReceiveMs { get; private set; }

    /// <summary>The client's random: tells a retransmitted ClientHello from a new handshake on the same address.</summary>
    public ReadOnlySpan<byte> ClientRandomBytes => _clientRandom;

    /// <summary>The one way into <see cref="HandshakeState.Closed"/>: frees keys and buffers, then tells the owner.</summary>
    public void Close(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        if (State == HandshakeState.Closed)
        {
            return;
        }
        State = HandshakeState.Closed;
        _handshake?.CancelPskLookup();
        ReleaseHandshakeState();
        Records.Dispose();
        Observer.OnClosed(this, reason, error, alert);
    }

    public virtual void Dispose()
    {
        if (State != HandshakeState.Closed)
        {
            State = HandshakeState.Closed;
            _handshake?.CancelPskLookup();
            Records.Dispose();
        }
        ReleaseHandshakeState();
    }

    /// <summary>
    /// Gives back what only the handshake needs (HOSTILE 16): reassembly buffers, the transcript, the flight, the
    /// server random and the master secret, zeroed. Keeps the peer's next message_seq to recognise a repeated flight.
    /// </summary>
    private void ReleaseHandshakeState()
    {
        if (_handshake is not { } handshake)
        {
            return;
        }
        _nextPeerSequence = handshake.Reassembler.NextSequence;
        _handshake = null;
        _services.ReturnHandshake(handshake);
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static HandshakeContext ThrowHandshakeReleased()
        => throw new InvalidOperationException("The handshake is over: its state has been released.");
}
