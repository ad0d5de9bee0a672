using HotDtls.Connection;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Connection;

public sealed class ConnectionIdTableTests
{
    // A connection only as the table's value: nothing is sent or received.
    private static ServerConnection NewConnection(ServerHarness server)
    {
        var services = new ConnectionServices(server.Options, new Lock(), new CapturingSender(), new byte[64], new NullObserver(),
            new SeededRandom(3), standInKey: new HotDtls.Crypto.StandInKey(new SeededRandom(4)));
        return new ServerConnection(services, System.Net.IPEndPoint.Parse("127.0.0.1:4000").Serialize(), 0);
    }

    private sealed class NullObserver : IConnectionObserver
    {
        public void OnEstablished(DtlsConnection connection)
        {
        }

        public void OnPskLookup(DtlsConnection connection)
        {
        }

        public void OnPskStoreFailed(DtlsConnection connection, Exception exception)
        {
        }

        public void OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext)
        {
        }

        public void OnClosed(DtlsConnection connection, DtlsCloseReason reason, HotDtls.Handshake.DtlsError error,
            AlertDescription? alert)
        {
        }

        public void OnDropped(DtlsConnection connection, HotDtls.Handshake.DropReason reason)
        {
        }
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(10)]
    public void An_issued_CID_starts_with_node_and_loop_and_finds_its_connection(int length)
    {
        using var server = new ServerHarness();
        var table = new ConnectionIdTable(length, node: 0x42, loop: 3, new SeededRandom(5));
        using var owner = NewConnection(server);

        Assert.True(table.TryIssue(owner, out var key));
        var cid = new byte[length];
        table.Write(key, cid);

        Assert.Equal(0x42, cid[0]);
        Assert.Equal(3, cid[1]);
        Assert.Equal(3, ConnectionIdTable.LoopOf(cid));
        Assert.True(table.TryFind(cid, out var found));
        Assert.Same(owner, found);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void A_CID_of_another_node_loop_or_length_is_not_found()
    {
        using var server = new ServerHarness();
        var table = new ConnectionIdTable(6, node: 1, loop: 0, new SeededRandom(5));
        using var owner = NewConnection(server);
        Assert.True(table.TryIssue(owner, out var key));
        var cid = new byte[6];
        table.Write(key, cid);

        var otherNode = (byte[])cid.Clone();
        otherNode[0] = 2;
        var otherLoop = (byte[])cid.Clone();
        otherLoop[1] = 1;

        Assert.False(table.TryFind(otherNode, out _));
        Assert.False(table.TryFind(otherLoop, out _));
        Assert.False(table.TryFind(cid.AsSpan(0, 5), out _));
        Assert.False(table.TryFind([.. cid, 0], out _));
    }

    [Fact]
    public void Issued_CIDs_are_unique_and_a_removed_one_is_free_again()
    {
        using var server = new ServerHarness();
        // 4-byte CIDs: 16 random bits, so collisions are drawn again.
        var table = new ConnectionIdTable(4, node: 0, loop: 0, new SeededRandom(9));
        var owners = new List<ServerConnection>();
        var keys = new HashSet<ulong>();
        for (var i = 0; i < 2000; i++)
        {
            var owner = NewConnection(server);
            owners.Add(owner);
            Assert.True(table.TryIssue(owner, out var key));
            Assert.True(keys.Add(key), "a CID in use was issued again");
        }
        Assert.Equal(2000, table.Count);

        var first = keys.First();
        var cid = new byte[4];
        table.Write(first, cid);
        Assert.True(table.TryFind(cid, out var holder));
        table.Remove(first, owners[0] == holder ? owners[1] : owners[0]);
        Assert.True(table.TryFind(cid, out _), "only the holder can give a CID back");
        table.Remove(first, holder);
        Assert.False(table.TryFind(cid, out _));
        owners.ForEach(o => o.Dispose());
    }

    [Fact]
    public void A_full_table_issues_no_CID_and_a_freed_slot_is_taken_again_with_new_check_bytes()
    {
        using var server = new ServerHarness();
        var table = new ConnectionIdTable(6, node: 0, loop: 0, new SeededRandom(3), maxSlots: 2);
        using var first = NewConnection(server);
        using var second = NewConnection(server);
        using var third = NewConnection(server);
        Assert.True(table.TryIssue(first, out var firstKey));
        Assert.True(table.TryIssue(second, out _));

        Assert.False(table.TryIssue(third, out var none));
        Assert.Equal(0UL, none);

        table.Remove(firstKey, first);
        Assert.True(table.TryIssue(third, out var reused));
        var firstCid = new byte[6];
        table.Write(firstKey, firstCid);
        // first's CID is still refused when the slot has a new holder: the check bytes differ.
        Assert.NotEqual(firstKey, reused);
        Assert.False(table.TryFind(firstCid, out var stale) && ReferenceEquals(stale, first));
    }

    [Fact]
    public void The_table_grows_by_half_and_costs_a_few_bytes_per_session()
    {
        using var server = new ServerHarness();
        var table = new ConnectionIdTable(6, node: 0, loop: 0, new SeededRandom(3));
        var owners = new List<ServerConnection>();
        for (var i = 0; i < 10_000; i++)
        {
            var owner = NewConnection(server);
            owners.Add(owner);
            Assert.True(table.TryIssue(owner, out _));
        }

        // At most 8 / (7/8) × 1.5 ≈ 14 bytes of slot array per session, whatever the count.
        Assert.InRange(table.Capacity, 10_001, 10_000 * 12 / 7);
        owners.ForEach(o => o.Dispose());
    }

    [Theory]
    [InlineData(3)]
    [InlineData(11)]
    public void Lengths_outside_4_to_10_are_refused(int length)
        => Assert.Throws<ArgumentOutOfRangeException>(() => new ConnectionIdTable(length, 0, 0, new SeededRandom(1)));

}
