using System.Net;
using HotDtls.Cluster;
using HotDtls.Connection;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Server;

/// <summary>The engine as a cluster node (docs/scaling.md): CID records of other nodes' sessions go to their owner.</summary>
internal sealed partial class ServerEngine
{
    /// <summary>
    /// The cluster's node-to-node channel (null: a server on its own, or a node without one). Set before the engine's
    /// loop starts.
    /// </summary>
    internal IClusterForwarder? Forwarder { get; set; }

    /// <summary>
    /// The node that owns a datagram whose first record is a tls12_cid record of this cluster's layout naming another
    /// node (the node byte of the CID, <see cref="ConnectionIdTable"/>), or 0: ours, not a CID record, or no cluster (a
    /// server on its own issues node byte 0 or its <see cref="DtlsServerOptions.ConnectionIdNode"/>, and a CID with node
    /// 0 is nobody's to forward to).
    /// </summary>
    private byte OtherNode(ReadOnlySpan<byte> datagram)
    {
        // A tls12_cid record: type, version, epoch, sequence_number (11 bytes), then the CID (RFC 9146 §4).
        const int NodeByteOffset = 11;
        if (!_isClusterNode || _connectionIds is not { } table || datagram.Length < RecordHeader.Size + table.Length
            || datagram[0] != (byte)ContentType.Tls12Cid || datagram[NodeByteOffset] == table.Node)
        {
            return 0;
        }
        return datagram[NodeByteOffset];
    }

    /// <summary>
    /// A CID record of node <paramref name="node"/>'s session: forwarded over the node-to-node channel, unchanged and
    /// with the address it came from; dropped if it came over the channel itself (it is never forwarded twice) or the
    /// node cannot be reached.
    /// </summary>
    private void ForwardToNode(byte node, SocketAddress from, ReadOnlySpan<byte> datagram)
    {
        var forwarded = !ViaAddress.IsVia(from) && Forwarder is { } forwarder && forwarder.TryForward(node, from, datagram);
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _observer.Counters.DatagramsReceived++;
            _observer.Counters.BytesReceived += datagram.Length;
            if (forwarded)
            {
                _observer.Counters.DatagramsForwarded++;
            }
            else
            {
                _observer.Counters.DatagramsNotForwarded++;
                _observer.Drop(from, DropReason.ClusterNodeUnavailable);
            }
        }
    }
}
