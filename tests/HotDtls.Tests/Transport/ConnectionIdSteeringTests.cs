using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using HotDtls.Tests.Support;
using HotDtls.Transport;
using static HotDtls.Transport.ConnectionIdSteering;

namespace HotDtls.Tests.Transport;

/// <summary>
/// The CID steering program: its instructions, and what the Linux kernel does with it on a real SO_REUSEPORT group on
/// loopback. Every datagram is waited for (with a timeout); nothing sleeps.
/// </summary>
public sealed class ConnectionIdSteeringTests
{
    private const string Feature = "SO_ATTACH_REUSEPORT_CBPF";
    private const int SolSocket = 1;
    private const int SoReusePort = 15;
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(5);

    // Many senders, each on its own source port: the 4-tuple hash alone spreads them over the group, so a datagram on
    // the socket its loop byte names is the program's doing (Without_the_program_the_same_senders_scatter checks it).
    private const int Senders = 32;

    [Fact]
    public void The_program_is_the_documented_one()
    {
        (ushort Code, byte Jt, byte Jf, uint K)[] expected =
        [
            (0x80, 0, 0, 0),           // ld len
            (0x35, 0, 4, 13),          // jge #13 (type + version + epoch + sequence + cid[0..1]), else → 6
            (0x30, 0, 0, 0),           // ldb [0]
            (0x15, 0, 2, 25),          // jeq #25 (tls12_cid), else → 6
            (0x30, 0, 0, 12),          // ldb [12] (cid[1], the loop index)
            (0x16, 0, 0, 0),           // ret a
            (0x06, 0, 0, 0xFFFFFFFF),  // ret #0xFFFFFFFF (fall back to the hash)
        ];
        var program = ConnectionIdSteering.Program.ToArray();
        Assert.Equal(expected, program.Select(i => (i.Code, i.JumpIfTrue, i.JumpIfFalse, i.K)).ToArray());
        Assert.Equal(12, LoopIndexOffset);
        Assert.Equal(13, MinimumSteeredLength);
    }

    [Fact]
    public void The_routing_bytes_go_where_the_program_reads_them()
    {
        var cid = new byte[] { 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA };
        WriteRoutingBytes(cid, nodeId: 7, loopIndex: 3);
        Assert.Equal(new byte[] { 7, 3, 0xAA, 0xAA, 0xAA, 0xAA }, cid);

        var record = new byte[CidOffset + cid.Length + 2];
        record[0] = Tls12Cid;
        cid.CopyTo(record.AsSpan(CidOffset));
        Assert.Equal(3, record[(int)ConnectionIdSteering.Program[4].K]); // The program's ldb [k].
    }

    [Theory]
    [InlineData(3, 0)]
    [InlineData(11, 0)]
    [InlineData(4, 256)]
    [InlineData(4, -1)]
    public void Routing_bytes_outside_the_layout_are_refused(int length, int loopIndex)
        => Assert.Throws<ArgumentOutOfRangeException>(() => WriteRoutingBytes(new byte[length], 0, loopIndex));

    [Fact]
    public void An_instruction_has_the_layout_of_struct_sock_filter()
    {
        Assert.Equal(8, Marshal.SizeOf<SocketFilter>());
        Assert.Equal(2, (int)Marshal.OffsetOf<SocketFilter>("<JumpIfTrue>k__BackingField"));
        Assert.Equal(3, (int)Marshal.OffsetOf<SocketFilter>("<JumpIfFalse>k__BackingField"));
        Assert.Equal(4, (int)Marshal.OffsetOf<SocketFilter>("<K>k__BackingField"));
    }

    [LinuxTheory(Feature)]
    [InlineData(2)]
    [InlineData(4)]
    public void A_cid_record_arrives_on_the_socket_its_loop_byte_names(int loops)
    {
        using var group = Group.Bind(loops);
        Assert.True(TryAttach(group.Sockets[0], loops, out var error), error);
        Assert.Null(error);

        var lengths = new[] { MinimumSteeredLength, CidOffset + 4 + 2, 200 }; // the shortest steered; L = 4 header; a record
        for (var sender = 0; sender < Senders; sender++)
        {
            using var client = Client();
            var loop = sender % loops;
            var datagram = CidRecord(loop, lengths[sender % lengths.Length], tag: sender);
            client.SendTo(datagram, group.EndPoint);

            Assert.Equal(datagram, group.ReceiveOn(loop));
        }
        group.AssertNothingElseArrived();
    }

    [LinuxTheory(Feature)]
    [InlineData(2)]
    [InlineData(4)]
    public void Datagrams_the_program_does_not_steer_go_where_the_hash_sends_them(int loops)
    {
        using var group = Group.Bind(loops);
        Assert.True(TryAttach(group.Sockets[0], loops, out var error), error);

        var hashed = new HashSet<int>();
        for (var sender = 0; sender < Senders; sender++)
        {
            using var client = Client();
            // The kernel's hash of this 4-tuple, shown by a record the program has no opinion on.
            client.SendTo(Record(contentType: 23, length: 100, tag: sender), group.EndPoint);
            var (home, _) = group.ReceiveAnywhere();
            hashed.Add(home);

            byte[][] fallBacks =
            [
                CidRecord(loop: loops, length: 100, tag: sender),        // a loop the group does not have
                CidRecord(loop: 255, length: 100, tag: sender),
                CidRecord(loop: 0, length: MinimumSteeredLength - 1, tag: sender), // no loop byte
                [Tls12Cid],
                [],
                Record(contentType: 22, length: 100, tag: sender),       // a handshake record, say a ClientHello
            ];
            foreach (var datagram in fallBacks)
            {
                client.SendTo(datagram, group.EndPoint);
                var (socket, received) = group.ReceiveAnywhere();
                Assert.Equal(datagram, received);
                Assert.True(socket == home, $"a {datagram.Length}-byte datagram from sender {sender} went to socket {socket}, its hash to {home}");
            }
        }
        // A runt stopped by a load past the end would come back as index 0: all of them on socket 0, not spread.
        Assert.True(hashed.Count > 1, "the hash put every sender on one socket");
        group.AssertNothingElseArrived();
    }

    [LinuxFact(Feature)]
    public void Without_the_program_the_same_senders_scatter()
    {
        using var group = Group.Bind(2);
        var sockets = new HashSet<int>();
        for (var sender = 0; sender < Senders; sender++)
        {
            using var client = Client();
            client.SendTo(CidRecord(loop: 0, length: 100, tag: sender), group.EndPoint);
            sockets.Add(group.ReceiveAnywhere().Socket);
        }
        Assert.Equal(2, sockets.Count);
    }

    [LinuxFact(Feature)]
    public void Attaching_through_any_member_steers_the_whole_group_including_members_bound_later()
    {
        using var group = Group.Bind(2);
        Assert.True(TryAttach(group.Sockets[1], 3, out var error), error);
        group.Add();

        for (var sender = 0; sender < Senders; sender++)
        {
            using var client = Client();
            var loop = sender % 3;
            var datagram = CidRecord(loop, 64, sender);
            client.SendTo(datagram, group.EndPoint);
            Assert.Equal(datagram, group.ReceiveOn(loop));
        }
        group.AssertNothingElseArrived();
    }

    [LinuxFact(Feature)]
    public void A_socket_without_SO_REUSEPORT_is_refused_with_a_reason()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Assert.False(TryAttach(socket, 2, out var error));
        Assert.Contains("SO_REUSEPORT", error, StringComparison.Ordinal);
    }

    [LinuxFact(Feature)]
    public void More_loops_than_a_byte_can_name_are_refused()
    {
        using var group = Group.Bind(1);
        Assert.False(TryAttach(group.Sockets[0], MaxLoops + 1, out var error));
        Assert.Contains("256", error, StringComparison.Ordinal);
        Assert.True(TryAttach(group.Sockets[0], MaxLoops, out error), error);
    }

    [LinuxFact(Feature)]
    public void A_tcp_socket_is_refused()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        Assert.False(TryAttach(socket, 2, out var error));
        Assert.Contains("UDP", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Off_Linux_it_says_so()
    {
        if (OperatingSystem.IsLinux())
        {
            return; // The Linux behaviour is the rest of this class.
        }
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        Assert.False(TryAttach(socket, 2, out var error));
        Assert.Contains("Linux", error, StringComparison.Ordinal);
    }

    /// <summary>
    /// A record header with a 4-byte CID (node 0, <paramref name="loop"/>, two tag bytes) and a length, padded to
    /// <paramref name="length"/> bytes (cut short where that is shorter than the header).
    /// </summary>
    private static byte[] CidRecord(int loop, int length, int tag)
    {
        var datagram = Record(Tls12Cid, Math.Max(length, CidOffset + 4 + 2), tag);
        datagram[CidOffset + NodeIdIndex] = 0;
        datagram[CidOffset + LoopIndexIndex] = (byte)loop;
        datagram[CidOffset + 2] = (byte)(tag >> 8);
        datagram[CidOffset + 3] = (byte)tag;
        var fragment = datagram.Length - (CidOffset + 4 + 2);
        datagram[CidOffset + 4] = (byte)(fragment >> 8);
        datagram[CidOffset + 5] = (byte)fragment;
        return datagram[..length];
    }

    /// <summary>type, DTLS 1.2, epoch 1, the tag as sequence number; the rest patterned.</summary>
    private static byte[] Record(byte contentType, int length, int tag)
    {
        var datagram = new byte[length];
        for (var i = 0; i < length; i++)
        {
            datagram[i] = (byte)(i * 7 + tag);
        }
        datagram[0] = contentType;
        datagram[1] = 0xFE;
        datagram[2] = 0xFD;
        datagram[3] = 0;
        datagram[4] = 1;
        datagram[9] = (byte)(tag >> 8);
        datagram[10] = (byte)tag;
        return datagram;
    }

    private static Socket Client()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return socket;
    }

    /// <summary>UDP sockets bound with SO_REUSEPORT to one 127.0.0.1 port, in bind order (the kernel's index order).</summary>
    private sealed class Group : IDisposable
    {
        private readonly List<Socket> _sockets = [];

        private Group()
        {
        }

        public IReadOnlyList<Socket> Sockets => _sockets;

        public IPEndPoint EndPoint { get; private set; } = new(IPAddress.Loopback, 0);

        public static Group Bind(int count)
        {
            var group = new Group();
            for (var i = 0; i < count; i++)
            {
                group.Add();
            }
            return group;
        }

        public void Add()
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
            socket.Bind(EndPoint);
            socket.ReceiveTimeout = (int)s_wait.TotalMilliseconds; // A misrouted datagram fails the test instead of hanging it.
            EndPoint = (IPEndPoint)socket.LocalEndPoint!;
            _sockets.Add(socket);
        }

        /// <summary>The next datagram on socket <paramref name="index"/>; fails if none comes within the wait.</summary>
        public byte[] ReceiveOn(int index)
        {
            var buffer = new byte[2048];
            try
            {
                return buffer[.._sockets[index].Receive(buffer)];
            }
            catch (SocketException exception) when (exception.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                var elsewhere = string.Join(", ", _sockets.Select((s, i) => $"socket {i}: {s.Available} bytes waiting"));
                Assert.Fail($"nothing arrived on socket {index} within {s_wait.TotalSeconds} s ({elsewhere})");
                throw;
            }
        }

        /// <summary>The next datagram on whichever socket it arrived.</summary>
        public (int Socket, byte[] Datagram) ReceiveAnywhere()
        {
            var readable = _sockets.ToList();
            Socket.Select(readable, null, null, s_wait);
            Assert.True(readable.Count == 1, $"expected one socket with a datagram, found {readable.Count}");
            var index = _sockets.IndexOf(readable[0]);
            return (index, ReceiveOn(index));
        }

        public void AssertNothingElseArrived()
        {
            // Loopback delivers into the receiving socket's queue before sendto returns, so anything misrouted is
            // already waiting.
            for (var i = 0; i < _sockets.Count; i++)
            {
                Assert.True(_sockets[i].Available == 0, $"socket {i} has {_sockets[i].Available} bytes nobody expected");
            }
        }

        public void Dispose()
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
        }
    }
}
