using System.Net;

namespace HotDtls.Transport;

/// <summary>
/// The address a cluster node keys a session by when its client is reached through another node (docs/scaling.md): the
/// client's address as that node saw it, and the node's id in one more byte. A <see cref="SocketAddress"/> compares by
/// size and bytes, so such an address never equals a direct peer's (16 bytes for IPv4, 28 for IPv6), and two nodes'
/// views of the same client address stay apart.
/// </summary>
/// <remarks>
/// <code>
///   +-------------------------------------------+---------+
///   | the client's sockaddr (family, port, IP)  | node id |
///   +-------------------------------------------+---------+
///     Size − 1 bytes                              1 byte
/// </code>
/// </remarks>
internal static class ViaAddress
{
    /// <summary>A new via-address: <paramref name="client"/> reached through node <paramref name="node"/>.</summary>
    public static SocketAddress Create(SocketAddress client, byte node)
    {
        var via = new SocketAddress(client.Family, client.Size + 1);
        Write(client, node, via);
        return via;
    }

    /// <summary>Writes the via-address of <paramref name="client"/> and <paramref name="node"/> into <paramref name="destination"/> (reused: resized).</summary>
    public static void Write(SocketAddress client, byte node, SocketAddress destination)
    {
        destination.Size = client.Size + 1;
        var bytes = destination.Buffer.Span;
        client.Buffer.Span[..client.Size].CopyTo(bytes);
        bytes[client.Size] = node;
    }

    /// <summary>Whether <paramref name="address"/> is a via-address, and if so the node and (into <paramref name="client"/>) the client's own address.</summary>
    public static bool TryRead(SocketAddress address, SocketAddress client, out byte node)
    {
        if (!IsVia(address))
        {
            node = 0;
            return false;
        }
        node = address.Buffer.Span[address.Size - 1];
        client.Size = address.Size - 1;
        address.Buffer.Span[..client.Size].CopyTo(client.Buffer.Span);
        return true;
    }

    /// <summary>Whether <paramref name="address"/> is a via-address (one byte longer than its family's sockaddr).</summary>
    public static bool IsVia(SocketAddress address) => address.Size == SocketAddress.GetMaximumAddressSize(address.Family) + 1;

    /// <summary>
    /// A buffer for the via-addresses of <paramref name="family"/> (<see cref="Write"/>), sized exactly: a
    /// <see cref="SocketAddress"/> compares its whole buffer, not just its <see cref="SocketAddress.Size"/> bytes, so a
    /// reused buffer finds a session keyed by a copy only if both have the same capacity.
    /// </summary>
    public static SocketAddress NewBuffer(System.Net.Sockets.AddressFamily family)
        => new(family, SocketAddress.GetMaximumAddressSize(family) + 1);

    /// <summary>A buffer any client address fits in, for <see cref="TryRead"/> (whose result is sent to, never compared).</summary>
    public static SocketAddress NewClientBuffer()
        => new(System.Net.Sockets.AddressFamily.InterNetworkV6, SocketAddress.GetMaximumAddressSize(System.Net.Sockets.AddressFamily.InterNetworkV6));

    /// <summary>The client's own address of a via-address (a copy), or <paramref name="address"/> itself.</summary>
    public static SocketAddress ClientOf(SocketAddress address)
    {
        if (!IsVia(address))
        {
            return address;
        }
        var client = new SocketAddress(address.Family, address.Size - 1);
        address.Buffer.Span[..client.Size].CopyTo(client.Buffer.Span);
        return client;
    }
}
