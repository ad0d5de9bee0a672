using System.Net;
using System.Net.Sockets;

namespace HotDtls.Load.Tests;

/// <summary>recvmmsg and sendmmsg through the written-out struct layouts, between two connected loopback sockets.</summary>
public sealed class MessageBatchTests : IDisposable
{
    private readonly Socket _a = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly Socket _b = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

    public MessageBatchTests()
    {
        _a.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _b.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _a.Connect(_b.LocalEndPoint!);
        _b.Connect(_a.LocalEndPoint!);
        _b.Blocking = false;
    }

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private static byte[] Datagram(int length, byte seed)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
        {
            bytes[i] = (byte)(seed + i);
        }
        return bytes;
    }

    private void WaitReadable() => Assert.True(_b.Poll(TimeSpan.FromSeconds(5), SelectMode.SelectRead));

    [Fact]
    public void One_sendmmsg_delivers_every_queued_datagram_whole_and_in_order()
    {
        var send = new MessageBatch(4, 2048);
        byte[][] sent = [Datagram(1, 1), Datagram(1200, 2), Datagram(2048, 3)];
        foreach (var datagram in sent)
        {
            Assert.True(send.TryAdd(datagram));
        }
        Assert.Equal(3, send.Count);
        Assert.Equal(0, send.Send((int)_a.Handle, out var errno));
        Assert.Equal(0, errno);
        Assert.Equal(0, send.Count);

        var receive = new MessageBatch(8, 2048);
        var got = new List<byte[]>();
        while (got.Count < sent.Length)
        {
            WaitReadable();
            var n = receive.Receive((int)_b.Handle, 8);
            Assert.True(n > 0);
            for (var i = 0; i < n; i++)
            {
                Assert.False(receive.Truncated(i));
                got.Add(receive.Datagram(i).ToArray());
            }
        }
        Assert.Equal(sent, got);
        Assert.Equal(0, receive.Receive((int)_b.Handle, 8)); // empty: nothing waits, and no wait
    }

    [Fact]
    public void Runs_of_equal_datagrams_sent_as_one_gso_message_arrive_as_the_same_datagrams()
    {
        // 5 × 1237 bytes (a 1200-byte payload sealed with AES-GCM), then 2 shorter, then 1 more of 1237: three messages.
        var send = new MessageBatch(8, 2048);
        var sent = new List<byte[]>();
        for (var i = 0; i < 8; i++)
        {
            var datagram = Datagram(i is 5 or 6 ? 300 : 1237, (byte)(i * 17));
            sent.Add(datagram);
            Assert.True(send.TryAdd(datagram));
        }
        Assert.Equal(0, send.Send((int)_a.Handle, out _));

        var receive = new MessageBatch(8, 2048);
        var got = new List<byte[]>();
        while (got.Count < sent.Count)
        {
            WaitReadable();
            var n = receive.Receive((int)_b.Handle, 8);
            for (var i = 0; i < n; i++)
            {
                got.Add(receive.Datagram(i).ToArray());
            }
        }
        Assert.Equal(sent, got);
    }

    [Fact]
    public void Receive_takes_no_more_than_asked_and_marks_a_datagram_cut_to_fit()
    {
        for (var i = 0; i < 3; i++)
        {
            _a.Send(Datagram(100, (byte)i));
        }
        _a.Send(Datagram(300, 9));
        var receive = new MessageBatch(4, 256);
        WaitReadable();
        Thread.Sleep(50); // let all four arrive
        Assert.Equal(2, receive.Receive((int)_b.Handle, 2));
        Assert.Equal(Datagram(100, 0), receive.Datagram(0).ToArray());
        Assert.Equal(Datagram(100, 1), receive.Datagram(1).ToArray());
        Assert.Equal(2, receive.Receive((int)_b.Handle, 10)); // at most the capacity, 4; two were left
        Assert.False(receive.Truncated(0));
        Assert.True(receive.Truncated(1));
        Assert.Equal(256, receive.Datagram(1).Length);
    }

    [Fact]
    public void A_full_batch_refuses_more_and_a_refused_send_is_counted_not_thrown()
    {
        var send = new MessageBatch(2, 64);
        Assert.True(send.TryAdd(new byte[10]));
        Assert.True(send.TryAdd(new byte[10]));
        Assert.False(send.TryAdd(new byte[10]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MessageBatch(1, 8).TryAdd(new byte[9]));

        // Nobody listens behind _b once it is closed: the ICMP error comes back on a later call.
        _b.Close();
        var failedTotal = 0;
        var lastErrno = 0;
        for (var round = 0; round < 20 && lastErrno == 0; round++)
        {
            failedTotal += send.Send((int)_a.Handle, out lastErrno);
            send.TryAdd(new byte[10]);
            Thread.Sleep(10);
        }
        Assert.True(failedTotal > 0);
        Assert.Equal(Native.EConnRefused, lastErrno);
    }
}
