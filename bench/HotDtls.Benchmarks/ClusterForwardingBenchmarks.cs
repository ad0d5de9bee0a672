using System.Net;
using BenchmarkDotNet.Attributes;
using HotDtls.Benchmarks.Support;
using HotDtls.Client;
using HotDtls.Cluster;
using HotDtls.Crypto;
using HotDtls.Records;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Benchmarks;

/// <summary>
/// What a cluster costs per datagram of a CID session whose client the balancer sends to another node (docs/scaling.md):
/// <c>Forwarded</c> runs, on one thread, node 2 receiving the client's record and forwarding it over the node-to-node
/// channel (frame, HMAC), node 1 verifying it and processing the record (open, handler, echo, seal), its answer going back
/// as a Reply frame (frame, HMAC) and node 2 verifying that and handing it to its socket. <c>Direct</c> is node 1 alone
/// receiving the same record from the client and echoing it: the difference is the cluster's extra CPU per round trip,
/// both nodes' together. The channel's sockets are replaced by in-memory calls (the extra latency adds one loopback or
/// LAN hop each way: deploy/cluster.sh measures it end to end). 0 B allocated on both paths.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(RingSize)]
public class ClusterForwardingBenchmarks : IDisposable
{
    private const int RingSize = 16384;
    private const byte Owner = 1;
    private const byte Forwarder = 2;

    private static readonly IPEndPoint s_ownerChannel = new(IPAddress.Parse("10.0.0.1"), 5685);
    private static readonly IPEndPoint s_forwarderChannel = new(IPAddress.Parse("10.0.0.2"), 5685);
    // Where node 2 sees the client (the balancer's upstream socket towards node 2).
    private static readonly SocketAddress s_clientAtForwarder = new IPEndPoint(IPAddress.Parse("127.0.0.10"), 47000).Serialize();

    private InMemoryLink _owner = null!;
    private InMemoryLink _forwarder = null!;
    private ClusterChannel _ownerChannel = null!;
    private ClusterChannel _forwarderChannel = null!;
    private ChannelPipe _toOwner = null!;
    private ChannelPipe _toForwarder = null!;
    private ReplyCounter _replies = null!;
    private ClientEngine _client = null!;
    private byte[] _payload = [];
    private byte[] _ring = [];
    private int _stride;
    private int _next;
    private long _deliveredBefore;
    private long _repliesBefore;

    [Params(64, 1200)]
    public int PayloadLength { get; set; }

    [Params(false, true)]
    public bool Forwarded { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var keys = new DtlsClusterKeys([new byte[32]], [new byte[48]], [Enumerable.Repeat((byte)0xC4, 32).ToArray()]);
        _owner = new InMemoryLink(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, connectionIdLength: 0, cluster: Node(Owner, keys));
        _forwarder = new InMemoryLink(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, connectionIdLength: 0, cluster: Node(Forwarder, keys));
        _replies = new ReplyCounter();
        var ownerRelay = new ClusterRelay([_owner.Engine], Owner, 6, _replies);
        var forwarderRelay = new ClusterRelay([_forwarder.Engine], Forwarder, 6, _replies);
        _toOwner = new ChannelPipe(s_forwarderChannel.Serialize());
        _toForwarder = new ChannelPipe(s_ownerChannel.Serialize());
        var nodes = new Dictionary<byte, IPEndPoint> { [Owner] = s_ownerChannel, [Forwarder] = s_forwarderChannel };
        _ownerChannel = new ClusterChannel(Owner, nodes, _owner.ClusterKeys!, TimeProvider.System, TimeSpan.FromSeconds(1),
            TimeSpan.FromMinutes(10), ownerRelay, NullLogger.Instance, _toForwarder);
        _forwarderChannel = new ClusterChannel(Forwarder, nodes, _forwarder.ClusterKeys!, TimeProvider.System, TimeSpan.FromSeconds(1),
            TimeSpan.FromMinutes(10), forwarderRelay, NullLogger.Instance, _toOwner);
        _toOwner.Target = _ownerChannel;
        _toForwarder.Target = _forwarderChannel;
        _owner.Engine.Forwarder = _ownerChannel;
        _forwarder.Engine.Forwarder = _forwarderChannel;
        _ownerChannel.SendHeartbeats();
        _forwarderChannel.SendHeartbeats();

        _client = _owner.Handshake();
        _owner.Handler.Echo = true;
        if (Forwarded)
        {
            // The client rebinds and the balancer picks node 2: its records reach node 1 through node 2 from now on.
            // Node 1's path check goes to the client through node 2 and the answer comes back: the new address is proven.
            _replies.Capture = true;
            for (var round = 0; round < 4; round++)
            {
                if (round == 0 && !_client.TrySend(new byte[100]))
                {
                    throw new InvalidOperationException("The client did not send.");
                }
                for (var i = 0; i < _owner.ToServer.Count; i++)
                {
                    _forwarder.Engine.ProcessDatagram(s_clientAtForwarder, _owner.ToServer[i]);
                }
                _owner.ToServer.Clear();
                foreach (var reply in _replies.Captured)
                {
                    _client.ProcessDatagram(reply);
                }
                _replies.Captured.Clear();
            }
            if (_owner.Engine.GetStatistics().PeerAddressesProven != 1)
            {
                throw new InvalidOperationException("Node 1 did not see the client's new address proven through node 2.");
            }
            _replies.Capture = false;
        }
        _owner.ServerOutput.Discard = true;
        _payload = new byte[PayloadLength];
        new Random(8).NextBytes(_payload);
        _stride = RecordLayer.RecordSize(CipherSuiteInfo.TryGet((ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, out var info) ? info : null,
            1, PayloadLength) + 6 + 1;
        _ring = new byte[RingSize * _stride];
    }

    private static DtlsClusterOptions Node(byte id, DtlsClusterKeys keys)
    {
        var options = new DtlsClusterOptions { NodeId = id, Keys = keys, ChannelEndPoint = id == Owner ? s_ownerChannel : s_forwarderChannel };
        options.Nodes[Owner] = s_ownerChannel;
        options.Nodes[Forwarder] = s_forwarderChannel;
        return options;
    }

    [IterationSetup]
    public void SealRing()
    {
        for (var i = 0; i < RingSize; i++)
        {
            if (!_client.TrySend(_payload) || _owner.ToServer.Count != 1 || _owner.ToServer[0].Length != _stride)
            {
                throw new InvalidOperationException("The client did not seal one record of the expected size.");
            }
            _owner.ToServer[0].CopyTo(_ring.AsSpan(i * _stride, _stride));
            _owner.ToServer.Clear();
        }
        _next = 0;
        _deliveredBefore = _owner.Handler.Datagrams;
        _repliesBefore = Forwarded ? _replies.Count : _owner.ServerOutput.DiscardedDatagrams;
    }

    [Benchmark]
    public void ReceiveAndEcho()
    {
        var slot = _next++;
        if (Forwarded)
        {
            _forwarder.Engine.ProcessDatagram(s_clientAtForwarder, _ring.AsSpan(slot * _stride, _stride));
        }
        else
        {
            _owner.Engine.ProcessDatagram(_owner.ClientAddress, _ring.AsSpan(slot * _stride, _stride));
        }
    }

    [IterationCleanup]
    public void CheckAllEchoed()
    {
        var delivered = _owner.Handler.Datagrams - _deliveredBefore;
        var echoed = (Forwarded ? _replies.Count : _owner.ServerOutput.DiscardedDatagrams) - _repliesBefore;
        if (delivered != _next || echoed != _next)
        {
            throw new InvalidOperationException($"Node 1 delivered {delivered} and {echoed} echoes reached the client's side of {_next} records.");
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _client?.Dispose();
        _ownerChannel?.Dispose();
        _forwarderChannel?.Dispose();
        _owner?.Dispose();
        _forwarder?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The channel socket between the two nodes, as a call: a frame sent is processed by the other node at once.</summary>
    private sealed class ChannelPipe(SocketAddress from) : IDatagramSender
    {
        private readonly byte[] _frame = new byte[ClusterFrame.MaxFrameLength];

        public ClusterChannel? Target { get; set; }

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
        {
            // A copy, as the kernel makes one: the sender's buffer goes back to its pool when Send returns.
            datagram.CopyTo(_frame);
            Target!.ProcessFrame(from, _frame.AsSpan(0, datagram.Length));
        }
    }

    /// <summary>Node 2's DTLS socket: counts what it sends to clients (and keeps it while setting up).</summary>
    private sealed class ReplyCounter : IDatagramSender
    {
        public bool Capture { get; set; }

        public List<byte[]> Captured { get; } = [];

        public long Count { get; private set; }

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
        {
            Count++;
            if (Capture)
            {
                Captured.Add(datagram.ToArray());
            }
        }
    }
}
