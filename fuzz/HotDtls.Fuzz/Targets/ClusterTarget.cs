using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using HotDtls.Cluster;
using HotDtls.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The node-to-node channel's receive path (<see cref="ClusterChannel.ProcessFrame"/>): what arrives on a cluster
/// node's channel socket is hostile until its MAC says otherwise. Node 1 receives; nodes 2 and 3 are configured. The
/// input is <c>[selector][rest]</c>:
/// <code>
///   selector bit 0    0: rest is a frame as it came off the wire; 1: rest describes a frame this target builds and signs
///            bit 1    node 1's channel keys: 0 {K1}; 1 {K2, K1} (a rotation in progress)
///            bit 2-3  the key a built frame is signed with: 0 K1, 1 K2, 2 K3 (no node has it), 3 K1
///   built:   rest = type (1) | sender (1) | receiver (1) | family (1: 4, 6, other) | port (2) | address (4 or 16 for
///            family 4 or 6, else none) | payload (the client's datagram)
/// </code>
/// Oracles: ProcessFrame never throws and never sends anything (nothing is answered on the channel); each frame moves
/// exactly one outcome counter; a frame is delivered only if an independent HMAC-SHA256 under a key node 1 holds
/// matches its MAC, it names node 1 as receiver and a configured node other than 1 as sender, and its type, family and
/// lengths are valid — and then exactly once, with the client address and bytes it carries; the same frame again is
/// not delivered; with one bit flipped it is not delivered; a forward whose CID does not name node 1 is counted
/// NotOwner and goes nowhere (never forwarded twice).
/// </summary>
internal static class ClusterTarget
{
    private static readonly byte[] K1 = Convert.FromHexString("486F744474667320636C7573746572206368616E6E656C206B6579206F6E6521");
    private static readonly byte[] K2 = Convert.FromHexString("486F744474667320636C7573746572206368616E6E656C206B65792074776F21");
    private static readonly byte[] K3 = Convert.FromHexString("486F744474667320636C7573746572206368616E6E656C206B6579207468726565");
    private static readonly IReadOnlyDictionary<byte, IPEndPoint> Nodes = new Dictionary<byte, IPEndPoint>
    {
        [1] = new(IPAddress.Parse("10.0.0.1"), 5685),
        [2] = new(IPAddress.Parse("10.0.0.2"), 5685),
        [3] = new(IPAddress.Parse("10.0.0.3"), 5685),
    };

    /// <summary>What the last input got delivered (replay prints it, to show a seed reaches that far).</summary>
    public static string LastOutcome { get; private set; } = "";

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 1)
        {
            return;
        }
        var selector = input[0];
        var rest = input[1..];
        byte[][] ring = (selector & 2) == 0 ? [K1] : [K2, K1];
        var signer = ((selector >> 2) & 3) switch { 1 => K2, 2 => K3, _ => K1 };
        byte[] frame;
        Expected? expected = null;
        if ((selector & 1) == 0)
        {
            frame = rest.ToArray();
        }
        else if (!TryBuild(rest, signer, out frame, out expected))
        {
            return;
        }

        var time = new ManualTimeProvider();
        var delivery = new RecordingDelivery();
        var sender = new CountingSender();
        var keys = new DtlsClusterKeys([new byte[32]], [new byte[48]], ring);
        using var channel = new ClusterChannel(1, Nodes, new ClusterKeyRing(keys), time, TimeSpan.FromSeconds(1),
            TimeSpan.FromSeconds(3), delivery, NullLogger.Instance, sender);
        var from = Nodes[2].Serialize();

        Process(channel, from, frame);
        var deliveredNow = delivery.Count;
        if (deliveredNow > 0)
        {
            CheckAuthentic(frame, ring);
        }
        if (expected is { } wanted)
        {
            var shouldDeliver = wanted.Valid && (signer == K1 || (signer == K2 && ring.Length == 2));
            if (shouldDeliver != (deliveredNow == 1))
            {
                throw new FuzzOracleException($"a built frame (valid {wanted.Valid}, signed with a key node 1 {(shouldDeliver ? "holds" : "lacks")}) was delivered {deliveredNow} times");
            }
            if (deliveredNow == 1)
            {
                delivery.CheckMatches(wanted);
            }
        }
        LastOutcome = deliveredNow == 0 ? "not delivered" : delivery.Describe();

        // The same frame again: never a second delivery (the replay window).
        Process(channel, from, frame);
        if (delivery.Count != deliveredNow)
        {
            throw new FuzzOracleException("a frame was delivered twice");
        }

        // One bit flipped anywhere: never delivered.
        if (frame.Length > 0)
        {
            var flipped = (byte[])frame.Clone();
            var bit = (rest.Length > 0 ? rest[^1] : 0) + frame.Length;
            flipped[bit % flipped.Length] ^= (byte)(1 << (bit % 8));
            Process(channel, from, flipped);
            if (delivery.Count != deliveredNow)
            {
                throw new FuzzOracleException("a frame with one bit flipped was delivered");
            }
        }
        if (sender.Sent != 0)
        {
            throw new FuzzOracleException($"the channel sent {sender.Sent} datagrams while receiving: nothing is answered on the channel");
        }
    }

    /// <summary>One ProcessFrame, checked to move exactly one outcome counter.</summary>
    private static void Process(ClusterChannel channel, SocketAddress from, byte[] frame)
    {
        var before = Outcomes(channel.Statistics);
        channel.ProcessFrame(from, (byte[])frame.Clone());
        var after = Outcomes(channel.Statistics);
        if (after - before != 1)
        {
            throw new FuzzOracleException($"one frame moved {after - before} outcome counters");
        }
    }

    private static long Outcomes(ClusterChannelStatistics s) => s.ForwardsDelivered + s.RepliesDelivered + s.HeartbeatsReceived
        + s.Malformed + s.Oversized + s.BadMac + s.Replayed + s.NotForMe + s.UnknownSender + s.NotOwner;

    /// <summary>A delivered frame's MAC, checked independently of the channel: HMAC-SHA256 under a key node 1 holds.</summary>
    private static void CheckAuthentic(byte[] frame, byte[][] ring)
    {
        if (frame.Length < ClusterFrame.HeaderLength + ClusterFrame.MacLength)
        {
            throw new FuzzOracleException("a frame shorter than a header and a MAC was delivered");
        }
        Span<byte> mac = stackalloc byte[32];
        foreach (var key in ring)
        {
            HMACSHA256.HashData(key, frame.AsSpan(0, frame.Length - ClusterFrame.MacLength), mac);
            if (CryptographicOperations.FixedTimeEquals(mac[..ClusterFrame.MacLength], frame.AsSpan(frame.Length - ClusterFrame.MacLength)))
            {
                return;
            }
        }
        throw new FuzzOracleException("a frame whose MAC no key of node 1 makes was delivered");
    }

    private static bool TryBuild(ReadOnlySpan<byte> rest, byte[] key, out byte[] frame, out Expected? expected)
    {
        frame = [];
        expected = null;
        if (rest.Length < 6)
        {
            return false;
        }
        var type = rest[0];
        var senderId = rest[1];
        var receiver = rest[2];
        var family = rest[3];
        var port = BinaryPrimitives.ReadUInt16BigEndian(rest[4..]);
        var addressLength = family switch { ClusterFrame.FamilyIPv4 => 4, ClusterFrame.FamilyIPv6 => 16, _ => 0 };
        if (rest.Length < 6 + addressLength)
        {
            return false;
        }
        var address = rest.Slice(6, addressLength);
        var payload = rest[(6 + addressLength)..];
        // The frame as the writer lays it out, written here byte by byte (not with ClusterFrame.WriteUnsigned), so that
        // any field value — an unknown type or family, a heartbeat with a payload — can be sent.
        var length = ClusterFrame.HeaderLength + (family == ClusterFrame.FamilyNone ? 0 : 2 + addressLength) + payload.Length;
        frame = new byte[length + ClusterFrame.MacLength];
        BinaryPrimitives.WriteUInt16BigEndian(frame, ClusterFrame.Magic);
        frame[2] = ClusterFrame.Version;
        frame[3] = type;
        frame[4] = senderId;
        frame[5] = receiver;
        BinaryPrimitives.WriteUInt64BigEndian(frame.AsSpan(6), 1_000_000);
        frame[ClusterFrame.FamilyOffset] = family;
        var offset = ClusterFrame.HeaderLength;
        if (family != ClusterFrame.FamilyNone)
        {
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(offset), port);
            address.CopyTo(frame.AsSpan(offset + 2));
            offset += 2 + addressLength;
        }
        payload.CopyTo(frame.AsSpan(offset));
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(key, frame.AsSpan(0, length), mac);
        mac[..ClusterFrame.MacLength].CopyTo(frame.AsSpan(length));

        var carriesClient = type is 1 or 2;
        var valid = receiver == 1 && senderId is 2 or 3
            && ((carriesClient && addressLength > 0) || (type == 3 && family == ClusterFrame.FamilyNone && payload.IsEmpty))
            && payload.Length <= ClusterFrame.MaxDatagram;
        // A forward goes to the server only when its CID names this node (RecordingDelivery, as the relay).
        var ours = type == 2 || (payload.Length >= 12 && payload[0] == 25 && payload[11] == 1);
        expected = new Expected(valid && carriesClient && ours, type, senderId, family == ClusterFrame.FamilyIPv4
            ? new IPEndPoint(new IPAddress(address), port)
            : addressLength == 16 ? new IPEndPoint(new IPAddress(address), port) : null, payload.ToArray());
        return true;
    }

    /// <summary>What a built frame must deliver, when <see cref="Valid"/> (heartbeats deliver nothing).</summary>
    private sealed record Expected(bool Valid, byte Type, byte Sender, IPEndPoint? Client, byte[] Payload);

    private sealed class RecordingDelivery : IClusterDelivery
    {
        private readonly List<(string Kind, byte From, IPEndPoint Client, byte[] Bytes)> _delivered = [];

        public int Count => _delivered.Count;

        public bool DeliverForwarded(byte fromNode, SocketAddress client, Span<byte> datagram)
        {
            // As the server's relay: only a tls12_cid record naming this node (1) is taken; anything else goes nowhere.
            if (datagram.Length < 12 || datagram[0] != 25 || datagram[11] != 1)
            {
                return false;
            }
            _delivered.Add(("forward", fromNode, client.ToEndPoint(), datagram.ToArray()));
            return true;
        }

        public void DeliverReply(SocketAddress client, ReadOnlySpan<byte> datagram)
            => _delivered.Add(("reply", 0, client.ToEndPoint(), datagram.ToArray()));

        public string Describe() => string.Join(", ", _delivered.Select(d => $"{d.Kind} of {d.Bytes.Length} bytes for {d.Client}"));

        public void CheckMatches(Expected wanted)
        {
            var (kind, from, client, bytes) = _delivered[0];
            if ((wanted.Type == 1) != (kind == "forward") || (kind == "forward" && from != wanted.Sender)
                || !client.Equals(wanted.Client) || !bytes.AsSpan().SequenceEqual(wanted.Payload))
            {
                throw new FuzzOracleException($"a built frame was delivered as a {kind} from {from} for {client} with {bytes.Length} bytes, not as built");
            }
        }
    }

    private sealed class CountingSender : IDatagramSender
    {
        public int Sent { get; private set; }

        public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer) => Sent++;
    }
}
