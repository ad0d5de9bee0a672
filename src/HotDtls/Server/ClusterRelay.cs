using System.Net;
using HotDtls.Cluster;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Server;

/// <summary>
/// What a cluster node's channel delivers, handed to the server: a forwarded CID record goes to the receive loop that
/// owns its session, as if it came from the client reached through the forwarding node (a <see cref="ViaAddress"/>);
/// a reply another node asks this node to send goes out of this node's DTLS socket, the one the balancer knows.
/// </summary>
/// <remarks>
/// Called on the channel's receive thread only: the via-address buffer is reused (the engine copies an address it
/// keeps).
/// </remarks>
internal sealed class ClusterRelay : IClusterDelivery
{
    // A tls12_cid record: type, version, epoch, sequence_number (11 bytes), then the CID: node byte, loop byte (RFC 9146 §4).
    private const int NodeByteOffset = 11;
    private const int LoopByteOffset = 12;

    private readonly ServerEngine[] _engines;
    private readonly byte _node;
    private readonly int _connectionIdLength;
    private readonly IDatagramSender _replies;
    // One per family, sized exactly (ViaAddress.NewBuffer): a reused address must compare equal to the copies the table keeps.
    private readonly SocketAddress _viaV4 = ViaAddress.NewBuffer(System.Net.Sockets.AddressFamily.InterNetwork);
    private readonly SocketAddress _viaV6 = ViaAddress.NewBuffer(System.Net.Sockets.AddressFamily.InterNetworkV6);

    /// <param name="engines">The server's engines, by loop index.</param>
    /// <param name="node">This node's id.</param>
    /// <param name="connectionIdLength">The length of the CIDs the server issues (every node the same).</param>
    /// <param name="replies">Sends from the server's DTLS socket.</param>
    public ClusterRelay(ServerEngine[] engines, byte node, int connectionIdLength, IDatagramSender replies)
    {
        _engines = engines;
        _node = node;
        _connectionIdLength = connectionIdLength;
        _replies = replies;
    }

    /// <summary>CID records forwarded here that this node owns, handed to their loop (for tests and figures).</summary>
    public long Delivered { get; private set; }

    public bool DeliverForwarded(byte fromNode, SocketAddress client, Span<byte> datagram)
    {
        // Only a CID record of ours is taken: anything else is a misrouting (or a loop between misconfigured nodes), and it
        // goes no further — never forwarded twice.
        if (_connectionIdLength < 2 || datagram.Length < RecordHeader.Size + _connectionIdLength
            || datagram[0] != (byte)ContentType.Tls12Cid || datagram[NodeByteOffset] != _node)
        {
            return false;
        }
        var loop = datagram[LoopByteOffset];
        var engine = loop < _engines.Length ? _engines[loop] : _engines[0];
        var via = client.Family == System.Net.Sockets.AddressFamily.InterNetwork ? _viaV4 : _viaV6;
        if (client.Size + 1 != via.Buffer.Length)
        {
            return false;
        }
        ViaAddress.Write(client, fromNode, via);
        Delivered++;
        engine.ProcessDatagram(via, datagram);
        return true;
    }

    public void DeliverReply(SocketAddress client, ReadOnlySpan<byte> datagram) => _replies.Send(datagram, client);
}
