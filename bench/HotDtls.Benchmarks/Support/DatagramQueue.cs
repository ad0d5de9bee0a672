using System.Net;
using HotDtls.Transport;

namespace HotDtls.Benchmarks.Support;

/// <summary>
/// An in-memory <see cref="IDatagramSender"/> that keeps what was sent in buffers allocated once, so a benchmark that
/// moves datagrams through it measures HotDtls's allocations and not the test transport's.
/// </summary>
/// <remarks>
/// A sender's span is only valid during <see cref="Send"/> (connections reuse their scratch buffer), so each datagram is
/// copied into the next free slot. Datagrams are taken in the order they were sent; the peer address is ignored, since
/// each queue links exactly two endpoints.
/// </remarks>
internal sealed class DatagramQueue : IDatagramSender
{
    private const int SlotSize = 2048;

    private readonly byte[][] _slots;
    private readonly int[] _lengths;
    private int _count;

    public DatagramQueue(int capacity = 16)
    {
        _slots = new byte[capacity][];
        for (var i = 0; i < capacity; i++)
        {
            _slots[i] = new byte[SlotSize];
        }
        _lengths = new int[capacity];
    }

    /// <summary>Datagrams sent since the last <see cref="Clear"/>.</summary>
    public int Count => _count;

    public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        if (_count == _slots.Length || datagram.Length > SlotSize)
        {
            // A handshake flight is a handful of datagrams under the MTU; more means the benchmark is broken.
            throw new InvalidOperationException($"DatagramQueue overflow ({_count} queued, {datagram.Length} bytes).");
        }
        datagram.CopyTo(_slots[_count]);
        _lengths[_count] = datagram.Length;
        _count++;
    }

    /// <summary>The <paramref name="index"/>th datagram queued, writable (receivers decrypt in place).</summary>
    public Span<byte> this[int index] => _slots[index].AsSpan(0, _lengths[index]);

    public void Clear() => _count = 0;
}
