using System.Net;

namespace HotDtls.Tests;

/// <summary>What <see cref="DtlsServerOptions"/> accepts for session resumption, and the messages that say what to fix.</summary>
public sealed class DtlsServerOptionsTests
{
    private static DtlsServerOptions Server() => new()
    {
        EndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        PskStore = PskStore.Single([1, 2, 3]),
    };

    [Fact]
    public void Resumption_is_off_by_default_with_a_bounded_cache_and_a_one_hour_lifetime()
    {
        var options = Server();
        options.ValidateServer();

        Assert.False(options.EnableSessionResumption);
        Assert.Equal(20_000, options.MaxCachedSessions);
        Assert.Equal(TimeSpan.FromHours(1), options.SessionLifetime);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(10_000_001)]
    public void A_cache_size_out_of_range_is_refused(int size)
    {
        var options = Server();
        options.MaxCachedSessions = size;

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.ValidateServer);
        Assert.Equal(nameof(DtlsServerOptions.MaxCachedSessions), error.ParamName);
        Assert.Contains("EnableSessionResumption = false", error.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-60)]
    [InlineData(24 * 3600 + 1)]
    public void A_lifetime_out_of_range_is_refused(int seconds)
    {
        var options = Server();
        options.SessionLifetime = TimeSpan.FromSeconds(seconds);

        var error = Assert.Throws<ArgumentOutOfRangeException>(options.ValidateServer);
        Assert.Contains("24 hours", error.Message);
    }

    [Fact]
    public void The_largest_settings_are_accepted()
    {
        var options = Server();
        options.MaxCachedSessions = 10_000_000;
        options.SessionLifetime = TimeSpan.FromHours(24);

        options.ValidateServer();
    }
}
