using HotDtls.Cluster;

namespace HotDtls.Tests.Cluster;

public sealed class ClusterFrameTests
{
    private static readonly byte[] s_ipv4 = [192, 0, 2, 7];
    private static readonly byte[] s_ipv6 = Convert.FromHexString("20010db8000000000000000000000042");
    private static readonly byte[] s_payload = [0x19, 0xfe, 0xfd, 0x00, 0x01];

    [Fact]
    public void Forward_with_an_IPv4_client_has_the_documented_bytes_and_reads_back()
    {
        var frame = Write(ClusterFrameType.Forward, 3, 9, 0x0102030405060708, ClusterFrame.FamilyIPv4, 5684, s_ipv4, s_payload);

        var expected = Convert.FromHexString(
            "4843" + "01" + "01" + "03" + "09" + "0102030405060708" + "04" + "1634" + "c0000207" + "19fefd0001");
        Assert.Equal(expected, frame[..^ClusterFrame.MacLength]);
        Assert.Equal(expected.Length + ClusterFrame.MacLength, frame.Length);

        Assert.True(ClusterFrameReader.TryRead(frame, out var reader));
        Assert.Equal(ClusterFrameType.Forward, reader.Type);
        Assert.Equal(3, reader.Sender);
        Assert.Equal(9, reader.Receiver);
        Assert.Equal(0x0102030405060708UL, reader.Sequence);
        Assert.Equal(ClusterFrame.FamilyIPv4, reader.Family);
        Assert.Equal(5684, reader.Port);
        Assert.Equal(s_ipv4, reader.Address.ToArray());
        Assert.Equal(s_payload, reader.Payload.ToArray());
        Assert.Equal(expected, reader.Authenticated.ToArray());
        Assert.Equal(frame[^ClusterFrame.MacLength..], reader.Mac.ToArray());
    }

    [Fact]
    public void Reply_with_an_IPv6_client_reads_back()
    {
        var frame = Write(ClusterFrameType.Reply, 200, 1, 42, ClusterFrame.FamilyIPv6, 65535, s_ipv6, s_payload);

        Assert.Equal(ClusterFrame.Length(ClusterFrame.FamilyIPv6, s_payload.Length), frame.Length);
        Assert.True(ClusterFrameReader.TryRead(frame, out var reader));
        Assert.Equal(ClusterFrameType.Reply, reader.Type);
        Assert.Equal(200, reader.Sender);
        Assert.Equal(1, reader.Receiver);
        Assert.Equal(42UL, reader.Sequence);
        Assert.Equal(ClusterFrame.FamilyIPv6, reader.Family);
        Assert.Equal(65535, reader.Port);
        Assert.Equal(s_ipv6, reader.Address.ToArray());
        Assert.Equal(s_payload, reader.Payload.ToArray());
        Assert.Equal(ClusterFrame.HeaderLength + 2 + 16, reader.PayloadOffset);
    }

    [Fact]
    public void Heartbeat_is_header_and_MAC_only_and_reads_back()
    {
        var frame = Write(ClusterFrameType.Heartbeat, 1, 2, 7, ClusterFrame.FamilyNone, 0, [], []);

        Assert.Equal(Convert.FromHexString("4843" + "01" + "03" + "01" + "02" + "0000000000000007" + "00"), frame[..^ClusterFrame.MacLength]);
        Assert.True(ClusterFrameReader.TryRead(frame, out var reader));
        Assert.Equal(ClusterFrameType.Heartbeat, reader.Type);
        Assert.Equal(0, reader.PayloadLength);
        Assert.Equal(0, reader.AddressLength);
    }

    [Fact]
    public void Empty_payload_forward_reads_back()
    {
        var frame = Write(ClusterFrameType.Forward, 1, 2, 7, ClusterFrame.FamilyIPv4, 1, s_ipv4, []);

        Assert.True(ClusterFrameReader.TryRead(frame, out var reader));
        Assert.Equal(0, reader.PayloadLength);
    }

    [Fact]
    public void The_largest_frame_is_the_documented_overhead_above_the_largest_datagram()
    {
        Assert.Equal(ClusterFrame.MaxDatagram + 49, ClusterFrame.MaxFrameLength);
        Assert.True(ClusterFrame.MaxOverhead <= 51);
        var frame = Write(ClusterFrameType.Forward, 1, 2, 7, ClusterFrame.FamilyIPv6, 1, s_ipv6, new byte[ClusterFrame.MaxDatagram]);
        Assert.Equal(ClusterFrame.MaxFrameLength, frame.Length);
        Assert.True(ClusterFrameReader.TryRead(frame, out _));
    }

    public static TheoryData<string> MalformedCases() =>
    [
        "empty", "one byte short of a heartbeat", "bad magic", "bad version", "type 0", "type 4", "forward with family 0",
        "forward with family 5", "reply with family 255", "heartbeat with an IPv4 family", "heartbeat with a payload",
        "forward too short for its IPv6 address", "forward too short for its IPv4 address", "one byte above the largest frame",
    ];

    [Theory]
    [MemberData(nameof(MalformedCases))]
    public void Malformed_frames_are_refused_without_an_exception(string name)
    {
        var frame = Malformed(name);

        Assert.False(ClusterFrameReader.TryRead(frame, out _), name);
    }

    [Fact]
    public void Every_byte_length_of_a_forward_below_its_header_is_refused()
    {
        var frame = Write(ClusterFrameType.Forward, 1, 2, 7, ClusterFrame.FamilyIPv6, 1, s_ipv6, s_payload);
        var shortest = ClusterFrame.Length(ClusterFrame.FamilyIPv6, 0);

        for (var length = 0; length < shortest; length++)
        {
            Assert.False(ClusterFrameReader.TryRead(frame.AsSpan(0, length), out _), $"length {length}");
        }
        Assert.True(ClusterFrameReader.TryRead(frame.AsSpan(0, shortest), out _));
    }

    [Fact]
    public void Writer_refuses_an_address_of_the_wrong_length_and_a_small_destination()
    {
        Assert.Throws<ArgumentException>(() => ClusterFrame.WriteUnsigned(new byte[100], ClusterFrameType.Forward, 1, 2, 3,
            ClusterFrame.FamilyIPv4, 1, s_ipv6, []));
        Assert.Throws<ArgumentException>(() => ClusterFrame.WriteUnsigned(new byte[30], ClusterFrameType.Heartbeat, 1, 2, 3,
            ClusterFrame.FamilyNone, 0, [], []));
    }

    private static byte[] Malformed(string name)
    {
        var forward = Write(ClusterFrameType.Forward, 1, 2, 7, ClusterFrame.FamilyIPv4, 1, s_ipv4, s_payload);
        var heartbeat = Write(ClusterFrameType.Heartbeat, 1, 2, 7, ClusterFrame.FamilyNone, 0, [], []);
        switch (name)
        {
            case "empty": return [];
            case "one byte short of a heartbeat": return heartbeat[..^1];
            case "bad magic": forward[1] ^= 1; return forward;
            case "bad version": forward[2] = 2; return forward;
            case "type 0": forward[3] = 0; return forward;
            case "type 4": forward[3] = 4; return forward;
            case "forward with family 0": forward[ClusterFrame.FamilyOffset] = 0; return forward;
            case "forward with family 5": forward[ClusterFrame.FamilyOffset] = 5; return forward;
            case "reply with family 255": forward[3] = (byte)ClusterFrameType.Reply; forward[ClusterFrame.FamilyOffset] = 255; return forward;
            case "heartbeat with an IPv4 family": heartbeat[ClusterFrame.FamilyOffset] = 4; return heartbeat;
            case "heartbeat with a payload":
                return Write(ClusterFrameType.Heartbeat, 1, 2, 7, ClusterFrame.FamilyNone, 0, [], [1]);
            case "forward too short for its IPv6 address":
                // A frame whose family says 16 address bytes but which holds only 15 before the MAC.
                var v6 = Write(ClusterFrameType.Forward, 1, 2, 7, ClusterFrame.FamilyIPv4, 1, s_ipv4, new byte[11]);
                v6[ClusterFrame.FamilyOffset] = ClusterFrame.FamilyIPv6;
                Assert.Equal(ClusterFrame.Length(ClusterFrame.FamilyIPv6, 0) - 1, v6.Length);
                return v6;
            case "forward too short for its IPv4 address":
                return forward[..(ClusterFrame.HeaderLength + 2 + 3)].Concat(new byte[ClusterFrame.MacLength]).ToArray();
            case "one byte above the largest frame":
                return Write(ClusterFrameType.Forward, 1, 2, 7, ClusterFrame.FamilyIPv6, 1, s_ipv6, new byte[ClusterFrame.MaxDatagram + 1]);
            default: throw new ArgumentOutOfRangeException(nameof(name), name, null);
        }
    }

    /// <summary>A frame with a recognisable stand-in MAC (the reader does not check MACs).</summary>
    private static byte[] Write(ClusterFrameType type, byte sender, byte receiver, ulong sequence, byte family, ushort port,
        byte[] address, byte[] payload)
    {
        var frame = new byte[ClusterFrame.Length(family, payload.Length)];
        var length = ClusterFrame.WriteUnsigned(frame, type, sender, receiver, sequence, family, port, address, payload);
        Assert.Equal(frame.Length - ClusterFrame.MacLength, length);
        frame.AsSpan(length).Fill(0xAA);
        return frame;
    }
}
