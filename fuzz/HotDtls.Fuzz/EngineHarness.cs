using HotDtls.Connection;
using System.Net.Sockets;
using System.Net;
using HotDtls.Cookies;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Fuzz;

/// <summary>
/// A socket-less <see cref="ServerEngine"/> with everything fixed — clock, randomness, cookie secret, PSK table —
/// checked after every step against the promises of hostile case 42 (docs/security.md §9) and RFC 6347 §4.2.1. Used by the engine target,
/// by the seed recorder and by the tests that replay the corpora.
/// </summary>
internal sealed class EngineHarness : IDisposable
{
    /// <summary>The seed server's key (the Qt example's "1a2b3c4d5e6f").</summary>
    public static readonly byte[] Key = Convert.FromHexString("1a2b3c4d5e6f");

    /// <summary>
    /// What one datagram from a stranger may allocate: the engine keeps nothing for it but a slot of the bounded
    /// ClientHello fragment cache, whose buffer (≈ 2.4 KB) is allocated the first time the slot is taken and reused
    /// after that; parsing and answering allocate nothing. The shared array pool is never used on this path, since
    /// a rent allocates whenever its bucket is empty (the first engine campaign found a 4 KiB rent that way).
    /// </summary>
    public const long StrangerAllocationBudget = 4096;

    /// <summary>The length of the CIDs the harness's server issues (RFC 9146): the default of <see cref="DtlsServerOptions"/>, pinned.</summary>
    public const int ServerConnectionIdLength = 6;

    /// <summary>The fixed peers an input can speak as: two ports on one address, another IPv4 address, IPv6.</summary>
    public static readonly SocketAddress[] Peers =
    [
        new IPEndPoint(IPAddress.Loopback, 40000).Serialize(),
        new IPEndPoint(IPAddress.Loopback, 40001).Serialize(),
        new IPEndPoint(IPAddress.Parse("10.0.0.2"), 40000).Serialize(),
        new IPEndPoint(IPAddress.IPv6Loopback, 40000).Serialize(),
    ];

    private readonly byte[] _buffer = new byte[ushort.MaxValue];
    private readonly OracleHandler _handler = new();

    // RFC 9146 §6 / draft-ietf-tls-dtls-rrc: addresses a session moved to that have not answered a path_challenge, and
    // what came from and went to each since the move. Kept from the engine's counters and the sender's bytes, not from
    // the connection's own credit, so the oracle does not re-read the number it checks.
    private readonly bool[] _unproven = new bool[4];
    private readonly long[] _receivedUnproven = new long[4];
    private readonly long[] _sentUnproven = new long[4];
    private readonly long[] _sentBefore = new long[4];

    /// <param name="onSend">Sees every datagram the engine sends.</param>
    /// <param name="resumption">Session-ID resumption and tickets on, with <see cref="ResumptionOptions"/>'s fixed keys.</param>
    public EngineHarness(Action<byte[], SocketAddress>? onSend = null, bool resumption = false)
    {
        Options = new DtlsServerOptions
        {
            EndPoint = new IPEndPoint(IPAddress.Loopback, 22334),
            PskIdentityHint = "Qt DTLS example server",
            PskStore = PskStore.Single(Key),
            TimeProvider = Time,
            // Small tables, so that short inputs reach eviction and the session cap.
            MaxSessions = 3,
            MaxHandshakesInProgress = 2,
            ConnectionIdLength = ServerConnectionIdLength,
        };
        if (resumption)
        {
            ResumptionOptions.Enable(Options);
        }
        Options.ValidateServer();
        Sender = new CountingSender(onSend);
        Engine = new ServerEngine(Options, _handler, Sender, NullLogger.Instance, new DeterministicRandom(1));
    }

    public ManualTimeProvider Time { get; } = new();

    public DtlsServerOptions Options { get; }

    public CountingSender Sender { get; }

    public ServerEngine Engine { get; }

    /// <summary>Application records delivered to the handler so far.</summary>
    public int Delivered => _handler.Delivered;

    /// <summary>Moves the clock and runs the engine's timers, as the server's periodic timer would (late, in one go).</summary>
    public void Advance(int milliseconds)
    {
        if (milliseconds <= 0)
        {
            return;
        }
        Time.Advance(TimeSpan.FromMilliseconds(milliseconds));
        NoteSentBefore();
        Engine.OnTick();
        CheckUnprovenAddresses(-1, 0, proven: false);
        CheckTables();
    }

    /// <summary>Delivers one datagram from peer <paramref name="peer"/> and checks every promise.</summary>
    public void Deliver(int peer, ReadOnlySpan<byte> datagram)
    {
        var from = Peers[peer & 3];
        var hadState = Engine.HasState(from);
        var sentBefore = Sender.Datagrams;
        var bytesBefore = Sender.Bytes;
        var countersBefore = Engine.GetStatistics();
        NoteSentBefore();
        datagram.CopyTo(_buffer);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        Engine.ProcessDatagram(from, _buffer.AsSpan(0, datagram.Length));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        var countersAfter = Engine.GetStatistics();
        if (countersAfter.PeerAddressChanges > countersBefore.PeerAddressChanges && !_unproven[peer & 3])
        {
            // A session moved here (only ever to the datagram's source): from now on this address gets no more bytes
            // than it sent, until it answers a path_challenge.
            _unproven[peer & 3] = true;
            _receivedUnproven[peer & 3] = 0;
            _sentUnproven[peer & 3] = 0;
        }
        // Proven: a path_response from the address, or a cookie round trip that started a handshake there.
        var proven = countersAfter.PeerAddressesProven > countersBefore.PeerAddressesProven
            || countersAfter.HandshakesStarted > countersBefore.HandshakesStarted;
        CheckUnprovenAddresses(peer & 3, datagram.Length, proven);

        if (_handler.Violation is { } violation)
        {
            throw new FuzzOracleException(violation);
        }
        if (!hadState && !Engine.HasState(from) && countersAfter.PeerAddressChanges == countersBefore.PeerAddressChanges)
        {
            // Before a cookie: at most one datagram out, never more bytes than came in (RFC 6347 §4.2.1, HOSTILE 19, 42).
            // A session that moved here during the datagram (an authentic CID record) is bound by the unproven-address
            // check above instead: it may send a path_challenge and, closing within the same datagram (a fatal alert),
            // leave no state behind — found by CI's engine campaign (fuzz/regressions/engine/
            // moved-session-challenged-then-closed-in-one-datagram).
            var sent = Sender.Datagrams - sentBefore;
            var bytes = Sender.Bytes - bytesBefore;
            if (sent > 1 || bytes > datagram.Length)
            {
                throw new FuzzOracleException(
                    $"a datagram of {datagram.Length} bytes from a peer without state was answered with {sent} datagrams, {bytes} bytes");
            }
            if (allocated > StrangerAllocationBudget)
            {
                throw new FuzzOracleException($"a datagram from a peer without state allocated {allocated} bytes (budget {StrangerAllocationBudget})");
            }
        }
        CheckTables();
    }

    private void NoteSentBefore()
    {
        for (var i = 0; i < _sentBefore.Length; i++)
        {
            _sentBefore[i] = Sender.BytesTo[i];
        }
    }

    /// <summary>
    /// The amplification bound on a moved session (RFC 9146 §6 warns that a CID record from a new address may be a
    /// spoofed one, draft-ietf-tls-dtls-rrc limits what an unverified address gets): across the whole input, the server
    /// sends an address a session moved to, until it answers a path_challenge, no more bytes than it received from it.
    /// </summary>
    private void CheckUnprovenAddresses(int source, int received, bool proven)
    {
        for (var i = 0; i < _unproven.Length; i++)
        {
            if (!_unproven[i])
            {
                continue;
            }
            if (i == source)
            {
                _receivedUnproven[i] += received;
                if (proven)
                {
                    _unproven[i] = false;
                    continue;
                }
            }
            _sentUnproven[i] += Sender.BytesTo[i] - _sentBefore[i];
            if (_sentUnproven[i] > _receivedUnproven[i])
            {
                throw new FuzzOracleException(
                    $"the server sent {_sentUnproven[i]} bytes to peer {i}, an address a session moved to and that has not answered a path_challenge, having received {_receivedUnproven[i]} from it");
            }
            if (!Engine.HasState(Peers[i]))
            {
                // The session left (moved on, closed, expired): what the address gets now is a stranger's lot, checked above.
                _unproven[i] = false;
            }
        }
    }

    private void CheckTables()
    {
        var buffered = Engine.MaxBufferedHandshakeBytes();
        if (buffered > Options.MaxReassemblyBytes)
        {
            throw new FuzzOracleException($"one peer holds {buffered} handshake bytes, cap {Options.MaxReassemblyBytes}");
        }
        if (Engine.PendingHelloFragments > HelloFragmentCache.DefaultCapacity)
        {
            throw new FuzzOracleException("the shared ClientHello fragment cache grew past its capacity");
        }
        var statistics = Engine.GetStatistics();
        if (statistics.Sessions > Options.MaxSessions || statistics.HandshakesInProgress > Options.MaxHandshakesInProgress)
        {
            throw new FuzzOracleException(
                $"{statistics.Sessions} peers and {statistics.HandshakesInProgress} handshakes exceed the caps {Options.MaxSessions} and {Options.MaxHandshakesInProgress}");
        }
    }

    public void Dispose() => Engine.Dispose();

    /// <summary>Echoes like the seed server, and notes any delivery the protocol forbids.</summary>
    private sealed class OracleHandler : DtlsServerHandler
    {
        public string? Violation { get; private set; }

        public int Delivered { get; private set; }

        public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
        {
            Delivered++;
            // The engine contains handler exceptions, so a violation is noted here and thrown by the harness.
            if (!((DtlsConnection)session.Channel).PeerFinishedVerified)
            {
                Violation ??= "application data was delivered before the peer's Finished was verified (HOSTILE 34)";
            }
            if (plaintext.Length > session.MaxReceiveSize)
            {
                Violation ??= $"a plaintext of {plaintext.Length} bytes was delivered";
            }
            session.TrySend(plaintext);
        }
    }
}

/// <summary>Counts what the engine sends; the seed recorder also wants the datagrams themselves.</summary>
internal sealed class CountingSender(Action<byte[], SocketAddress>? onSend) : IDatagramSender
{
    public long Datagrams { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Bytes sent to each of <see cref="EngineHarness.Peers"/>.</summary>
    public long[] BytesTo { get; } = new long[EngineHarness.Peers.Length];

    public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        Datagrams++;
        Bytes += datagram.Length;
        for (var i = 0; i < EngineHarness.Peers.Length; i++)
        {
            if (EngineHarness.Peers[i].Equals(peer))
            {
                BytesTo[i] += datagram.Length;
            }
        }
        onSend?.Invoke(datagram.ToArray(), peer);
    }
}
