using System.Net;
using HotDtls.Cookies;
using HotDtls.Handshake;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Cookies;

public sealed class HelloFragmentCacheTests
{
    private static SocketAddress Peer(int port) => new IPEndPoint(IPAddress.Loopback, port).Serialize();

    private static byte[] Body(int length)
    {
        var body = new byte[length];
        for (var i = 0; i < length; i++)
        {
            body[i] = (byte)(i * 7);
        }
        return body;
    }

    private static FragmentStatus Add(HelloFragmentCache cache, SocketAddress peer, byte[] body, int offset, int length,
        long now, out byte[] complete, ushort seq = 1)
    {
        var header = new HandshakeHeader(HandshakeType.ClientHello, body.Length, seq, offset, length);
        var status = cache.Add(peer, header, body.AsSpan(offset, length), now, out var span);
        complete = span.ToArray();
        return status;
    }

    [Fact]
    public void Fragments_in_any_order_complete_the_hello()
    {
        using var cache = new HelloFragmentCache();
        var body = Body(100);
        Assert.Equal(FragmentStatus.Buffered, Add(cache, Peer(1), body, 60, 40, 0, out _));
        Assert.Equal(FragmentStatus.Buffered, Add(cache, Peer(1), body, 0, 30, 0, out _));
        Assert.Equal(FragmentStatus.Complete, Add(cache, Peer(1), body, 20, 45, 0, out var complete));
        Assert.Equal(body, complete);
        cache.Release(Peer(1));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void Peers_do_not_share_a_slot()
    {
        using var cache = new HelloFragmentCache();
        var body = Body(50);
        Add(cache, Peer(1), body, 0, 25, 0, out _);
        // The other half from another port completes nothing.
        Assert.Equal(FragmentStatus.Buffered, Add(cache, Peer(2), body, 25, 25, 0, out _));
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void A_full_cache_reuses_the_least_recently_used_slot()
    {
        using var cache = new HelloFragmentCache(capacity: 3);
        var body = Body(40);
        Add(cache, Peer(1), body, 0, 10, now: 10, out _);
        Add(cache, Peer(2), body, 0, 10, now: 20, out _);
        Add(cache, Peer(3), body, 0, 10, now: 30, out _);
        Add(cache, Peer(1), body, 10, 10, now: 40, out _); // peer 1 touched again: peer 2 is now the oldest

        Add(cache, Peer(4), body, 0, 10, now: 50, out _);

        Assert.Equal(3, cache.Count);
        // Peer 2's partial hello is gone: its second half alone completes nothing.
        Assert.Equal(FragmentStatus.Buffered, Add(cache, Peer(2), body, 10, 30, now: 60, out _));
        // Peer 1 kept its 20 bytes: the rest completes it.
        Assert.Equal(FragmentStatus.Complete, Add(cache, Peer(1), body, 20, 20, now: 70, out var complete));
        Assert.Equal(body, complete);
    }

    [Fact]
    public void Partial_hellos_expire()
    {
        using var cache = new HelloFragmentCache();
        Add(cache, Peer(1), Body(40), 0, 10, now: 1000, out _);
        cache.Expire(nowMs: 5000, maxAgeMs: 10_000);
        Assert.Equal(1, cache.Count);
        cache.Expire(nowMs: 11_000, maxAgeMs: 10_000);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_hello_above_the_length_cap_is_rejected_without_taking_a_slot()
    {
        using var cache = new HelloFragmentCache();
        var header = new HandshakeHeader(HandshakeType.ClientHello, HelloFragmentCache.MaxHelloLength + 1, 1, 0, 10);
        Assert.Equal(FragmentStatus.Rejected, cache.Add(Peer(1), header, new byte[10], 0, out _));
        var atCap = new HandshakeHeader(HandshakeType.ClientHello, HelloFragmentCache.MaxHelloLength, 1, 0, 10);
        Assert.Equal(FragmentStatus.Buffered, cache.Add(Peer(1), atCap, new byte[10], 0, out _));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Empty_fragments_and_other_message_types_are_rejected_without_taking_a_slot()
    {
        using var cache = new HelloFragmentCache();
        var empty = new HandshakeHeader(HandshakeType.ClientHello, 100, 1, 50, 0);
        Assert.Equal(FragmentStatus.Rejected, cache.Add(Peer(1), empty, [], 0, out _));
        var other = new HandshakeHeader(HandshakeType.ClientKeyExchange, 100, 1, 0, 10);
        Assert.Equal(FragmentStatus.Rejected, cache.Add(Peer(1), other, new byte[10], 0, out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void A_new_message_seq_from_the_same_peer_replaces_the_partial_hello()
    {
        using var cache = new HelloFragmentCache();
        var body = Body(40);
        Add(cache, Peer(1), body, 0, 20, 0, out _, seq: 1);
        Assert.Equal(FragmentStatus.Buffered, Add(cache, Peer(1), body, 20, 20, 0, out _, seq: 2));
        Assert.Equal(1, cache.Count);
        Assert.Equal(FragmentStatus.Complete, Add(cache, Peer(1), body, 0, 20, 0, out var complete, seq: 2));
        Assert.Equal(body, complete);
    }

    [Fact]
    public void A_strangers_fragment_allocates_nothing_once_its_slot_exists()
    {
        // The first fuzz campaign on the engine saw a stranger's fragment allocate 4 KiB when the shared pool's
        // bucket was empty; the cache's slots now own their buffers, so reusing a slot allocates nothing.
        using var cache = new HelloFragmentCache(capacity: 2);
        var body = Body(HelloFragmentCache.MaxHelloLength);
        Add(cache, Peer(1), body, 0, 100, now: 0, out _);
        Add(cache, Peer(2), body, 0, 100, now: 1, out _);
        var strangers = new SocketAddress[10 * Allocations.Attempts];
        for (var i = 0; i < strangers.Length; i++)
        {
            strangers[i] = Peer(1000 + i);
        }

        var allocated = Allocations.Least(run =>
        {
            for (var i = run * 10; i < (run + 1) * 10; i++)
            {
                // Each new peer evicts the oldest partial hello and takes its slot.
                var header = new HandshakeHeader(HandshakeType.ClientHello, body.Length, 1, 0, 100);
                cache.Add(strangers[i], header, body.AsSpan(0, 100), nowMs: 2 + i, out _);
            }
        });

        Assert.Equal(0, allocated);
        Assert.Equal(2, cache.Count);
    }

    [Fact]
    public void Taking_a_slot_for_the_first_time_costs_one_buffer_of_the_largest_hello()
    {
        using var cache = new HelloFragmentCache(capacity: 1);
        var body = Body(HelloFragmentCache.MaxHelloLength);
        var header = new HandshakeHeader(HandshakeType.ClientHello, body.Length, 1, 0, 100);
        var peer = Peer(1);

        var before = GC.GetAllocatedBytesForCurrentThread();
        cache.Add(peer, header, body.AsSpan(0, 100), nowMs: 0, out _);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Body plus coverage bitmap, and the small objects around it; far from a pooled 4 KiB array.
        Assert.InRange(allocated, HelloFragmentCache.MaxHelloLength, HelloFragmentCache.MaxHelloLength + 512);
    }

    [Fact]
    public void A_hello_completed_in_a_reused_slot_is_whole_and_correct()
    {
        using var cache = new HelloFragmentCache(capacity: 1);
        var first = Body(300);
        Assert.Equal(FragmentStatus.Buffered, Add(cache, Peer(1), first, 0, 150, 0, out _));
        Assert.Equal(FragmentStatus.Complete, Add(cache, Peer(1), first, 150, 150, 0, out var complete));
        Assert.Equal(first, complete);
        cache.Release(Peer(1));

        // The owned buffer still holds the first hello's bytes and bitmap; a second hello must not see them.
        var second = new byte[300];
        Array.Fill(second, (byte)0xA5);
        Assert.Equal(FragmentStatus.Buffered, Add(cache, Peer(2), second, 0, 150, 0, out _));
        Assert.Equal(FragmentStatus.Complete, Add(cache, Peer(2), second, 150, 150, 0, out complete));
        Assert.Equal(second, complete);
    }

    [Fact]
    public void A_hello_of_the_largest_length_is_kept_and_one_byte_more_is_rejected()
    {
        using var cache = new HelloFragmentCache(capacity: 2);
        var largest = Body(HelloFragmentCache.MaxHelloLength);
        Assert.Equal(FragmentStatus.Buffered, Add(cache, Peer(1), largest, 0, 1000, 0, out _));
        Assert.Equal(FragmentStatus.Complete, Add(cache, Peer(1), largest, 1000, largest.Length - 1000, 0, out var complete));
        Assert.Equal(largest, complete);

        var tooLong = Body(HelloFragmentCache.MaxHelloLength + 1);
        Assert.Equal(FragmentStatus.Rejected, Add(cache, Peer(2), tooLong, 0, 1000, 0, out _));
        Assert.Equal(1, cache.Count);
    }
}
