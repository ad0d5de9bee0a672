using System.Net.Sockets;
using System.Net;
using System.Runtime.InteropServices;
using HotDtls.Diagnostics;
using Microsoft.Extensions.Logging;

namespace HotDtls.Transport;

/// <summary>
/// Linux <c>recvmmsg</c>/<c>sendmmsg</c> over one UDP socket: up to <see cref="BatchSize"/> datagrams in one system
/// call each way. A system call costs about a microsecond here, as much as sealing a record, so batching them is the
/// largest single saving on the datagram path (docs/benchmarks.md).
/// </summary>
/// <remarks>
/// <para>
/// Every structure the kernel reads or writes lives in arrays pinned for the object's life, addressed with
/// <see cref="Marshal.UnsafeAddrOfPinnedArrayElement{T}(T[], int)"/>: no unsafe code, nothing allocated per datagram.
/// </para>
/// <para>
/// Sends made on the receive loop's thread (replies produced while a batch is processed, timer retransmissions) are
/// queued and leave in one <c>sendmmsg</c> at <see cref="Flush"/>; sends from any other thread (the application's
/// <c>DtlsSession.SendAsync</c>, shutdown's close_notify) go out at once with <c>sendto</c>. UDP promises no order, and
/// DTLS sequence numbers and the replay window absorb any the two paths introduce.
/// </para>
/// </remarks>
internal sealed class BatchedDatagramSocket : IDatagramSender
{
    /// <summary>Datagrams per system call: enough to drain a burst, small enough that replies are not held back long.</summary>
    public const int BatchSize = 32;

    /// <summary>The largest UDP payload: a receive slot this large never truncates a datagram.</summary>
    internal const int ReceiveSlotSize = 65536;

    /// <summary>Queued sends up to this size are copied into a slot; larger ones go out on their own.</summary>
    internal const int SendSlotSize = 2048;

    /// <summary>Room for any socket address (sockaddr_in6 is 28 bytes; sockaddr_storage is 128).</summary>
    private const int NameSlotSize = 128;

    private const int MsgWaitForOne = 0x10000;
    private const int MsgTrunc = 0x20;
    private const int SolSocket = 1;
    private const int SoRcvTimeo = 20;

    private readonly Socket _socket;
    private readonly ILogger _logger;
    private readonly int _receiveSlotSize;

    private readonly MultiMessageHeader[] _receiveHeaders;
    private readonly IoVector[] _receiveVectors;
    private readonly byte[] _receiveBuffers;
    private readonly byte[] _receiveNames;
    private readonly SocketAddress[] _receiveAddresses;

    private readonly MultiMessageHeader[] _sendHeaders;
    private readonly IoVector[] _sendVectors;
    private readonly byte[] _sendBuffers;
    private readonly byte[] _sendNames;
    private readonly SocketAddress[] _sendPeers; // For logging a failed send only.

    private static readonly bool s_supported = Probe();

    private int _queued;
    private int _loopThreadId = -1;

    /// <summary>True where the C library has recvmmsg and sendmmsg (Linux); elsewhere servers fall back to a blocking thread.</summary>
    public static bool IsSupported => s_supported;

    /// <summary>Batches I/O on <paramref name="socket"/>; <paramref name="receiveSlotSize"/> is smaller only in tests.</summary>
    public BatchedDatagramSocket(Socket socket, ILogger logger, int receiveSlotSize = ReceiveSlotSize)
    {
        _socket = socket;
        _logger = logger;
        _receiveSlotSize = receiveSlotSize;

        _receiveHeaders = GC.AllocateArray<MultiMessageHeader>(BatchSize, pinned: true);
        _receiveVectors = GC.AllocateArray<IoVector>(BatchSize, pinned: true);
        // Uninitialised: the kernel writes only the bytes of each datagram, so untouched slot pages never become resident.
        _receiveBuffers = GC.AllocateUninitializedArray<byte>(BatchSize * receiveSlotSize, pinned: true);
        _receiveNames = GC.AllocateArray<byte>(BatchSize * NameSlotSize, pinned: true);
        _receiveAddresses = new SocketAddress[BatchSize];

        _sendHeaders = GC.AllocateArray<MultiMessageHeader>(BatchSize, pinned: true);
        _sendVectors = GC.AllocateArray<IoVector>(BatchSize, pinned: true);
        _sendBuffers = GC.AllocateArray<byte>(BatchSize * SendSlotSize, pinned: true);
        _sendNames = GC.AllocateArray<byte>(BatchSize * NameSlotSize, pinned: true);
        _sendPeers = new SocketAddress[BatchSize];

        for (var i = 0; i < BatchSize; i++)
        {
            _receiveVectors[i] = new IoVector
            {
                Base = Marshal.UnsafeAddrOfPinnedArrayElement(_receiveBuffers, i * receiveSlotSize),
                Length = (nuint)receiveSlotSize,
            };
            _receiveHeaders[i].Header = new MessageHeader
            {
                Name = Marshal.UnsafeAddrOfPinnedArrayElement(_receiveNames, i * NameSlotSize),
                NameLength = NameSlotSize,
                IoVectors = Marshal.UnsafeAddrOfPinnedArrayElement(_receiveVectors, i),
                IoVectorCount = 1,
            };
            // The family's own size (16 or 28 bytes), as Socket.ReceiveFrom uses: SocketAddress.Equals compares whole
            // buffers, so a longer buffer would never match the engine's copies of peer addresses.
            _receiveAddresses[i] = new SocketAddress(socket.AddressFamily);

            _sendVectors[i].Base = Marshal.UnsafeAddrOfPinnedArrayElement(_sendBuffers, i * SendSlotSize);
            _sendHeaders[i].Header = new MessageHeader
            {
                Name = Marshal.UnsafeAddrOfPinnedArrayElement(_sendNames, i * NameSlotSize),
                IoVectors = Marshal.UnsafeAddrOfPinnedArrayElement(_sendVectors, i),
                IoVectorCount = 1,
            };
        }
    }

    /// <summary>Sends queued on the loop thread but not yet flushed.</summary>
    internal int Queued => _queued;

    /// <summary>
    /// Makes the calling thread the receive loop's: its sends are queued until <see cref="Flush"/>. Also sets the
    /// socket's receive timeout, so <see cref="Receive"/> returns at least every <paramref name="timeout"/>.
    /// </summary>
    public void BindToCurrentThread(TimeSpan timeout)
    {
        _loopThreadId = Environment.CurrentManagedThreadId;
        // struct timeval { time_t tv_sec; suseconds_t tv_usec; }: two longs on 64-bit Linux. Set directly rather than
        // through Socket.ReceiveTimeout, whose effect on the descriptor is the runtime's business.
        var timeval = new byte[2 * IntPtr.Size];
        var microseconds = (long)(timeout.TotalMilliseconds * 1000);
        if (IntPtr.Size == 8)
        {
            BitConverter.TryWriteBytes(timeval.AsSpan(0), microseconds / 1_000_000);
            BitConverter.TryWriteBytes(timeval.AsSpan(8), microseconds % 1_000_000);
        }
        else
        {
            BitConverter.TryWriteBytes(timeval.AsSpan(0), (int)(microseconds / 1_000_000));
            BitConverter.TryWriteBytes(timeval.AsSpan(4), (int)(microseconds % 1_000_000));
        }
        _socket.Blocking = true;
        _socket.SetRawSocketOption(SolSocket, SoRcvTimeo, timeval);
    }

    /// <summary>
    /// Waits for datagrams and takes up to <see cref="BatchSize"/> of them: the count, 0 if the timeout passed
    /// first, or -1 with <paramref name="error"/> set.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The socket was closed.</exception>
    /// <exception cref="EntryPointNotFoundException">The C library has no recvmmsg.</exception>
    public int Receive(out SocketError error)
    {
        for (var i = 0; i < BatchSize; i++)
        {
            // The kernel overwrites both with what it received.
            _receiveHeaders[i].Header.NameLength = NameSlotSize;
            _receiveHeaders[i].Header.Flags = 0;
        }
        var count = RecvMmsg(_socket.SafeHandle, Marshal.UnsafeAddrOfPinnedArrayElement(_receiveHeaders, 0), BatchSize,
            MsgWaitForOne, IntPtr.Zero);
        if (count >= 0)
        {
            error = SocketError.Success;
            return count;
        }
        error = ToSocketError(Marshal.GetLastPInvokeError());
        if (error is SocketError.WouldBlock or SocketError.TimedOut or SocketError.Interrupted)
        {
            error = SocketError.Success;
            return 0;
        }
        return -1;
    }

    /// <summary>True if datagram <paramref name="index"/> of the last batch was larger than its slot and was cut.</summary>
    public bool IsTruncated(int index) => (_receiveHeaders[index].Header.Flags & MsgTrunc) != 0;

    /// <summary>Datagram <paramref name="index"/> of the last batch; its bytes may be decrypted in place.</summary>
    public Span<byte> Datagram(int index)
        => _receiveBuffers.AsSpan(index * _receiveSlotSize, (int)Math.Min(_receiveHeaders[index].Length, (uint)_receiveSlotSize));

    /// <summary>
    /// The sender of datagram <paramref name="index"/> of the last batch. The object is reused by the next batch: the
    /// engine copies it before keeping it.
    /// </summary>
    public SocketAddress Sender(int index)
    {
        var address = _receiveAddresses[index];
        var buffer = address.Buffer.Span;
        var length = (int)Math.Min(_receiveHeaders[index].Header.NameLength, (uint)buffer.Length);
        _receiveNames.AsSpan(index * NameSlotSize, length).CopyTo(buffer);
        address.Size = length;
        return address;
    }

    /// <inheritdoc />
    public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        if (Environment.CurrentManagedThreadId != _loopThreadId || datagram.Length > SendSlotSize || peer.Size > NameSlotSize)
        {
            SendNow(datagram, peer);
            return;
        }
        if (_queued == BatchSize)
        {
            Flush();
        }
        var slot = _queued++;
        datagram.CopyTo(_sendBuffers.AsSpan(slot * SendSlotSize));
        peer.Buffer.Span[..peer.Size].CopyTo(_sendNames.AsSpan(slot * NameSlotSize));
        _sendVectors[slot].Length = (nuint)datagram.Length;
        _sendHeaders[slot].Header.NameLength = (uint)peer.Size;
        _sendPeers[slot] = peer;
    }

    /// <summary>Sends everything queued on the loop thread in as few system calls as the kernel allows.</summary>
    public void Flush()
    {
        var sent = 0;
        while (sent < _queued)
        {
            int count;
            try
            {
                count = SendMmsg(_socket.SafeHandle, Marshal.UnsafeAddrOfPinnedArrayElement(_sendHeaders, sent),
                    (uint)(_queued - sent), 0);
            }
            catch (ObjectDisposedException)
            {
                break; // The server is stopping.
            }
            if (count > 0)
            {
                sent += count;
                continue;
            }
            // The datagram at `sent` failed (sendmmsg reports an error only for the first of the call): like a failed
            // sendto, it is a loss the protocol recovers from. Skip it and carry on with the rest.
            var error = ToSocketError(Marshal.GetLastPInvokeError());
            if (error != SocketError.Interrupted)
            {
                Log.SendFailed(_logger, _sendPeers[sent].ToEndPoint(), error);
                sent++;
            }
        }
        Array.Clear(_sendPeers, 0, _queued);
        _queued = 0;
    }

    private void SendNow(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        try
        {
            _socket.SendTo(datagram, SocketFlags.None, peer);
        }
        catch (SocketException exception)
        {
            Log.SendFailed(_logger, peer.ToEndPoint(), exception.SocketErrorCode);
        }
        catch (ObjectDisposedException)
        {
            // The server is stopping.
        }
    }

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux()
            || !NativeLibrary.TryLoad("libc", typeof(BatchedDatagramSocket).Assembly, DllImportSearchPath.SafeDirectories, out var libc))
        {
            return false;
        }
        // The handle stays loaded: the DllImports below bind to the same library.
        return NativeLibrary.TryGetExport(libc, "recvmmsg", out _) && NativeLibrary.TryGetExport(libc, "sendmmsg", out _);
    }

    /// <summary>Linux errno values a datagram socket reports, as the portable names the rest of the code logs.</summary>
    internal static SocketError ToSocketError(int errno) => errno switch
    {
        4 => SocketError.Interrupted, // EINTR
        9 or 88 => SocketError.NotSocket, // EBADF, ENOTSOCK: the descriptor was closed
        11 => SocketError.WouldBlock, // EAGAIN: the receive timeout passed
        13 => SocketError.AccessDenied,
        22 => SocketError.InvalidArgument,
        90 => SocketError.MessageSize,
        101 => SocketError.NetworkUnreachable,
        103 => SocketError.ConnectionAborted,
        104 => SocketError.ConnectionReset,
        105 => SocketError.NoBufferSpaceAvailable,
        111 => SocketError.ConnectionRefused,
        113 => SocketError.HostUnreachable,
        _ => SocketError.SocketError,
    };

    // DllImport, not LibraryImport: the generated stub needs unsafe code, which the library does not allow. The
    // SafeHandle argument keeps the descriptor from being closed and reused while a call is in the kernel.
#pragma warning disable SYSLIB1054, CA5392
    [DllImport("libc", EntryPoint = "recvmmsg", SetLastError = true, ExactSpelling = true)]
    private static extern int RecvMmsg(SafeHandle socket, IntPtr messages, uint count, int flags, IntPtr timeout);

    [DllImport("libc", EntryPoint = "sendmmsg", SetLastError = true, ExactSpelling = true)]
    private static extern int SendMmsg(SafeHandle socket, IntPtr messages, uint count, int flags);
#pragma warning restore SYSLIB1054, CA5392

    /// <summary>struct iovec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct IoVector
    {
        public IntPtr Base;
        public nuint Length;
    }

    /// <summary>struct msghdr; sequential layout gives the C padding on 32- and 64-bit alike.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MessageHeader
    {
        public IntPtr Name;
        public uint NameLength;
        public IntPtr IoVectors;
        public nuint IoVectorCount;
        public IntPtr Control;
        public nuint ControlLength;
        public int Flags;
    }

    /// <summary>struct mmsghdr.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct MultiMessageHeader
    {
        public MessageHeader Header;
        public uint Length;
    }
}
