using System.Net;
using System.Net.Sockets;
using System.Buffers.Binary;
using HotDtls.Diagnostics;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;

namespace HotDtls.Cluster;

/// <summary>
/// The channel's socket: binding it, the receive thread that feeds <see cref="ProcessFrame"/>, and the client addresses
/// frames carry, read from and written into sockaddr bytes.
/// </summary>
internal sealed partial class ClusterChannel
{
    // sockaddr_in and sockaddr_in6 put the port (network order) at offset 2 on every platform; the IPv4 address follows
    // at 4, the IPv6 address at 8 (after the flow info). Read and written in place: no IPEndPoint per frame.
    private const int SockaddrPortOffset = 2;
    private const int SockaddrIPv4Offset = 4;
    private const int SockaddrIPv6Offset = 8;

    private static bool TryReadClient(SocketAddress client, out byte family, out ushort port, Span<byte> address, out int length)
    {
        var bytes = client.Buffer.Span[..client.Size];
        switch (client.Family)
        {
            case AddressFamily.InterNetwork when bytes.Length >= SockaddrIPv4Offset + 4:
                family = ClusterFrame.FamilyIPv4;
                length = 4;
                bytes.Slice(SockaddrIPv4Offset, 4).CopyTo(address);
                break;
            case AddressFamily.InterNetworkV6 when bytes.Length >= SockaddrIPv6Offset + 16:
                family = ClusterFrame.FamilyIPv6;
                length = 16;
                bytes.Slice(SockaddrIPv6Offset, 16).CopyTo(address);
                break;
            default:
                family = 0;
                port = 0;
                length = 0;
                return false;
        }
        port = BinaryPrimitives.ReadUInt16BigEndian(bytes[SockaddrPortOffset..]);
        return true;
    }

    /// <summary>The frame's client as a <see cref="SocketAddress"/> reused for every frame (the receive lock is held).</summary>
    private SocketAddress ClientAddress(ClusterFrameReader reader)
    {
        SocketAddress client;
        int offset;
        if (reader.Family == ClusterFrame.FamilyIPv4)
        {
            client = _clientV4;
            offset = SockaddrIPv4Offset;
        }
        else
        {
            client = _clientV6;
            offset = SockaddrIPv6Offset;
            // Flow info and scope id: not carried (a client behind a load balancer has a global address).
            client.Buffer.Span[4..8].Clear();
            client.Buffer.Span[24..28].Clear();
        }
        var bytes = client.Buffer.Span;
        BinaryPrimitives.WriteUInt16BigEndian(bytes[SockaddrPortOffset..], reader.Port);
        reader.Address.CopyTo(bytes[offset..]);
        return client;
    }

    private Socket Bind(IPEndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = endPoint.Address.Equals(IPAddress.IPv6Any);
            }
            socket.Bind(endPoint);
            return socket;
        }
        catch (SocketException exception)
        {
            socket.Dispose();
            var (reason, advice) = exception.SocketErrorCode switch
            {
                SocketError.AddressAlreadyInUse => (DtlsExceptionReason.AddressInUse,
                    "the port is already in use by another socket (another node on this machine, or any other program): choose another ChannelEndPoint port"),
                SocketError.AddressNotAvailable => (DtlsExceptionReason.BindFailed, "the address does not belong to this machine: choose one of its addresses"),
                SocketError.AccessDenied => (DtlsExceptionReason.BindFailed, "permission denied: ports below 1024 need privileges"),
                _ => (DtlsExceptionReason.BindFailed, exception.Message),
            };
            Log.ClusterChannelBindFailed(_logger, endPoint, advice);
            throw new DtlsException($"Cannot start the node-to-node channel on {endPoint}: {advice}.", reason, exception);
        }
    }

    private void RunReceiveLoop()
    {
        var socket = _socket!;
        // Pinned once: the kernel copies into it without the GC moving it. 64 KiB holds any UDP datagram, so an
        // oversized frame is seen whole and counted, not truncated into something else.
        var buffer = GC.AllocateArray<byte>(ushort.MaxValue + 1, pinned: true);
        var from = new SocketAddress(socket.AddressFamily);
        while (Volatile.Read(ref _disposed) == 0)
        {
            int received;
            try
            {
                received = socket.ReceiveFrom(buffer, SocketFlags.None, from);
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException) when (Volatile.Read(ref _disposed) != 0)
            {
                break;
            }
            catch (SocketException exception) when (exception.SocketErrorCode == SocketError.ConnectionReset)
            {
                // Windows reports an ICMP port unreachable from an earlier send (a heartbeat to a node that is down) on
                // the next receive: that node's liveness already says so, and a warning per heartbeat would be noise.
                continue;
            }
            catch (SocketException exception)
            {
                // ICMP errors reported on the socket concern one node, not the channel.
                Log.ClusterChannelReceiveFailed(_logger, exception.SocketErrorCode);
                continue;
            }
            try
            {
                ProcessFrame(from, buffer.AsSpan(0, received));
            }
#pragma warning disable CA1031 // A bug in the server's delivery, triggered by one frame, must not stop the channel.
            catch (Exception exception)
#pragma warning restore CA1031
            {
                Log.ClusterFrameFailed(_logger, from.ToEndPoint(), exception);
            }
        }
    }
}
