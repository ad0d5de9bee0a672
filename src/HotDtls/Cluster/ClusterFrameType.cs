namespace HotDtls.Cluster;

/// <summary>The type byte of a node-to-node frame (<see cref="ClusterFrameReader"/>).</summary>
internal enum ClusterFrameType : byte
{
    /// <summary>A client's datagram, sent by the node that received it to the node that owns its Connection ID.</summary>
    Forward = 1,

    /// <summary>A datagram for a client, sent by its session's owner to the node the client's records arrive at.</summary>
    Reply = 2,

    /// <summary>"I am alive": timer-driven, carries neither address nor payload.</summary>
    Heartbeat = 3,
}
