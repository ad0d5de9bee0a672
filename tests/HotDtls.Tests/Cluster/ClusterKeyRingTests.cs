using HotDtls.Cluster;
using HotDtls.Tests.Cookies;

namespace HotDtls.Tests.Cluster;

public sealed class ClusterKeyRingTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"hotdtls-ring-{Guid.NewGuid():N}.txt");

    public void Dispose() => File.Delete(_path);

    private static string Text(byte cookie) =>
        $"cookie-secret {Convert.ToHexString(Support.TestBytes.Filled(32, cookie))}\n" +
        $"ticket-key {Convert.ToHexString(Support.TestBytes.Filled(48, 0xA0))}\n" +
        $"channel-key {Convert.ToHexString(Support.TestBytes.Filled(32, 0xC0))}\n";

    private void Write(byte cookie, DateTime writeTime)
    {
        File.WriteAllText(_path, Text(cookie));
        File.SetLastWriteTimeUtc(_path, writeTime);
    }

    [Fact]
    public void Replace_swaps_the_keys_and_counts_the_version_up()
    {
        var ring = new ClusterKeyRing(CookieVerifierSharedTests.Keys(1));
        var version = ring.Version;
        var keys = CookieVerifierSharedTests.Keys(2, 1);

        ring.Replace(keys);

        Assert.Same(keys, ring.Keys);
        Assert.Equal(version + 1, ring.Version);
    }

    [Fact]
    public void A_key_file_is_read_again_only_when_its_modification_time_changes()
    {
        var first = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Write(1, first);
        var ring = ClusterKeyRing.Create(new DtlsClusterOptions { NodeId = 1, KeyFile = _path });
        Assert.Equal(1, ring.Keys.CookieSecrets[0][0]);

        Assert.False(ring.TryReloadFile(out var error));
        Assert.Null(error);

        Write(2, first.AddSeconds(1));
        Assert.True(ring.TryReloadFile(out error));
        Assert.Null(error);
        Assert.Equal(2, ring.Keys.CookieSecrets[0][0]);
        Assert.False(ring.TryReloadFile(out _));
    }

    [Fact]
    public void A_key_file_that_no_longer_reads_keeps_the_keys_and_says_why_without_secrets()
    {
        var first = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        Write(1, first);
        var ring = ClusterKeyRing.Create(new DtlsClusterOptions { NodeId = 1, KeyFile = _path });
        var keys = ring.Keys;

        File.WriteAllText(_path, "cookie-secret " + Convert.ToHexString(Support.TestBytes.Filled(32, 9)) + "\n");
        File.SetLastWriteTimeUtc(_path, first.AddSeconds(1));
        Assert.False(ring.TryReloadFile(out var error));

        Assert.Same(keys, ring.Keys);
        Assert.Contains("ticket-key", error, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(Support.TestBytes.Filled(32, 9)), error, StringComparison.OrdinalIgnoreCase);

        // Fixed: read at the next try.
        Write(3, first.AddSeconds(2));
        Assert.True(ring.TryReloadFile(out _));
        Assert.Equal(3, ring.Keys.CookieSecrets[0][0]);
    }

    [Fact]
    public void A_missing_key_file_at_start_is_a_DtlsException_naming_the_file()
    {
        var exception = Assert.Throws<DtlsException>(() => ClusterKeyRing.Create(new DtlsClusterOptions { NodeId = 1, KeyFile = _path }));

        Assert.Contains(Path.GetFileName(_path), exception.Message, StringComparison.Ordinal);
    }
}
