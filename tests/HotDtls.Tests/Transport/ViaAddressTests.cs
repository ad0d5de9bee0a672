using System.Net;
using HotDtls.Transport;

namespace HotDtls.Tests.Transport;

public sealed class ViaAddressTests
{
    [Theory]
    [InlineData("192.0.2.7:5684")]
    [InlineData("[2001:db8::7]:5684")]
    public void A_via_address_keeps_the_client_and_the_node_and_never_equals_the_client(string client)
    {
        var direct = IPEndPoint.Parse(client).Serialize();

        var via = ViaAddress.Create(direct, 3);

        Assert.True(ViaAddress.IsVia(via));
        Assert.False(ViaAddress.IsVia(direct));
        Assert.NotEqual(direct, via);
        Assert.NotEqual(ViaAddress.Create(direct, 4), via);
        Assert.Equal(ViaAddress.Create(direct, 3), via);
        Assert.Equal(ViaAddress.Create(direct, 3).GetHashCode(), via.GetHashCode());
        Assert.Equal(IPEndPoint.Parse(client), via.ToEndPoint());
        Assert.Equal(direct, ViaAddress.ClientOf(via));
        Assert.Same(direct, ViaAddress.ClientOf(direct));
    }

    [Theory]
    [InlineData("[2001:db8::1]:1")]
    [InlineData("198.51.100.2:2")]
    public void A_reused_buffer_of_the_family_equals_a_fresh_via_address_and_reads_back(string text)
    {
        var direct = IPEndPoint.Parse(text).Serialize();
        var buffer = ViaAddress.NewBuffer(direct.Family);
        var client = ViaAddress.NewClientBuffer();
        ViaAddress.Write(IPEndPoint.Parse(text.Replace(":1", ":9", StringComparison.Ordinal)).Serialize(), 1, buffer);
        ViaAddress.Write(direct, 9, buffer);

        // Equal as dictionary keys: the session table finds a session keyed by a copy with the reused buffer.
        Assert.Equal(ViaAddress.Create(direct, 9), buffer);
        Assert.Equal(ViaAddress.Create(direct, 9).GetHashCode(), buffer.GetHashCode());
        Assert.True(ViaAddress.TryRead(buffer, client, out var node));
        Assert.Equal(9, node);
        Assert.Equal(direct.Buffer.Span[..direct.Size].ToArray(), client.Buffer.Span[..client.Size].ToArray());
        Assert.False(ViaAddress.TryRead(direct, client, out _));
    }
}
