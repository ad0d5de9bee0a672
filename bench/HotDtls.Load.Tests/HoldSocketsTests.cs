using System.Globalization;
using System.Net;

namespace HotDtls.Load.Tests;

public class HoldSocketsTests
{
    [Fact]
    public void Released_sessions_send_from_tuples_never_used_twice()
    {
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.3.0.1"), 20_000), HoldWorker.SourceFor(0));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.3.0.1"), 59_999), HoldWorker.SourceFor(39_999));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.3.0.2"), 20_000), HoldWorker.SourceFor(40_000));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("127.3.1.0"), 20_000), HoldWorker.SourceFor(255 * 40_000L));
        var seen = new HashSet<IPEndPoint>();
        for (var n = 0; n < 250_000; n += 7)
        {
            var source = HoldWorker.SourceFor(n);
            Assert.True(IPAddress.IsLoopback(source.Address));
            Assert.True(seen.Add(source));
        }
    }

    [Fact]
    public void Released_sockets_need_a_loopback_server()
    {
        var o = LoadOptions.Parse(["hold", "--server", "192.0.2.1:5", "--release-sockets"]);
        var exception = Assert.Throws<UsageException>(() => Runner.CheckHoldSockets(o, new IPEndPoint(IPAddress.Parse("192.0.2.1"), 5)));
        Assert.Contains("127.0.0.0/8", exception.Message, StringComparison.Ordinal);
        Runner.CheckHoldSockets(o, new IPEndPoint(IPAddress.Loopback, 5));
    }

    [Fact]
    public void Holding_more_sockets_than_the_descriptor_limit_is_refused_up_front_with_the_way_out()
    {
        var limit = Native.OpenFileLimit();
        if (limit is null or > 9_000_000)
        {
            return; // no descriptor limit in -k's range to exceed
        }
        var o = LoadOptions.Parse(["hold", "--server", "127.0.0.1:5", "-k", (limit!.Value + 1).ToString(CultureInfo.InvariantCulture)]);
        var exception = Assert.Throws<UsageException>(() => Runner.CheckHoldSockets(o, new IPEndPoint(IPAddress.Loopback, 5)));
        Assert.Contains("--release-sockets", exception.Message, StringComparison.Ordinal);
        Runner.CheckHoldSockets(LoadOptions.Parse(["hold", "--server", "127.0.0.1:5", "-k", "10"]), new IPEndPoint(IPAddress.Loopback, 5));
    }
}
