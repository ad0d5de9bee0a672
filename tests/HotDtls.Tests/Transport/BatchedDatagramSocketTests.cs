using System.Net.Sockets;
using System.Net;
using System.Runtime.InteropServices;
using HotDtls.Server;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Tests.Transport;

/// <summary>recvmmsg/sendmmsg on real loopback sockets (Linux; elsewhere the class reports itself unsupported).</summary>
public sealed class BatchedDatagramSocketTests : IDisposable
{
    private static readonly TimeSpan s_wait = TimeSpan.FromMilliseconds(50);
    private readonly Socket _server = Bound();
    private readonly Socket _peerA = Bound();
    private readonly Socket _peerB = Bound();

    public void Dispose()
    {
        _server.Dispose();
        _peerA.Dispose();
        _peerB.Dispose();
    }

    private static Socket Bound(AddressFamily family = AddressFamily.InterNetwork)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback, 0));
        socket.ReceiveTimeout = 10_000; // A lost datagram fails the test instead of hanging it.
        return socket;
    }

    private BatchedDatagramSocket Batched(int receiveSlotSize = BatchedDatagramSocket.ReceiveSlotSize)
    {
        var batched = new BatchedDatagramSocket(_server, NullLogger.Instance, receiveSlotSize);
        batched.BindToCurrentThread(s_wait);
        return batched;
    }

    /// <summary>Receives until <paramref name="expected"/> datagrams came (the kernel may split them over calls).</summary>
    private static List<(byte[] Data, SocketAddress From)> ReceiveAll(BatchedDatagramSocket batched, int expected)
    {
        var received = new List<(byte[], SocketAddress)>();
        for (var calls = 0; received.Count < expected && calls < 200; calls++)
        {
            var count = batched.Receive(out var error);
            Assert.Equal(SocketError.Success, error);
            for (var i = 0; i < count; i++)
            {
                var from = batched.Sender(i);
                var copy = new SocketAddress(from.Family, from.Size);
                from.Buffer.Span[..from.Size].CopyTo(copy.Buffer.Span);
                received.Add((batched.Datagram(i).ToArray(), copy));
            }
        }
        return received;
    }

    [Fact]
    public void The_structures_have_the_C_layout()
    {
        if (IntPtr.Size != 8)
        {
            return; // The sizes below are the LP64 ones; sequential layout follows the C rules on 32-bit too.
        }
        Assert.Equal(16, Marshal.SizeOf<BatchedDatagramSocket.IoVector>());
        Assert.Equal(56, Marshal.SizeOf<BatchedDatagramSocket.MessageHeader>());
        Assert.Equal(64, Marshal.SizeOf<BatchedDatagramSocket.MultiMessageHeader>());
        Assert.Equal(48, (int)Marshal.OffsetOf<BatchedDatagramSocket.MessageHeader>(nameof(BatchedDatagramSocket.MessageHeader.Flags)));
        Assert.Equal(56, (int)Marshal.OffsetOf<BatchedDatagramSocket.MultiMessageHeader>(nameof(BatchedDatagramSocket.MultiMessageHeader.Length)));
    }

    [Fact]
    public void Supported_on_Linux()
        => Assert.Equal(OperatingSystem.IsLinux(), BatchedDatagramSocket.IsSupported);

    [Fact]
    public void One_call_takes_several_datagrams_with_their_senders()
    {
        if (!BatchedDatagramSocket.IsSupported)
        {
            return;
        }
        var batched = Batched();
        var target = _server.LocalEndPoint!;
        _peerA.SendTo("first"u8, target);
        _peerB.SendTo("second"u8, target);
        _peerA.SendTo("third"u8, target);

        var received = ReceiveAll(batched, 3);

        Assert.Equal(3, received.Count);
        Assert.Equal("first"u8.ToArray(), received[0].Data);
        Assert.Equal("second"u8.ToArray(), received[1].Data);
        Assert.Equal("third"u8.ToArray(), received[2].Data);
        // Equal as SocketAddress compares them: the engine's peer table depends on it.
        Assert.Equal(_peerA.LocalEndPoint!.Serialize(), received[0].From);
        Assert.Equal(_peerB.LocalEndPoint!.Serialize(), received[1].From);
        Assert.Equal(_peerA.LocalEndPoint!.Serialize(), received[2].From);
    }

    [Fact]
    public void An_empty_datagram_comes_through_as_an_empty_span_for_the_engine_to_refuse()
    {
        if (!BatchedDatagramSocket.IsSupported)
        {
            return;
        }
        var batched = Batched();
        _peerA.SendTo([], _server.LocalEndPoint!);
        _peerA.SendTo("after"u8, _server.LocalEndPoint!);

        var received = ReceiveAll(batched, 2);

        Assert.Empty(received[0].Data);
        Assert.Equal(_peerA.LocalEndPoint!.Serialize(), received[0].From);
        Assert.Equal("after"u8.ToArray(), received[1].Data);
    }

    [Fact]
    public void Receive_returns_zero_when_the_timeout_passes_without_datagrams()
    {
        if (!BatchedDatagramSocket.IsSupported)
        {
            return;
        }
        var batched = Batched();

        Assert.Equal(0, batched.Receive(out var error));
        Assert.Equal(SocketError.Success, error);
    }

    [Fact]
    public void A_datagram_larger_than_its_slot_is_reported_truncated()
    {
        if (!BatchedDatagramSocket.IsSupported)
        {
            return;
        }
        var batched = Batched(receiveSlotSize: 64);
        _peerA.SendTo(new byte[100], _server.LocalEndPoint!);
        _peerA.SendTo(new byte[64], _server.LocalEndPoint!);

        var count = 0;
        while (count == 0)
        {
            count = batched.Receive(out _);
        }
        Assert.True(batched.IsTruncated(0));
        Assert.Equal(64, batched.Datagram(0).Length);
        if (count == 1)
        {
            Assert.Equal(1, batched.Receive(out _));
            Assert.False(batched.IsTruncated(0));
        }
        else
        {
            Assert.False(batched.IsTruncated(1));
        }
    }

    [Fact]
    public void Sends_on_the_loop_thread_wait_for_Flush_and_leave_together()
    {
        if (!BatchedDatagramSocket.IsSupported)
        {
            return;
        }
        var batched = Batched();
        var peer = _peerA.LocalEndPoint!.Serialize();

        batched.Send("one"u8, peer);
        batched.Send("two"u8, peer);
        Assert.Equal(2, batched.Queued);
        Assert.Equal(0, _peerA.Available);

        batched.Flush();

        Assert.Equal(0, batched.Queued);
        var buffer = new byte[16];
        Assert.Equal("one", System.Text.Encoding.ASCII.GetString(buffer, 0, _peerA.Receive(buffer)));
        Assert.Equal("two", System.Text.Encoding.ASCII.GetString(buffer, 0, _peerA.Receive(buffer)));
    }

    [Fact]
    public void A_full_queue_is_flushed_before_the_next_send()
    {
        if (!BatchedDatagramSocket.IsSupported)
        {
            return;
        }
        var batched = Batched();
        var peer = _peerA.LocalEndPoint!.Serialize();
        for (var i = 0; i <= BatchedDatagramSocket.BatchSize; i++)
        {
            batched.Send([(byte)i], peer);
        }

        Assert.Equal(1, batched.Queued);
        var buffer = new byte[16];
        for (var i = 0; i < BatchedDatagramSocket.BatchSize; i++)
        {
            Assert.Equal(1, _peerA.Receive(buffer));
            Assert.Equal(i, buffer[0]);
        }
        batched.Flush();
        _peerA.Receive(buffer);
        Assert.Equal(BatchedDatagramSocket.BatchSize, buffer[0]);
    }

    [Fact]
    public void Sends_from_other_threads_and_large_datagrams_leave_at_once()
    {
        if (!BatchedDatagramSocket.IsSupported)
        {
            return;
        }
        var batched = Batched();
        var peer = _peerA.LocalEndPoint!.Serialize();

        // A thread of its own: a thread-pool work item could run on the very thread that bound the socket.
        var other = new Thread(() => batched.Send("elsewhere"u8, peer));
        other.Start();
        other.Join();
        batched.Send(new byte[BatchedDatagramSocket.SendSlotSize + 1], peer);

        Assert.Equal(0, batched.Queued);
        var buffer = new byte[4096];
        Assert.Equal("elsewhere"u8.Length, _peerA.Receive(buffer));
        Assert.Equal(BatchedDatagramSocket.SendSlotSize + 1, _peerA.Receive(buffer));
    }

    [Fact]
    public void A_datagram_the_kernel_refuses_does_not_hold_back_the_rest_of_the_batch()
    {
        if (!BatchedDatagramSocket.IsSupported)
        {
            return;
        }
        var batched = Batched();
        // An IPv6 destination on an IPv4 socket: sendmmsg fails that message (EINVAL/EAFNOSUPPORT) and stops there.
        batched.Send("lost"u8, new IPEndPoint(IPAddress.IPv6Loopback, 9).Serialize());
        batched.Send("kept"u8, _peerA.LocalEndPoint!.Serialize());

        batched.Flush();

        Assert.Equal(0, batched.Queued);
        var buffer = new byte[16];
        Assert.Equal("kept", System.Text.Encoding.ASCII.GetString(buffer, 0, _peerA.Receive(buffer)));
    }

    [Fact]
    public void IPv6_senders_come_back_as_the_runtime_writes_them()
    {
        if (!BatchedDatagramSocket.IsSupported || !Socket.OSSupportsIPv6)
        {
            return;
        }
        using var server = Bound(AddressFamily.InterNetworkV6);
        using var peer = Bound(AddressFamily.InterNetworkV6);
        var batched = new BatchedDatagramSocket(server, NullLogger.Instance);
        batched.BindToCurrentThread(s_wait);
        peer.SendTo("v6"u8, server.LocalEndPoint!);

        var count = 0;
        while (count == 0)
        {
            count = batched.Receive(out _);
        }

        Assert.Equal(peer.LocalEndPoint!.Serialize(), batched.Sender(0));
        Assert.Equal(peer.LocalEndPoint, batched.Sender(0).ToEndPoint());
    }

    [Theory]
    [InlineData(4, SocketError.Interrupted)]
    [InlineData(9, SocketError.NotSocket)]
    [InlineData(11, SocketError.WouldBlock)]
    [InlineData(105, SocketError.NoBufferSpaceAvailable)]
    [InlineData(111, SocketError.ConnectionRefused)]
    [InlineData(9999, SocketError.SocketError)]
    public void Errno_values_map_to_socket_errors(int errno, SocketError expected)
        => Assert.Equal(expected, BatchedDatagramSocket.ToSocketError(errno));
}
