namespace HotDtls.Cluster;

/// <summary>
/// The node-to-node channel's counters since it was made (<see cref="ClusterChannel.Statistics"/>). Every frame handed to
/// the receive path is either delivered (a forward, a reply or a heartbeat) or dropped under exactly one reason.
/// </summary>
internal readonly record struct ClusterChannelStatistics
{
    /// <summary>Frames handed to the socket (forwards, replies and heartbeats).</summary>
    public long FramesSent { get; init; }

    /// <summary>Frames that reached the receive path, valid or not.</summary>
    public long FramesReceived { get; init; }

    /// <summary>Forward frames sent (<see cref="ClusterChannel.TryForward"/> returned true).</summary>
    public long ForwardsSent { get; init; }

    /// <summary>Authenticated Forward frames this node owned (the delivery returned true).</summary>
    public long ForwardsDelivered { get; init; }

    /// <summary>Reply frames sent (<see cref="ClusterChannel.TrySendReply"/> returned true).</summary>
    public long RepliesSent { get; init; }

    /// <summary>Authenticated Reply frames handed to the delivery.</summary>
    public long RepliesDelivered { get; init; }

    /// <summary>Heartbeats sent.</summary>
    public long HeartbeatsSent { get; init; }

    /// <summary>Authenticated heartbeats received.</summary>
    public long HeartbeatsReceived { get; init; }

    /// <summary>Forwards or replies refused: the node is not live (no authenticated frame within the node timeout).</summary>
    public long RefusedNodeDown { get; init; }

    /// <summary>Forwards or replies refused: the node is not a configured other node.</summary>
    public long RefusedUnknownNode { get; init; }

    /// <summary>Forwards or replies refused: the datagram is larger than <see cref="ClusterFrame.MaxDatagram"/>.</summary>
    public long RefusedTooLarge { get; init; }

    /// <summary>Forwards or replies refused: the channel is disposed (or was never given a socket).</summary>
    public long RefusedStopped { get; init; }

    /// <summary>Dropped: not a frame (short, bad magic, version, type or family, wrong length, a heartbeat with content).</summary>
    public long Malformed { get; init; }

    /// <summary>Dropped: longer than the longest frame, or a payload above <see cref="ClusterFrame.MaxDatagram"/>.</summary>
    public long Oversized { get; init; }

    /// <summary>Dropped: the MAC matches neither channel key.</summary>
    public long BadMac { get; init; }

    /// <summary>Dropped: a sequence number already accepted from that sender, or left of its window.</summary>
    public long Replayed { get; init; }

    /// <summary>Dropped: addressed to another node id.</summary>
    public long NotForMe { get; init; }

    /// <summary>Dropped: the sender is not a configured node, or claims this node's own id.</summary>
    public long UnknownSender { get; init; }

    /// <summary>Authenticated Forward frames for a Connection ID this node does not own: dropped, never forwarded on.</summary>
    public long NotOwner { get; init; }
}
