using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HotDtls.Transport;

/// <summary>
/// Keeps a Connection ID (RFC 9146) peer on the receive loop that holds its session after its address changes, by
/// letting the kernel read the loop's index out of the CID: a classic BPF program attached to the SO_REUSEPORT group
/// with <c>SO_ATTACH_REUSEPORT_CBPF</c> (Linux 4.5 and later).
/// </summary>
/// <remarks>
/// <para>
/// Without it the kernel picks a socket by hashing the 4-tuple, so a NAT rebinding (a new source port) usually lands
/// the peer's next record on another loop, whose engine has never heard of the CID. The program runs in the kernel
/// on every datagram, before any socket is woken; a wrong answer costs nothing but a fall back to the hash.
/// </para>
/// <para>The CIDs this server issues (fixed layout; the other bytes belong to whoever issues them):</para>
/// <code>
///   cid[0]        node id: which server of a future scale-out group issued it (0 for a single server)
///   cid[1]        receive-loop index: the SO_REUSEPORT group member (the loop) that holds the session
///   cid[2..L-1]   random (RFC 9146 §8: unpredictable, so CIDs do not link a peer across sessions)
///   L = 0 (no CID asked for) or 4..10
/// </code>
/// <para>A record carrying a CID (RFC 9146 §4, the first record of the datagram):</para>
/// <code>
///   offset  0      content type = tls12_cid (25)
///           1..2   version
///           3..4   epoch
///           5..10  sequence_number
///          11..    cid (L bytes): node id at 11, loop index at 12
///   11+L..12+L     length, then the encrypted record
/// </code>
/// <para>
/// For UDP, the kernel runs the program on the UDP payload (<c>reuseport_select_sock</c> pulls the UDP header off
/// first) and takes its return value as an index into the group's sockets, in the order they were bound; an index
/// at or beyond the group's size means "no opinion": the kernel falls back to its 4-tuple hash
/// (<c>run_bpf_filter</c> returns no socket). So the program answers the loop byte for a tls12_cid datagram long
/// enough to hold it, and 0xFFFFFFFF for everything else: handshakes, records of peers without a CID, runts.
/// </para>
/// <para>
/// The length check is not optional: a classic BPF load beyond the end of the packet ends the program with return
/// value 0, which the kernel would read as "socket 0" and pile every short tls12_cid datagram onto the first loop.
/// </para>
/// </remarks>
internal static class ConnectionIdSteering
{
    /// <summary>RFC 9146 §4: the content type of a record that carries a CID.</summary>
    public const byte Tls12Cid = 25;

    /// <summary>Where the node id sits in a CID this server issues.</summary>
    public const int NodeIdIndex = 0;

    /// <summary>Where the receive-loop index sits in a CID this server issues.</summary>
    public const int LoopIndexIndex = 1;

    /// <summary>The shortest non-empty CID this server issues: node id, loop index and at least two random bytes.</summary>
    public const int MinimumConnectionIdLength = 4;

    /// <summary>The longest CID this server issues.</summary>
    public const int MaximumConnectionIdLength = 10;

    /// <summary>type(1) version(2) epoch(2) sequence_number(6): the record header before the CID.</summary>
    public const int CidOffset = 11;

    /// <summary>The loop byte's offset in the UDP payload (the datagram's first record).</summary>
    public const int LoopIndexOffset = CidOffset + LoopIndexIndex;

    /// <summary>
    /// The shortest datagram the program steers: the header through the loop byte. Shorter ones fall back to the
    /// hash (they cannot be records with one of our CIDs, and the record layer drops them wherever they land).
    /// </summary>
    public const int MinimumSteeredLength = LoopIndexOffset + 1;

    /// <summary>The program's "no opinion": any index at or beyond the group's size sends the kernel to its hash.</summary>
    public const uint FallBackToHash = 0xFFFF_FFFF;

    /// <summary>One byte of CID names the loop, so only the first 256 loops can be steered to.</summary>
    public const int MaxLoops = 256;

    // <linux/socket.h> and <asm-generic/socket.h>.
    private const int SolSocket = 1;
    private const int SoAttachReusePortCbpf = 51;

    // <linux/filter.h> / <linux/bpf_common.h> opcode parts.
    private const ushort BpfLd = 0x00, BpfJmp = 0x05, BpfRet = 0x06;
    private const ushort BpfW = 0x00, BpfB = 0x10;
    private const ushort BpfAbs = 0x20, BpfLen = 0x80;
    private const ushort BpfJeq = 0x10, BpfJge = 0x30;
    private const ushort BpfK = 0x00, BpfA = 0x10;

    /// <summary>
    /// The program, for the golden test. Built once; the array is never handed out for writing.
    /// </summary>
    /// <remarks>
    /// <code>
    ///   0  ld   len                     A = payload length
    ///   1  jge  #13, 2, 6 (jt 0, jf 4)  shorter than the header through the loop byte: fall back
    ///   2  ldb  [0]                     A = content type
    ///   3  jeq  #25, 4, 6 (jt 0, jf 2)  not tls12_cid: fall back
    ///   4  ldb  [12]                    A = loop byte (cid[1])
    ///   5  ret  A                       that socket (or the hash, if the byte is not below the group's size)
    ///   6  ret  #0xFFFFFFFF             the hash
    /// </code>
    /// </remarks>
    internal static ReadOnlySpan<SocketFilter> Program => s_program;

    private static readonly SocketFilter[] s_program =
    [
        new(BpfLd | BpfW | BpfLen, 0, 0, 0),
        new(BpfJmp | BpfJge | BpfK, 0, 4, MinimumSteeredLength),
        new(BpfLd | BpfB | BpfAbs, 0, 0, 0),
        new(BpfJmp | BpfJeq | BpfK, 0, 2, Tls12Cid),
        new(BpfLd | BpfB | BpfAbs, 0, 0, LoopIndexOffset),
        new(BpfRet | BpfA, 0, 0, 0),
        new(BpfRet | BpfK, 0, 0, FallBackToHash),
    ];

    /// <summary>
    /// Attaches the program to <paramref name="socket"/>'s SO_REUSEPORT group, which applies it to every socket of
    /// the group, present and future. Call it once, after all <paramref name="receiveLoops"/> sockets are bound: the
    /// loop index in a CID is the socket's position in bind order.
    /// </summary>
    /// <param name="socket">A bound UDP socket that has SO_REUSEPORT set.</param>
    /// <param name="receiveLoops">How many sockets the group has (only to refuse more than one CID byte can name).</param>
    /// <param name="error">Why it was not attached, for a log line; null on success.</param>
    /// <returns>False where steering is unavailable: not Linux, not UDP, too many loops, or the kernel refused
    /// (older than 4.5, or SO_REUSEPORT not set). The server still works then, only without steering.</returns>
    public static bool TryAttach(Socket socket, int receiveLoops, out string? error)
    {
        ArgumentNullException.ThrowIfNull(socket);
        if (!OperatingSystem.IsLinux())
        {
            error = "SO_ATTACH_REUSEPORT_CBPF is Linux-only";
            return false;
        }
        if (socket.ProtocolType != ProtocolType.Udp)
        {
            error = "the steering program reads UDP payloads; the socket is " + socket.ProtocolType;
            return false;
        }
        if (receiveLoops > MaxLoops)
        {
            error = $"{receiveLoops} receive loops, but a CID's loop byte can name only {MaxLoops}";
            return false;
        }

        // struct sock_fprog { unsigned short len; struct sock_filter *filter; }: the pointer is aligned to its own
        // size, so it sits at offset 8 on 64-bit and 4 on 32-bit. The kernel copies the instructions during the
        // call, so they need to stay pinned only until setsockopt returns.
        var fprog = new byte[2 * IntPtr.Size];
        var pin = GCHandle.Alloc(s_program, GCHandleType.Pinned);
        try
        {
            BitConverter.TryWriteBytes(fprog.AsSpan(0), (ushort)s_program.Length);
            var address = pin.AddrOfPinnedObject();
            if (IntPtr.Size == 8)
            {
                BitConverter.TryWriteBytes(fprog.AsSpan(8), (long)address);
            }
            else
            {
                BitConverter.TryWriteBytes(fprog.AsSpan(4), (int)address);
            }
            socket.SetRawSocketOption(SolSocket, SoAttachReusePortCbpf, fprog);
        }
        catch (SocketException exception)
        {
            error = exception.SocketErrorCode switch
            {
                SocketError.InvalidArgument => "the kernel refused the program (EINVAL): is SO_REUSEPORT set and the socket bound?",
                SocketError.ProtocolOption or SocketError.OperationNotSupported =>
                    $"this kernel has no SO_ATTACH_REUSEPORT_CBPF (Linux 4.5 or later is needed): {exception.SocketErrorCode}",
                _ => $"setsockopt(SO_ATTACH_REUSEPORT_CBPF) failed: {exception.SocketErrorCode} ({exception.Message})",
            };
            return false;
        }
        finally
        {
            pin.Free();
        }
        error = null;
        return true;
    }

    /// <summary>
    /// Writes the routing bytes of a CID this server issues — node id and loop index — leaving cid[2..] to the caller,
    /// who fills them from its random source.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <paramref name="cid"/> is not 4..10 bytes, or <paramref name="loopIndex"/> is not 0..255.
    /// </exception>
    public static void WriteRoutingBytes(Span<byte> cid, byte nodeId, int loopIndex)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(cid.Length, MinimumConnectionIdLength, nameof(cid));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(cid.Length, MaximumConnectionIdLength, nameof(cid));
        ArgumentOutOfRangeException.ThrowIfNegative(loopIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(loopIndex, MaxLoops);
        cid[NodeIdIndex] = nodeId;
        cid[LoopIndexIndex] = (byte)loopIndex;
    }

    /// <summary>struct sock_filter from &lt;linux/filter.h&gt;: one classic BPF instruction, 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal readonly record struct SocketFilter(ushort Code, byte JumpIfTrue, byte JumpIfFalse, uint K);
}
