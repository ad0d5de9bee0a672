using System.Net;
using System.Text;
using HotDtls.Client;
using HotDtls.Fuzz.Targets;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Fuzz;

/// <summary>
/// Records the HotDtls seed corpora: HotDtls's own client talks to the fuzzing harness's engine in memory, once per
/// key exchange and record protection (plain PSK with AES-128-GCM, ECDHE_PSK over X25519 — the default — and P-256,
/// PSK with AES-128-CCM_8, ChaCha20-Poly1305 and AES-128-CBC with encrypt_then_mac), and fragmented, lossy, packed,
/// from several peers, after a client reboot, and with Connection IDs through a NAT rebinding. Each conversation becomes an engine input; its datagrams, handshake
/// messages, hellos and fragments become the other targets' seeds. Run it in the Fuzz configuration: records are
/// then sealed in clear and ephemeral ECDH keys come from the seeded randomness, so the conversations replay exactly
/// and the fuzzer can mutate what the records carry.
/// </summary>
internal static partial class SeedCorpus
{
    public static void Write(string directory, TextWriter log)
    {
        var corpus = new Corpus(directory, "hotdtls");
        // One conversation per key exchange and record protection; the server (the harness) offers every suite and
        // picks the client's only one, or by its own preference from the default list (ECDHE_PSK AES-128-GCM, X25519).
        Record(corpus, "plain", static s => s.Suites(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256).Handshake(0).Echo(0, 3).CloseNotify(0));
        Record(corpus, "ecdhe-x25519", static s => s.Handshake(0).Echo(0, 2).CloseNotify(0));
        Record(corpus, "ecdhe-p256", static s => s.Groups(NamedGroup.Secp256r1).Handshake(0).Echo(0, 2).CloseNotify(0));
        Record(corpus, "psk-ccm8", static s => s.Suites(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8).Handshake(0).Echo(0, 2).CloseNotify(0));
        Record(corpus, "psk-chacha20", static s => s.Suites(CipherSuite.TLS_PSK_WITH_CHACHA20_POLY1305_SHA256).Handshake(0).Echo(0, 2).CloseNotify(0));
        Record(corpus, "psk-cbc", static s => s.Suites(CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256).Handshake(0).Echo(0, 2).CloseNotify(0));
        // The rest with the default client (every suite offered, ECDHE_PSK first).
        Record(corpus, "fragmented", static s => s.Fragment(24).Handshake(0).Echo(0, 2));
        Record(corpus, "lossy", static s => s.DropNextServerDatagrams(1).Handshake(0).Echo(0, 2));
        Record(corpus, "packed", static s => s.Handshake(0).EchoPacked(0, 3));
        Record(corpus, "two-peers", static s => s.Handshake(0).Handshake(3).Echo(3, 1).Echo(0, 1));
        Record(corpus, "reboot", static s => s.Handshake(1).Echo(1, 1).Reboot(1).Handshake(1).Echo(1, 1));
        Record(corpus, "identity-128", static s => s.Identity(new string('i', 128)).Handshake(2).Echo(2, 1));
        Record(corpus, "idle", static s => s.Handshake(0).Idle(60_000).Idle(60_000).Idle(60_000).Idle(60_000).Idle(60_000).Echo(0, 1));
        Record(corpus, "stranger", static s => s.StrangerHellos());
        // Connection ID (RFC 9146): the client offers connection_id (and rrc), the harness's server issues its default
        // 6-byte CIDs; the client asks for none (0) or for 4 bytes. After some data the client's NAT rebinds it to
        // another of the harness's addresses: its tls12_cid records move the session there, the server challenges the
        // new address (path_challenge, bounded by what came from there) and the client's path_response proves it.
        // Their own recorder (hotdtls-cid-*, flushed after hotdtls-*, which would take them too), so the other targets'
        // caps, full with the conversations above, still leave room for the tls12_cid datagrams.
        corpus.Flush(log);
        var cid = new Corpus(directory, "hotdtls-cid", corpus);
        Record(cid, "0-rebind", static s => s.ConnectionId(0).Handshake(0).Echo(0, 2).Rebind(0, 2).Echo(2, 2).ExpectMovedAndProven(1)
            .CloseNotify(2));
        Record(cid, "4-rebind", static s => s.ConnectionId(4).Handshake(1).Echo(1, 1).Rebind(1, 3).Echo(3, 1).ExpectMovedAndProven(1)
            .Rebind(3, 0).Echo(0, 1).ExpectMovedAndProven(2).Echo(0, 1));
        cid.Flush(log);
    }

    /// <summary>
    /// The Connection ID conversations again in a normal build, with real cryptography (<c>real-cid-*</c>, engine seeds
    /// only): PSK with AES-128-GCM, whose replay needs no fresh randomness, so the tests' replay (a normal build) reaches
    /// the move, the path_challenge and its answer, and the engine oracle checks the bound on real records.
    /// </summary>
    public static int WriteRealConnectionId(string directory, TextWriter log)
    {
        if (FuzzingBuild.Enabled)
        {
            log.WriteLine("record-cid needs a normal build (dotnet run --project fuzz/HotDtls.Fuzz -c Release -- record-cid DIR)");
            return 2;
        }
        var corpus = new Corpus(directory, "real-cid") { EngineOnly = true };
        Record(corpus, "0-rebind", static s => s.Suites(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256).ConnectionId(0).Handshake(0).Echo(0, 2)
            .Rebind(0, 2).Echo(2, 2).ExpectMovedAndProven(1).CloseNotify(2));
        Record(corpus, "4-rebind", static s => s.Suites(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256).ConnectionId(4).Handshake(1).Echo(1, 1)
            .Rebind(1, 3).Echo(3, 1).ExpectMovedAndProven(1).Rebind(3, 0).Echo(0, 1).ExpectMovedAndProven(2).Echo(0, 1));
        corpus.Flush(log);
        return 0;
    }

    private static void Record(Corpus corpus, string name, Func<Script, Script> script)
    {
        using var run = new Script(corpus);
        script(run);
        corpus.AddEngine(name, run.Steps.ToArray());
    }

    /// <summary>One recorded conversation: the engine steps, and every datagram seen both ways.</summary>
    private sealed partial class Script : IDisposable
    {
        private readonly Corpus _corpus;
        private readonly EngineHarness _harness;
        private readonly List<(byte[] Datagram, SocketAddress Peer)> _toClients = [];
        private readonly Client?[] _clients = new Client?[4];
        private int _pendingAdvance;
        private int _fragmentSize;
        private int _dropServerDatagrams;
        private string _identity = "Qt DTLS example client";
        private CipherSuite[]? _suites;
        private NamedGroup[]? _groups;
        private int? _connectionIdLength;
        private int _seed = 11;

        public Script(Corpus corpus, bool resumption = false)
        {
            _corpus = corpus;
            _harness = new EngineHarness((datagram, peer) => _toClients.Add((datagram, peer)), resumption);
        }

        public MemoryStream Steps { get; } = new();

        public Script Fragment(int size)
        {
            _fragmentSize = size;
            return this;
        }

        public Script Identity(string identity)
        {
            _identity = identity;
            return this;
        }

        /// <summary>The suites the clients offer, most preferred first (default: <see cref="DtlsOptions.DefaultCipherSuites"/>).</summary>
        public Script Suites(params CipherSuite[] suites)
        {
            _suites = suites;
            return this;
        }

        /// <summary>The groups the clients offer for ECDHE_PSK (default: X25519, then secp256r1).</summary>
        public Script Groups(params NamedGroup[] groups)
        {
            _groups = groups;
            return this;
        }

        /// <summary>The CID length the clients ask for (RFC 9146 §3; null, the default: connection_id is not offered).</summary>
        public Script ConnectionId(int? length)
        {
            _connectionIdLength = length;
            return this;
        }

        /// <summary>
        /// The client at <paramref name="peer"/> is rebound by its NAT to the address of <paramref name="newPeer"/>: the
        /// same client, its next datagrams from there, the server's answers (and path_challenge) going there.
        /// </summary>
        public Script Rebind(int peer, int newPeer)
        {
            if (_clients[newPeer] is not null)
            {
                throw new InvalidOperationException($"peer {newPeer} already has a client");
            }
            _clients[newPeer] = _clients[peer];
            _clients[peer] = null;
            return this;
        }

        /// <summary>Checks the recording did what it is named for: the session moved, and the new address answered the challenge.</summary>
        public Script ExpectMovedAndProven(int moves)
        {
            var statistics = _harness.Engine.GetStatistics();
            if (statistics.PeerAddressChanges != moves || statistics.PeerAddressesProven != moves)
            {
                throw new InvalidOperationException(
                    $"seed expected {moves} moves proven, saw {statistics.PeerAddressChanges} moves, {statistics.PeerAddressesProven} proven");
            }
            return this;
        }

        public Script DropNextServerDatagrams(int count)
        {
            _dropServerDatagrams = count;
            return this;
        }

        public Script Handshake(int peer)
        {
            var client = _clients[peer] ??= new Client(this, peer, _identity, _seed++);
            client.Engine.Start();
            Pump();
            for (var round = 0; round < 8 && !client.Established; round++)
            {
                Idle(1000);
            }
            if (!client.Established)
            {
                throw new InvalidOperationException($"seed handshake for peer {peer} did not complete: {_harness.Engine.GetStatistics()}, client state {client.Engine.Connection.State}");
            }
            // The server takes the first suite of its own list the client offers: the client's only one, or the default's first.
            var expected = _suites?[0] ?? DtlsOptions.DefaultCipherSuites[0];
            if (client.Engine.NegotiatedSuite != expected)
            {
                throw new InvalidOperationException($"seed handshake for peer {peer} negotiated {client.Engine.NegotiatedSuite}, not {expected}");
            }
            return this;
        }

        public Script Echo(int peer, int count)
        {
            for (var i = 0; i < count; i++)
            {
                _clients[peer]!.Engine.TrySend(Encoding.UTF8.GetBytes($"I am peer {peer}, please, accept our ping {i}"));
                Pump();
            }
            return this;
        }

        /// <summary>Several application records in one datagram (RFC 6347 §4.1.1 allows packing).</summary>
        public Script EchoPacked(int peer, int count)
        {
            var client = _clients[peer]!;
            for (var i = 0; i < count; i++)
            {
                client.Engine.TrySend(Encoding.UTF8.GetBytes($"packed ping {i}"));
            }
            var packed = new List<byte>();
            foreach (var datagram in client.Outbox)
            {
                packed.AddRange(datagram);
            }
            client.Outbox.Clear();
            client.Outbox.Add([.. packed]);
            Pump();
            return this;
        }

        public Script CloseNotify(int peer)
        {
            _clients[peer]!.Engine.Close();
            Pump();
            return this;
        }

        /// <summary>The client forgets its session and starts again from the same address and port (RFC 6347 §4.2.8).</summary>
        public Script Reboot(int peer)
        {
            _clients[peer]!.Engine.Dispose();
            _clients[peer] = null;
            return this;
        }

        public Script Idle(int milliseconds)
        {
            _pendingAdvance += milliseconds;
            _harness.Advance(milliseconds);
            foreach (var client in _clients)
            {
                client?.Engine.OnTick();
            }
            Pump();
            return this;
        }

        /// <summary>Cookieless hellos from every peer, whole and in fragments: what a spoofer can send.</summary>
        public Script StrangerHellos()
        {
            for (var peer = 0; peer < 4; peer++)
            {
                using var client = new Client(this, peer, _identity, _seed++);
                client.Engine.Start();
                var hello = client.Outbox[0];
                client.Outbox.Clear();
                Deliver(peer, hello);
                foreach (var fragment in Refragment(hello, 40, wholeCookielessHello: false))
                {
                    Deliver(peer, fragment);
                }
            }
            _toClients.Clear();
            return this;
        }

        private long Now => _harness.Time.GetMonotonicMilliseconds();

        private void Pump()
        {
            for (var round = 0; round < 50; round++)
            {
                var moved = false;
                for (var peer = 0; peer < _clients.Length; peer++)
                {
                    if (_clients[peer] is not { } client)
                    {
                        continue;
                    }
                    var outbox = client.Outbox.ToArray();
                    client.Outbox.Clear();
                    foreach (var datagram in outbox)
                    {
                        moved = true;
                        if (_fragmentSize > 0)
                        {
                            foreach (var fragment in Refragment(datagram, _fragmentSize))
                            {
                                Deliver(peer, fragment);
                            }
                        }
                        else
                        {
                            Deliver(peer, datagram);
                        }
                    }
                }
                var replies = _toClients.ToArray();
                _toClients.Clear();
                foreach (var (datagram, to) in replies)
                {
                    moved = true;
                    _corpus.AddDatagram(datagram);
                    if (_dropServerDatagrams > 0)
                    {
                        _dropServerDatagrams--;
                        continue;
                    }
                    for (var peer = 0; peer < _clients.Length; peer++)
                    {
                        if (_clients[peer] is { } client && EngineHarness.Peers[peer].Equals(to))
                        {
                            client.Receive(datagram);
                        }
                    }
                }
                if (!moved)
                {
                    return;
                }
            }
        }

        private void Deliver(int peer, byte[] datagram)
        {
            EngineTarget.WriteStep(Steps, peer, _pendingAdvance, datagram);
            _pendingAdvance = 0;
            // The client's handshake messages too (ClientHello, ClientKeyExchange of each key exchange), not only the server's.
            _corpus.AddDatagramAndMessages(datagram);
            _harness.Deliver(peer, datagram);
        }

        /// <summary>
        /// Splits every epoch-0 handshake record into fragments of <paramref name="size"/> bytes, one record each.
        /// Sequence numbers are spread (seq × 64 + i) so the fragments stay distinct for the replay window.
        /// </summary>
        private IEnumerable<byte[]> Refragment(byte[] datagram, int size, bool wholeCookielessHello = true)
        {
            var output = new List<byte[]>();
            var reader = new DatagramReader(datagram);
            while (reader.TryReadRecord(out var record, out var offset))
            {
                var body = datagram.AsSpan(offset, record.Length);
                if (record.Type != ContentType.Handshake || record.Epoch != 0 || !HandshakeHeader.TryRead(body, out var header))
                {
                    var copy = datagram.AsSpan(offset - RecordHeader.Size, RecordHeader.Size + record.Length).ToArray();
                    if (record.Epoch == 0)
                    {
                        new RecordHeader(record.Type, record.Version, 0, record.SequenceNumber * 64, record.Length).Write(copy);
                    }
                    output.Add(copy);
                    continue;
                }
                var message = body[HandshakeHeader.Size..];
                _corpus.AddHandshake(body.ToArray());
                var cookieless = false;
                if (header.MsgType == HandshakeType.ClientHello)
                {
                    _corpus.AddClientHello(message.ToArray());
                    cookieless = ClientHello.TryParseCookiePrefix(message, out _, out _, out var cookie) && cookie.IsEmpty;
                }
                if (cookieless && wholeCookielessHello)
                {
                    // The server keeps no fragments of a hello without a cookie (HOSTILE 18), and real clients never
                    // fragment their first hello, so it goes whole.
                    var whole = datagram.AsSpan(offset - RecordHeader.Size, RecordHeader.Size + record.Length).ToArray();
                    new RecordHeader(record.Type, record.Version, 0, record.SequenceNumber * 64, record.Length).Write(whole);
                    output.Add(whole);
                    continue;
                }
                var fragments = new List<byte>();
                var index = 0UL;
                for (var start = 0; start < Math.Max(message.Length, 1); start += size, index++)
                {
                    var length = Math.Min(size, message.Length - start);
                    var bytes = new byte[RecordHeader.Size + HandshakeHeader.Size + length];
                    new RecordHeader(record.Type, record.Version, 0, (record.SequenceNumber * 64) + index, (ushort)(HandshakeHeader.Size + length))
                        .Write(bytes);
                    var fragmentHeader = new HandshakeHeader(header.MsgType, header.Length, header.MessageSeq, start, length);
                    fragmentHeader.Write(bytes.AsSpan(RecordHeader.Size));
                    message.Slice(start, length).CopyTo(bytes.AsSpan(RecordHeader.Size + HandshakeHeader.Size));
                    output.Add(bytes);
                    fragments.AddRange(bytes.AsSpan(RecordHeader.Size).ToArray());
                }
                _corpus.AddFragments(fragments.ToArray());
            }
            // Handshake fragments go out last-first, the hard order for a reassembler; a ChangeCipherSpec or an
            // epoch-1 record keeps its place after them.
            var handshake = output.FindAll(static r => r[0] == (byte)ContentType.Handshake && r[3] == 0 && r[4] == 0);
            handshake.Reverse();
            handshake.AddRange(output.FindAll(static r => !(r[0] == (byte)ContentType.Handshake && r[3] == 0 && r[4] == 0)));
            return handshake;
        }

        public void Dispose()
        {
            foreach (var client in _clients)
            {
                client?.Dispose();
            }
            _harness.Dispose();
        }

        /// <summary>HotDtls's client state machine on one of the harness's peer addresses.</summary>
        private sealed class Client : IClientEvents, IDatagramSender, IDisposable
        {
            private readonly Script _script;

            public Client(Script script, int peer, string identity, int seed)
            {
                _script = script;
                var options = new DtlsClientOptions
                {
                    PskIdentity = identity,
                    PskKey = EngineHarness.Key,
                    TimeProvider = script._harness.Time,
                };
                if (script._suites is { } suites)
                {
                    options.CipherSuites.Clear();
                    foreach (var suite in suites)
                    {
                        options.CipherSuites.Add(suite);
                    }
                }
                if (script._groups is { } groups)
                {
                    options.NamedGroups.Clear();
                    foreach (var group in groups)
                    {
                        options.NamedGroups.Add(group);
                    }
                }
                script.ConfigureResumption(options);
                options.ConnectionIdLength = script._connectionIdLength;
                options.ValidateClient();
                _ = peer;
                Engine = new ClientEngine(options, script._harness.Options.EndPoint!.Serialize(), this, this,
                    new DeterministicRandom(seed));
            }

            public ClientEngine Engine { get; }

            public List<byte[]> Outbox { get; } = [];

            public bool Established { get; private set; }

            /// <summary>Records the datagram's epoch-0 handshake records as seeds, then lets the client process it.</summary>
            public void Receive(byte[] datagram)
            {
                var copy = (byte[])datagram.Clone();
                var reader = new DatagramReader(copy);
                while (reader.TryReadRecord(out var header, out var offset))
                {
                    if (header.Type == ContentType.Handshake && header.Epoch == 0)
                    {
                        _script._corpus.AddHandshake(copy.AsSpan(offset, header.Length).ToArray());
                    }
                }
                Engine.ProcessDatagram(copy);
            }

            void IDatagramSender.Send(ReadOnlySpan<byte> datagram, SocketAddress peer) => Outbox.Add(datagram.ToArray());

            public void OnEstablished() => Established = true;

            public void OnApplicationData(ReadOnlySpan<byte> plaintext)
            {
            }

            public void OnClosed(DtlsCloseReason reason, DtlsError error, AlertDescription? alert)
            {
            }

            public void OnDropped(DropReason reason)
            {
            }

            public void Dispose() => Engine.Dispose();
        }
    }
}
