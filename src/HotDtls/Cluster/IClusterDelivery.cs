using System.Net;

namespace HotDtls.Cluster;

/// <summary>What the node-to-node channel hands to the server (implemented by the server's glue).</summary>
internal interface IClusterDelivery
{
    /// <summary>
    /// An authenticated Forward frame from node <paramref name="fromNode"/>: the client's datagram as the forwarder
    /// received it from <paramref name="client"/>. Returns false when this node does not own the datagram's CID: the
    /// channel counts it NotOwner and never forwards it on. <paramref name="client"/> and <paramref name="datagram"/>
    /// are only valid during the call (the channel reuses its buffers).
    /// </summary>
    bool DeliverForwarded(byte fromNode, SocketAddress client, Span<byte> datagram);

    /// <summary>An authenticated Reply frame: send <paramref name="datagram"/> to <paramref name="client"/> from this node's DTLS socket.</summary>
    void DeliverReply(SocketAddress client, ReadOnlySpan<byte> datagram);
}
