using System.Net;

namespace HotDtls.Hosting.Tests;

/// <summary>The endpoint forms configuration accepts, and why others are refused.</summary>
public sealed class EndPointTextTests
{
    [Theory]
    [InlineData("127.0.0.1:22334", "127.0.0.1", 22334)]
    [InlineData("10.1.2.3:0", "10.1.2.3", 0)]
    [InlineData("[::1]:5684", "::1", 5684)]
    [InlineData("[::]:22334", "::", 22334)]
    [InlineData("localhost:22334", "127.0.0.1", 22334)]
    [InlineData("LOCALHOST:1", "127.0.0.1", 1)]
    [InlineData("*:22334", "0.0.0.0", 22334)]
    [InlineData("any:65535", "0.0.0.0", 65535)]
    public void Parses_each_documented_form(string text, string address, int port)
    {
        Assert.True(EndPointText.TryParse(text, out var endPoint, out var problem), problem);
        Assert.Equal(new IPEndPoint(IPAddress.Parse(address), port), endPoint);
    }

    [Theory]
    [InlineData("127.0.0.1", "needs an address and a port")]
    [InlineData(":22334", "needs an address and a port")]
    [InlineData("127.0.0.1:", "needs an address and a port")]
    [InlineData("127.0.0.1:65536", "not a port")]
    [InlineData("127.0.0.1:-1", "not a port")]
    [InlineData("127.0.0.1:x", "not a port")]
    [InlineData("::1:22334", "in brackets")]
    [InlineData("[127.0.0.1]:22334", "not an IPv6 address")]
    [InlineData("example.com:22334", "host names are not resolved")]
    [InlineData("1:22334", "not an IP address")]
    public void Refuses_other_forms_and_says_why(string text, string reason)
    {
        Assert.False(EndPointText.TryParse(text, out _, out var problem));
        Assert.Contains(reason, problem, StringComparison.Ordinal);
    }
}
