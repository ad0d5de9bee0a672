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
/// Slot i's datagram is <see cref="_data"/>[i × DatagramSize ..], described by iovec i of <see cref="_vectors"/>.
/// Receives use one mmsghdr per slot (<see cref="_headers"/>); sends one per message (<see cref="_groupHeaders"/>),
/// where a message is one datagram, or a run of equal-length ones sent with UDP GSO (UDP_SEGMENT, Linux 4.18): the
/// kernel cuts it back into those datagrams — the peer receives exactly what one sendmmsg per datagram would have
/// sent — but builds and routes one buffer for the run, which is most of the cost of sending on loopback.
/// The x86-64 / AArch64 layouts (LP64):
/// <code>
///   struct iovec   { void *iov_base;              //  0
///                    size_t iov_len; };           //  8        16 bytes
///   struct msghdr  { void *msg_name;              //  0  NULL: the socket is connected
///                    socklen_t msg_namelen;       //  8  (+4 padding)
///                    struct iovec *msg_iov;       // 16
///                    size_t msg_iovlen;           // 24  1, or a run of equal datagrams (sends)
///                    void *msg_control;           // 32  NULL, or a UDP_SEGMENT cmsg (sends)
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
    private const int MsgControl = 32;
    private const int MsgControlLen = 40;
    private const int MsgFlags = 48;
    /// <summary>CMSG_SPACE(sizeof(uint16_t)): a 16-byte cmsghdr and the segment size, padded to 8.</summary>
    private const int ControlSpace = 24;
    private const int SolUdp = 17;
    /// <summary>UDP_SEGMENT (linux/udp.h): the GSO segment size of this message.</summary>
    private const int UdpSegment = 103;
    /// <summary>UDP_MAX_SEGMENTS, and what one UDP GSO message may carry in all.</summary>
    private const int MaxSegments = 64;
    private const int MaxGsoBytes = 65_000;
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
    private readonly byte[] _groupHeaders;
    private readonly byte[] _controls;
    private readonly int[] _groupSizes;
    private readonly IntPtr _vectorsAddress;
    private readonly IntPtr _groupHeadersAddress;
    private readonly IntPtr _controlsAddress;

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
        _groupHeaders = GC.AllocateArray<byte>(capacity * MmsghdrSize, pinned: true);
        _controls = GC.AllocateArray<byte>(capacity * ControlSpace, pinned: true);
        _groupSizes = new int[capacity];
        _vectorsAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_vectors, 0);
        _groupHeadersAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_groupHeaders, 0);
        _controlsAddress = Marshal.UnsafeAddrOfPinnedArrayElement(_controls, 0);
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
    /// unless the kernel stops early), and empties the batch. Equal-length neighbours go as one UDP GSO message (the
    /// kernel cuts it into the same datagrams, and walks its send path once for them all). A datagram the kernel
    /// refuses is skipped, as a lone <c>send</c> that failed would be. Returns how many failed; <paramref name="lastErrno"/>
    /// is the last failure's.
    /// </summary>
    public int Send(int fd, out int lastErrno)
    {
        lastErrno = 0;
        var failed = 0;
        var sent = 0; // datagrams done with, sent or failed
        var groups = Group(sent);
        var offset = 0;
        while (offset < groups)
        {
            var n = Native.SendMmsg(fd, _groupHeadersAddress + offset * MmsghdrSize, (uint)(groups - offset), MsgDontWait);
            if (n > 0)
            {
                for (var i = 0; i < n; i++)
                {
                    sent += _groupSizes[offset + i];
                }
                offset += n;
                continue;
            }
            // sendmmsg(2): an error on the first message fails the call; the ones after it may still go.
            lastErrno = Marshal.GetLastPInvokeError();
            if (_groupSizes[offset] > 1 && lastErrno is EInval or EIo or ENoProtoOpt or EOpNotSupp)
            {
                // This kernel or device does not take UDP GSO: the rest goes one message per datagram.
                _gso = false;
                groups = Group(sent);
                offset = 0;
                continue;
            }
            failed += _groupSizes[offset];
            sent += _groupSizes[offset];
            offset++;
        }
        Count = 0;
        return failed;
    }

    private const int EIo = 5;
    private const int EInval = 22;
    private const int ENoProtoOpt = 92;
    private const int EOpNotSupp = 95;

    /// <summary>Whether equal-length datagrams go as one UDP GSO message; off for good after the kernel refused one.</summary>
    private bool _gso = true;

    /// <summary>
    /// Lays the queued datagrams from <paramref name="from"/> on out as messages: with GSO, runs of equal length share
    /// one, with a UDP_SEGMENT cmsg (the datagram iovecs are consecutive, so the message's msg_iov is the run's first).
    /// </summary>
    private int Group(int from)
    {
        var groups = 0;
        for (var first = from; first < Count; groups++)
        {
            var length = _lengths[first];
            var count = 1;
            while (_gso && first + count < Count && _lengths[first + count] == length && count < MaxSegments
                && (count + 1) * length <= MaxGsoBytes && length > 0)
            {
                count++;
            }
            var header = _groupHeaders.AsSpan(groups * MmsghdrSize, MmsghdrSize);
            BinaryPrimitives.WriteInt64LittleEndian(header[MsgIov..], _vectorsAddress + first * IovecSize);
            BinaryPrimitives.WriteInt64LittleEndian(header[MsgIovLen..], count);
            if (count > 1)
            {
                // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the uint16 segment size.
                var control = _controls.AsSpan(groups * ControlSpace, ControlSpace);
                BinaryPrimitives.WriteInt64LittleEndian(control, 16 + sizeof(ushort));
                BinaryPrimitives.WriteInt32LittleEndian(control[8..], SolUdp);
                BinaryPrimitives.WriteInt32LittleEndian(control[12..], UdpSegment);
                BinaryPrimitives.WriteUInt16LittleEndian(control[16..], (ushort)length);
                BinaryPrimitives.WriteInt64LittleEndian(header[MsgControl..], _controlsAddress + groups * ControlSpace);
                BinaryPrimitives.WriteInt64LittleEndian(header[MsgControlLen..], ControlSpace);
            }
            else
            {
                BinaryPrimitives.WriteInt64LittleEndian(header[MsgControl..], 0);
                BinaryPrimitives.WriteInt64LittleEndian(header[MsgControlLen..], 0);
            }
            _groupSizes[groups] = count;
            first += count;
        }
        return groups;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowTooLarge(int length)
        => throw new ArgumentOutOfRangeException(nameof(length), length, "The datagram does not fit a batch slot.");
}
