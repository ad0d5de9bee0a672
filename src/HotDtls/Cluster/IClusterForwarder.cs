using System.Net;

namespace HotDtls.Cluster;

/// <summary>
/// How a server engine reaches the other nodes of its cluster (the node-to-node channel, <see cref="ClusterChannel"/>):
/// it forwards the CID records of sessions another node owns, and sends what its own sessions answer to clients that
/// another node forwarded, back through that node.
/// </summary>
internal interface IClusterForwarder
{
    /// <summary>
    /// Sends <paramref name="datagram"/>, received from <paramref name="client"/>, to node <paramref name="owner"/>.
    /// False (nothing sent) when the node is unknown, down, or the datagram too large.
    /// </summary>
    bool TryForward(byte owner, SocketAddress client, ReadOnlySpan<byte> datagram);

    /// <summary>
    /// Has node <paramref name="via"/> send <paramref name="datagram"/> to <paramref name="client"/> from its DTLS socket.
    /// False (nothing sent) when the node is unknown, down, or the datagram too large.
    /// </summary>
    bool TrySendReply(byte via, SocketAddress client, ReadOnlySpan<byte> datagram);
}
