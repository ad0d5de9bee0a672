using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Crypto;
using HotDtls.Handshake;

namespace HotDtls.Connection;

/// <summary>
/// What only a running handshake needs: reassembly, the transcript, the flight being retransmitted and its timer,
/// the handshake deadline, the server's random and the master secret (and an HMAC keyed with it); on a server also the pending PSK lookup, the
/// records deferred while it runs, and its place in the engine's list of handshakes in progress. A connection
/// gives the whole object back once it is established (or closed), so an idle session keeps none of it and no
/// secret outlives key derivation.
/// </summary>
/// <remarks>
/// A server engine keeps these in a bounded pool (<see cref="HandshakeContextPolicy"/>): a handshake then allocates
/// no reassembler, transcript or flight of its own. <see cref="Reset"/> is what makes reuse safe: it zeroes the
/// master secret, the random, the transcript, the flight and the deferred records, returns the reassembly buffers,
/// and drops the PSK lookup and its key, so the next peer finds nothing of the last one.
/// <para>
/// After establishment a connection needs from the handshake only the next peer message_seq (to recognise a
/// retransmitted flight 5, RFC 6347 §4.2.4) and, on the server, the 12 bytes of its own verify_data to send flight 6
/// again: both are kept inline in the connection.
/// </para>
/// </remarks>
internal sealed class HandshakeContext : IDisposable
{
    /// <summary>
    /// Records kept while a PSK lookup runs: the rest of the datagram that carried ClientKeyExchange (flight 5's
    /// ChangeCipherSpec and Finished). The client sends flight 5 in one go and retransmits it on timeout.
    /// </summary>
    public const int MaxDeferredBytes = (2 * DtlsOptions.DefaultMtu) + 512;

    public HandshakeContext(DtlsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Reassembler = new HandshakeReassembler(options.MaxHandshakeMessageLength, options.MaxReassemblyBytes);
    }

    public HandshakeReassembler Reassembler { get; }

    public HandshakeTranscript Transcript { get; } = new();

    public OutgoingFlight Flight { get; } = new();

    public byte[] ServerRandom { get; } = new byte[KeySchedule.RandomLength];

    /// <summary>The client's random while the handshake needs it (the connection keeps its first 8 bytes after).</summary>
    public byte[] ClientRandom { get; } = new byte[KeySchedule.RandomLength];

    public byte[] MasterSecret { get; } = new byte[KeySchedule.MasterSecretLength];

    /// <summary>An HMAC keyed with <see cref="MasterSecret"/> once it is derived: the key block and both Finished use it.</summary>
    public IncrementalHash? MasterSecretHmac { get; set; }

    /// <summary>This handshake's ephemeral ECDH key (ECDHE_PSK suites): fresh per handshake, disposed at <see cref="Reset"/>.</summary>
    public EphemeralKeyPair? EphemeralKey { get; set; }

    /// <summary>The ECDH shared secret Z once agreed, until the premaster secret is built from it; zeroed at <see cref="Reset"/>.</summary>
    public byte[] EcdhSharedSecret { get; } = new byte[EphemeralKeyPair.SharedSecretLength];

    /// <summary>Whether <see cref="EcdhSharedSecret"/> holds an agreed secret.</summary>
    public bool HasEcdhSharedSecret { get; set; }

    /// <summary>Client: the peer's ECDH public key from ServerKeyExchange (ECDHE_PSK), until the ClientKeyExchange is built.</summary>
    public bool ReceivedServerEcdhParameters { get; set; }

    /// <summary>When the handshake is abandoned (monotonic milliseconds, <see cref="DtlsOptions.HandshakeTimeout"/>).</summary>
    public long DeadlineMs { get; private set; }

    /// <summary>The RFC 6347 §4.2.4.1 timer of the flight in <see cref="Flight"/>.</summary>
    public ref RetransmitTimer Retransmit => ref _retransmit;

    /// <summary>Server: the PSK lookup that has not completed yet, for the engine to await.</summary>
    public ValueTask<byte[]?> PendingPskLookup { get; set; }

    /// <summary>Server: the key the completed lookup returned (the store's array, never written), until it is used.</summary>
    public byte[]? ResolvedPsk { get; set; }

    /// <summary>Server: the lookup threw or faulted.</summary>
    public bool PskLookupFailed { get; set; }

    /// <summary>
    /// The session_id of this handshake (<see cref="SessionIdLength"/> bytes of it): on a server the one it issues or
    /// the cached one it resumes; on a client the one the server's ServerHello named.
    /// </summary>
    public byte[] SessionId { get; } = new byte[SessionCache.SessionIdLength];

    public int SessionIdLength { get; set; }

    /// <summary>Server: what flight 4 of a full handshake will say, kept while the PSK store decides on a resumption.</summary>
    public FullHandshakeChoice FullChoice { get; set; }

    /// <summary>Server: the client offered connection_id and the server answers it (RFC 9146 §3), in either handshake.</summary>
    public bool AnswerConnectionId { get; set; }

    /// <summary>Server: the cached session the ClientHello named, while the PSK store is asked about its identity.</summary>
    public CachedSession? ResumptionCandidate { get; set; }

    /// <summary>Server: when the resumed session's full handshake ran (from its ticket; 0: unknown, a renewed ticket says now).</summary>
    public long ResumedIssuedUnixMs { get; set; }

    /// <summary>Server: our ServerHello carried the SessionTicket extension, so a NewSessionTicket must follow (RFC 5077 §3.3).</summary>
    public bool TicketAnnounced { get; set; }

    /// <summary>
    /// Server: the record_size_limit our ServerHello answers with (RFC 8449 §4; 0: the client sent none), in the full
    /// and the abbreviated handshake alike.
    /// </summary>
    public ushort AnswerRecordSizeLimit { get; set; }

    /// <summary>Server: the max_fragment_length code our ServerHello echoes (RFC 6066 §4; 0: none).</summary>
    public byte AnswerMaxFragmentLength { get; set; }

    /// <summary>
    /// The datagram size handshake flights are packed to (RFC 6347 §4.1.1.1): 0 for <see cref="DtlsOptions.Mtu"/>,
    /// lower once unanswered retransmissions or a send refused with EMSGSIZE stepped it down (<see cref="Handshake.PathMtuLadder"/>).
    /// </summary>
    public int PathMtu { get; set; }

    /// <summary>How often the current flight went out again on the timer without an answer (it steps <see cref="PathMtu"/> down).</summary>
    public int UnansweredRetransmissions { get; set; }

    /// <summary>Server: the rest of the datagram that arrived while the PSK lookup ran; allocated on first use, then kept.</summary>
    public byte[]? Deferred { get; private set; }

    public int DeferredLength { get; set; }

    // Links of the engine's HandshakeList (intrusive: no node objects).
    internal HandshakeList? List { get; set; }

    internal HandshakeContext? Previous { get; set; }

    internal HandshakeContext? Next { get; set; }

    /// <summary>The connection this handshake belongs to while it is in a <see cref="HandshakeList"/>.</summary>
    internal ServerConnection? Owner { get; set; }

    private RetransmitTimer _retransmit = RetransmitTimer.Stopped;
    private CancellationTokenSource? _pskCancellation;

    /// <summary>When the handshake began, as a <see cref="TimeProvider.GetTimestamp"/> of the options' clock (for its duration metric).</summary>
    public long StartedTimestamp { get; private set; }

    /// <summary>
    /// Makes a fresh (or reset) context the handshake of a connection that must finish by <paramref name="deadlineMs"/>,
    /// begun at <paramref name="startedTimestamp"/>.
    /// </summary>
    public void Begin(long deadlineMs, long startedTimestamp = 0)
    {
        DeadlineMs = deadlineMs;
        StartedTimestamp = startedTimestamp;
        _retransmit = RetransmitTimer.Stopped;
    }

    /// <summary>A cancellation source for this handshake's PSK lookup (reused across handshakes when it was never cancelled).</summary>
    public CancellationToken StartPskLookup()
    {
        _pskCancellation ??= new CancellationTokenSource();
        return _pskCancellation.Token;
    }

    /// <summary>Cancels the PSK lookup, if one runs: the connection closed first.</summary>
    public void CancelPskLookup()
    {
        if (PendingPskLookup.IsCompleted || _pskCancellation is null)
        {
            return;
        }
        _pskCancellation.Cancel();
    }

    /// <summary>Keeps records that arrived while the PSK lookup runs; beyond <see cref="MaxDeferredBytes"/> they are dropped (the client retransmits).</summary>
    public void Defer(ReadOnlySpan<byte> records)
    {
        if (records.IsEmpty || DeferredLength + records.Length > MaxDeferredBytes)
        {
            return;
        }
        Deferred ??= new byte[MaxDeferredBytes];
        records.CopyTo(Deferred.AsSpan(DeferredLength));
        DeferredLength += records.Length;
    }

    /// <summary>
    /// Forgets everything of the last handshake (see the remarks) and leaves the engine's list, so the context can
    /// serve another peer. The buffers stay, zeroed.
    /// </summary>
    public void Reset()
    {
        List?.Remove(this);
        Reassembler.Reset();
        Transcript.Wipe();
        Flight.Wipe();
        CryptographicOperations.ZeroMemory(MasterSecret);
        MasterSecretHmac?.Dispose();
        MasterSecretHmac = null;
        EphemeralKey?.Dispose();
        EphemeralKey = null;
        CryptographicOperations.ZeroMemory(EcdhSharedSecret);
        HasEcdhSharedSecret = false;
        ReceivedServerEcdhParameters = false;
        CryptographicOperations.ZeroMemory(ServerRandom);
        CryptographicOperations.ZeroMemory(ClientRandom);
        CryptographicOperations.ZeroMemory(SessionId);
        SessionIdLength = 0;
        FullChoice = default;
        AnswerConnectionId = false;
        ResumptionCandidate = null;
        ResumedIssuedUnixMs = 0;
        TicketAnnounced = false;
        AnswerRecordSizeLimit = 0;
        AnswerMaxFragmentLength = 0;
        PathMtu = 0;
        UnansweredRetransmissions = 0;
        if (Deferred is not null)
        {
            CryptographicOperations.ZeroMemory(Deferred.AsSpan(0, DeferredLength));
        }
        DeferredLength = 0;
        PendingPskLookup = default;
        ResolvedPsk = null;
        PskLookupFailed = false;
        if (_pskCancellation is not null && !_pskCancellation.TryReset())
        {
            // Cancelled: a source cannot be reset after that, so the next lookup gets a new one.
            _pskCancellation.Dispose();
            _pskCancellation = null;
        }
        _retransmit = RetransmitTimer.Stopped;
        DeadlineMs = 0;
    }

    /// <summary>Resets, then returns the transcript's pooled buffer: the context is not used again.</summary>
    public void Dispose()
    {
        Reset();
        Reassembler.Dispose();
        Transcript.Dispose();
        _pskCancellation?.Dispose();
        _pskCancellation = null;
    }
}

/// <summary>
/// Server: the parameters of a full handshake's ServerHello chosen from the ClientHello, kept while a resumption is
/// decided (the ClientHello itself is gone by then).
/// </summary>
internal readonly record struct FullHandshakeChoice(
    CipherSuiteInfo? Suite, NamedGroup Group, bool ExtendedMasterSecret, bool SecureRenegotiation, bool ClientSentEcPointFormats,
    bool ClientTakesTickets);

/// <summary>A Finished verify_data (RFC 5246 §7.4.9) held inline in its connection.</summary>
[InlineArray(Finished.VerifyDataLength)]
internal struct VerifyDataBytes
{
    private byte _element0;
}
