using System.Net;
using System.Net.Sockets;

namespace HotDtls.Transport;

/// <summary>Conversions of the <see cref="SocketAddress"/> the receive path keys peers by.</summary>
internal static class SocketAddressExtensions
{
    /// <summary>
    /// The address and port as an <see cref="IPEndPoint"/> (allocates: for logs and the application, never per datagram).
    /// </summary>
    /// <remarks>
    /// A via-address (a cluster peer reached through another node, <see cref="ViaAddress"/>) gives the client's address.
    /// </remarks>
    public static IPEndPoint ToEndPoint(this SocketAddress address)
        => (IPEndPoint)new IPEndPoint(address.Family == AddressFamily.InterNetworkV6
            ? IPAddress.IPv6Any : IPAddress.Any, 0).Create(ViaAddress.ClientOf(address));

    /// <summary>A copy that owns its bytes: receive loops reuse their <see cref="SocketAddress"/> buffers.</summary>
    public static SocketAddress Copy(this SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span[..address.Size].CopyTo(copy.Buffer.Span);
        return copy;
    }
}
