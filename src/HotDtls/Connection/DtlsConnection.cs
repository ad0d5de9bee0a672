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
internal abstract partial class DtlsConnection : IDisposable, IDatagramSender
{
    // One reference to what the owner's connections share: options, lock, sender, scratch, observer, random, pool.
    private readonly ConnectionServices _services;
    // Null once established or closed: an idle session keeps nothing of the handshake.
    private HandshakeContext? _handshake;
    // The first 8 bytes of the client's random, kept after the handshake to recognise a retransmitted ClientHello (the
    // whole random lives in the handshake state while the keys need it). The random is public — it travels in clear in
    // every ClientHello — so a prefix matches exactly what the whole would: only a copy of that very hello.
    private ulong _clientRandomPrefix;

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
    // Every datagram a connection sends goes through its own Send (below), which holds the amplification bound.
    private IDatagramSender Sender => this;

    // Bytes this connection may still send to an address it moved to and that has not proven itself (RFC 9146 §6;
    // -1: the address is proven, no bound).
    private int _amplificationCredit = -1;

    /// <summary>Whether the peer's current address has shown it is reachable (always, unless a CID session moved).</summary>
    public bool PeerAddressProven => _amplificationCredit < 0;

    /// <summary>Bytes still allowed to the unproven address (-1 when it is proven).</summary>
    internal int AmplificationCredit => _amplificationCredit;

    /// <summary>
    /// The peer moved to <paramref name="address"/> (a CID session, RFC 9146 §6): until the address proves itself, the
    /// connection sends to it no more bytes than it has received from it, starting with <paramref name="received"/>.
    /// </summary>
    internal void MoveTo(SocketAddress address, int received)
    {
        Peer = address;
        _amplificationCredit = received;
    }

    /// <summary>An authentic datagram of <paramref name="received"/> bytes came from the unproven address: more credit.</summary>
    internal void CreditReceived(int received)
    {
        if (_amplificationCredit >= 0)
        {
            _amplificationCredit = (int)Math.Min(int.MaxValue, (long)_amplificationCredit + received);
        }
    }

    /// <summary>The peer's current address has shown it is reachable: the bound is lifted.</summary>
    internal void ProvePeerAddress() => _amplificationCredit = -1;

    void IDatagramSender.Send(ReadOnlySpan<byte> datagram, SocketAddress peer) => TrySendWithinCredit(datagram);

    /// <summary>Sends to the peer unless its unproven address has too little credit left (then the datagram is counted and dropped).</summary>
    private bool TrySendWithinCredit(ReadOnlySpan<byte> datagram)
    {
        if (_amplificationCredit >= 0)
        {
            if (datagram.Length > _amplificationCredit)
            {
                // Counted per engine, not per connection: an idle session keeps no counter.
                _services.DatagramsWithheld++;
                return false;
            }
            _amplificationCredit -= datagram.Length;
        }
        _services.Sender.Send(datagram, Peer);
        return true;
    }
    private byte[] Scratch => _services.Scratch;

    // protected internal: hostile-input tests inspect reassembly memory and seal records with a client's keys.
    protected internal RecordLayer Records { get; } = new();
    protected internal HandshakeReassembler Reassembler => Handshake.Reassembler;
    protected HandshakeTranscript Transcript => Handshake.Transcript;
    protected OutgoingFlight Flight => Handshake.Flight;
    protected Span<byte> ClientRandom => Handshake.ClientRandom;
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

    /// <summary>
    /// The peer's address: the key of the server's session table. Only the server's table changes it, when a CID
    /// session moves (RFC 9146 §6).
    /// </summary>
    public SocketAddress Peer { get; internal set; }

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

    /// <summary>
    /// Whether <paramref name="random"/> is this connection's client random: a retransmitted ClientHello rather than a
    /// new handshake on the same address. Compares the whole random while the handshake runs, its first 8 bytes after.
    /// </summary>
    public bool HasClientRandom(ReadOnlySpan<byte> random)
    {
        if (random.Length != KeySchedule.RandomLength)
        {
            return false;
        }
#pragma warning disable RS0030 // Public data: the client random travels in clear in every ClientHello, so time reveals nothing.
        return _handshake is { } handshake
            ? random.SequenceEqual(handshake.ClientRandom)
            : System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(random) == _clientRandomPrefix;
#pragma warning restore RS0030
    }

    /// <summary>The role wrote the client random into <see cref="ClientRandom"/>: keep its prefix for after the handshake.</summary>
    protected void KeepClientRandomPrefix()
        => _clientRandomPrefix = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(Handshake.ClientRandom);

    /// <summary>The one way into <see cref="HandshakeState.Closed"/>: frees keys and buffers, then tells the owner.</summary>
    public void Close(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
    {
        if (State == HandshakeState.Closed)
        {
            return;
        }
        State = HandshakeState.Closed;
        _handshake?.CancelPskLookup();
        var handshakeStarted = _handshake?.StartedTimestamp;
        ReleaseHandshakeState();
        Records.Dispose();
        OnClosing();
        if (handshakeStarted is { } started)
        {
            Observer.OnHandshakeEnded(this, started, reason, error);
        }
        Observer.OnClosed(this, reason, error, alert);
    }

    public virtual void Dispose()
    {
        if (State != HandshakeState.Closed)
        {
            State = HandshakeState.Closed;
            _handshake?.CancelPskLookup();
            Records.Dispose();
            OnClosing();
        }
        ReleaseHandshakeState();
    }

    /// <summary>The connection is closing: a role gives back what it holds outside itself (the server its CID).</summary>
    protected virtual void OnClosing()
    {
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
