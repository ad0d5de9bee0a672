using System.Globalization;
using System.Net;

namespace HotDtls;

/// <summary>
/// Makes a <see cref="DtlsServer"/> one node of several behind a UDP load balancer (<see cref="DtlsServerOptions.Cluster"/>;
/// docs/scaling.md). The nodes share their cookie secrets and session ticket keys (<see cref="Keys"/> or
/// <see cref="KeyFile"/>), so a client's cookie exchange and ticket work at whichever node the balancer picks; and a
/// node that receives a Connection ID record of a session another node owns forwards it to that node over an
/// authenticated node-to-node channel (<see cref="ChannelEndPoint"/>, <see cref="Nodes"/>), so a client whose address
/// changed keeps its session. No session state crosses nodes.
/// </summary>
public sealed class DtlsClusterOptions
{
    /// <summary>The longest a node is counted live after its last heartbeat: <see cref="NodeTimeout"/>'s upper bound.</summary>
    private static readonly TimeSpan s_maxNodeTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// This node's id, 1 to 255, unique in the cluster: the first byte of every Connection ID it issues (the
    /// <see cref="DtlsServerOptions.ConnectionIdNode"/> of a node), which tells every other node where to forward.
    /// </summary>
    public byte NodeId { get; set; }

    /// <summary>
    /// The shared secrets. Set this or <see cref="KeyFile"/>; <see cref="DtlsServer.UpdateClusterKeys"/> replaces them
    /// while the server runs.
    /// </summary>
    public DtlsClusterKeys? Keys { get; set; }

    /// <summary>
    /// A key file (format: <see cref="DtlsClusterKeys"/>) read at start and read again whenever its modification time
    /// changes (checked every <see cref="HeartbeatInterval"/>), so a rotation needs no restart. A file that no longer
    /// reads leaves the keys as they were and is reported as an error. Set this or <see cref="Keys"/>.
    /// </summary>
    public string? KeyFile { get; set; }

    /// <summary>
    /// Where this node receives records forwarded by the other nodes (and their heartbeats), a UDP address other nodes
    /// can reach; <see langword="null"/>: no node-to-node channel, and CID records of other nodes' sessions are dropped.
    /// Keep it on a network clients cannot reach: the channel is authenticated, but a firewall is cheaper than a MAC.
    /// </summary>
    public IPEndPoint? ChannelEndPoint { get; set; }

    /// <summary>
    /// The other nodes' ids and <see cref="ChannelEndPoint"/>s. This node's own id may be listed (every node can then share
    /// one list); it is skipped.
    /// </summary>
    public IDictionary<byte, IPEndPoint> Nodes { get; } = new Dictionary<byte, IPEndPoint>();

    /// <summary>How often this node tells every other node it is alive (and checks <see cref="KeyFile"/>). Default 1 s.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A node not heard from for this long is counted down: records for its sessions are dropped rather than forwarded
    /// (their clients then reconnect, resuming with their tickets). Default 3 s; at least two heartbeat intervals.
    /// </summary>
    public TimeSpan NodeTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Checks the settings; <paramref name="connectionIdNode"/> is the server's own node byte.</summary>
    internal void Validate(byte connectionIdNode, int? connectionIdLength)
    {
        if (NodeId == 0)
        {
            throw new ArgumentException(
                "DtlsClusterOptions.NodeId is required: 1 to 255, a different one on every node (0 means \"no cluster\" in a Connection ID).");
        }
        if (connectionIdNode != 0 && connectionIdNode != NodeId)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"DtlsServerOptions.ConnectionIdNode ({connectionIdNode}) differs from DtlsClusterOptions.NodeId ({NodeId}): set only NodeId; it is the node byte of every Connection ID."));
        }
        if ((Keys is null) == (KeyFile is null))
        {
            throw new ArgumentException(
                "A cluster needs its shared keys from exactly one place: set DtlsClusterOptions.Keys or DtlsClusterOptions.KeyFile (not both).");
        }
        if (HeartbeatInterval < TimeSpan.FromMilliseconds(10) || HeartbeatInterval > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(HeartbeatInterval), HeartbeatInterval,
                "DtlsClusterOptions.HeartbeatInterval must be 10 ms to 1 minute.");
        }
        if (NodeTimeout < 2 * HeartbeatInterval || NodeTimeout > s_maxNodeTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(NodeTimeout), NodeTimeout,
                "DtlsClusterOptions.NodeTimeout must be at least two heartbeat intervals (one lost heartbeat must not take a node down) and at most 10 minutes.");
        }
        if (ChannelEndPoint is null && Nodes.Count > 0)
        {
            throw new ArgumentException(
                "DtlsClusterOptions.Nodes is set but ChannelEndPoint is not: a node forwards through its own channel socket; set ChannelEndPoint (or clear Nodes).");
        }
        if (ChannelEndPoint is not null && connectionIdLength is null or < 4)
        {
            throw new ArgumentException(
                "The node-to-node channel forwards Connection ID records, but this server issues no Connection IDs: set DtlsServerOptions.ConnectionIdLength to 4 or more (default 6), or leave ChannelEndPoint unset.");
        }
        foreach (var (id, endPoint) in Nodes)
        {
            if (id == 0)
            {
                throw new ArgumentException("DtlsClusterOptions.Nodes: node id 0 is not a node (ids are 1 to 255).");
            }
            if (endPoint is null || endPoint.Port == 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"DtlsClusterOptions.Nodes: node {id} needs the address and port of its ChannelEndPoint."));
            }
        }
    }
}
