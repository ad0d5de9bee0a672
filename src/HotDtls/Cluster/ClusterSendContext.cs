namespace HotDtls.Cluster;

/// <summary>One sender's frame buffer and signing HMAC.</summary>
internal sealed class ClusterSendContext(ClusterKeyRing ring)
{
    public byte[] Buffer { get; } = new byte[ClusterFrame.MaxFrameLength];

    public ClusterFrameMac Mac { get; } = new(ring);
}
