using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace HotDtls.Load;

/// <summary>
/// A batch of datagrams for one <c>recvmmsg</c> or <c>sendmmsg</c> on a connected socket: a system call moves up to
/// <see cref="Capacity"/> datagrams instead of one. Everything the kernel reads or writes lives in arrays on the
/// pinned object heap (they never move), so the headers hold their addresses and no unsafe code is needed; once built,
/// a batch allocates nothing.
/// </summary>
/// <remarks>
/// The x86-64 / AArch64 layouts (LP64) written into <see cref="_headers"/> and <see cref="_vectors"/>:
/// <code>
///   struct iovec   { void *iov_base;              //  0
///                    size_t iov_len; };           //  8        16 bytes
///   struct msghdr  { void *msg_name;              //  0  NULL: the socket is connected
///                    socklen_t msg_namelen;       //  8  (+4 padding)
///                    struct iovec *msg_iov;       // 16
///                    size_t msg_iovlen;           // 24  1
///                    void *msg_control;           // 32  NULL
///                    size_t msg_controllen;       // 40
///                    int msg_flags; };            // 48  (+4 padding)   56 bytes
///   struct mmsghdr { struct msghdr msg_hdr;       //  0
///                    unsigned int msg_len; };     // 56  (+4 padding)   64 bytes
/// </code>
/// </remarks>
internal sealed class MessageBatch
{
    private const int IovecSize = 16;
    private const int IovBase = 0;
    private const int IovLen = 8;
    private const int MmsghdrSize = 64;
    private const int MsgIov = 16;
    private const int MsgIovLen = 24;
    private const int MsgFlags = 48;
    private const int MsgLen = 56;
    /// <summary>msg_flags: the datagram was longer than its buffer and was cut.</summary>
    private const int MsgTrunc = 0x20;
    /// <summary>Flags of the call: never wait (the socket is non-blocking too).</summary>
    private const int MsgDontWait = 0x40;

    private readonly byte[] _data;
    private readonly byte[] _vectors;
    private readonly byte[] _headers;
    private readonly int[] _lengths;
    private readonly IntPtr _headersAddress;

    public MessageBatch(int capacity, int datagramSize)
    {
        if (!Environment.Is64BitProcess || !OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("recvmmsg/sendmmsg batches are written for 64-bit Linux.");
        }
        Capacity = capacity;
        DatagramSize = datagramSize;
        _data = GC.AllocateUninitializedArray<byte>(capacity * datagramSize, pinned: true);
        _vectors = GC.AllocateArray<byte>(capacity * IovecSize, pinned: true);
        _headers = GC.AllocateArray<byte>(capacity * MmsghdrSize, pinned: true);
        _lengths = new int[capacity];
        _headersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_headers, 0);
        for (var i = 0; i < capacity; i++)
        {
            var vector = _vectors.AsSpan(i * IovecSize, IovecSize);
            BinaryPrimitives.WriteInt64LittleEndian(vector[IovBase..], Marshal.UnsafeAddrOfPinnedArrayElement(_data, i * datagramSize));
            BinaryPrimitives.WriteInt64LittleEndian(vector[IovLen..], datagramSize);
            var header = _headers.AsSpan(i * MmsghdrSize, MmsghdrSize);
            BinaryPrimitives.WriteInt64LittleEndian(header[MsgIov..], Marshal.UnsafeAddrOfPinnedArrayElement(_vectors, i * IovecSize));
            BinaryPrimitives.WriteInt64LittleEndian(header[MsgIovLen..], 1);
        }
    }

    public int Capacity { get; }

    /// <summary>The largest datagram one slot holds.</summary>
    public int DatagramSize { get; }

    /// <summary>Datagrams queued to send (send batches).</summary>
    public int Count { get; private set; }

    /// <summary>Slot <paramref name="index"/>'s datagram: as received, or as queued.</summary>
    public Span<byte> Datagram(int index) => _data.AsSpan(index * DatagramSize, _lengths[index]);

    /// <summary>Whether slot <paramref name="index"/>'s datagram was cut to fit (received batches).</summary>
    public bool Truncated(int index) => (BinaryPrimitives.ReadInt32LittleEndian(_headers.AsSpan(index * MmsghdrSize + MsgFlags)) & MsgTrunc) != 0;

    /// <summary>
    /// Receives up to <paramref name="max"/> datagrams from <paramref name="fd"/> without waiting. Returns how many
    /// (each then in <see cref="Datagram"/>); 0 when none was waiting; -errno when the first receive failed.
    /// </summary>
    public int Receive(int fd, int max)
    {
        var n = Native.RecvMmsg(fd, _headersAddress, (uint)Math.Min(max, Capacity), MsgDontWait, IntPtr.Zero);
        if (n < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == Native.EAgain ? 0 : -errno;
        }
        for (var i = 0; i < n; i++)
        {
            _lengths[i] = BinaryPrimitives.ReadInt32LittleEndian(_headers.AsSpan(i * MmsghdrSize + MsgLen));
        }
        return n;
    }

    /// <summary>Queues a copy of <paramref name="datagram"/>; false when the batch is full (send it first).</summary>
    public bool TryAdd(ReadOnlySpan<byte> datagram)
    {
        if (Count == Capacity)
        {
            return false;
        }
        if (datagram.Length > DatagramSize)
        {
            ThrowTooLarge(datagram.Length);
        }
        datagram.CopyTo(_data.AsSpan(Count * DatagramSize));
        _lengths[Count] = datagram.Length;
        BinaryPrimitives.WriteInt64LittleEndian(_vectors.AsSpan(Count * IovecSize + IovLen), datagram.Length);
        Count++;
        return true;
    }

    /// <summary>Forgets what is queued.</summary>
    public void Clear() => Count = 0;

    /// <summary>
    /// Sends every queued datagram on connected <paramref name="fd"/>, as few <c>sendmmsg</c> calls as it takes (one
    /// unless the kernel stops early), and empties the batch. A datagram the kernel refuses is skipped, as a lone
    /// <c>send</c> that failed would be. Returns how many failed; <paramref name="lastErrno"/> is the last failure's.
    /// </summary>
    public int Send(int fd, out int lastErrno)
    {
        lastErrno = 0;
        var failed = 0;
        var offset = 0;
        while (offset < Count)
        {
            var n = Native.SendMmsg(fd, _headersAddress + offset * MmsghdrSize, (uint)(Count - offset), MsgDontWait);
            if (n > 0)
            {
                offset += n;
                continue;
            }
            // sendmmsg(2): an error on the first message fails the call; the ones after it may still go.
            lastErrno = Marshal.GetLastPInvokeError();
            failed++;
            offset++;
        }
        Count = 0;
        return failed;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowTooLarge(int length)
        => throw new ArgumentOutOfRangeException(nameof(length), length, "The datagram does not fit a batch slot.");
}
