using System.Globalization;
using System.Net;

namespace HotDtls.Hosting;

/// <summary>
/// Parses an endpoint as configuration writes it: "127.0.0.1:22334", "[::1]:22334", "localhost:22334" (IPv4 loopback),
/// "*:22334" or "any:22334" (every IPv4 address), "[::]:22334" (every address, IPv6 and IPv4). Other host names are
/// refused: a server binds addresses, and a name resolved at start-up could bind a different one on the next start.
/// </summary>
internal static class EndPointText
{
    public const string Forms = "\"127.0.0.1:22334\", \"[::1]:22334\", \"localhost:22334\", \"*:22334\" (any IPv4) or \"[::]:22334\" (any, dual-stack)";

    public static bool TryParse(string text, out IPEndPoint endPoint, out string problem)
    {
        endPoint = null!;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            problem = "needs an address and a port";
            return false;
        }
        var host = text[..colon];
        var portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
        {
            problem = $"'{portText}' is not a port from 0 to 65535 (0 picks a free one)";
            return false;
        }
        if (!TryParseHost(host, out var address, out problem))
        {
            return false;
        }
        endPoint = new IPEndPoint(address, port);
        return true;
    }

    private static bool TryParseHost(string host, out IPAddress address, out string problem)
    {
        problem = "";
        if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
            return true;
        }
        if (host is "*" || host.Equals("any", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Any;
            return true;
        }
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            if (IPAddress.TryParse(host.AsSpan(1, host.Length - 2), out address!)
                && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return true;
            }
            problem = $"'{host}' is not an IPv6 address in brackets";
            return false;
        }
        if (host.Contains(':', StringComparison.Ordinal))
        {
            address = IPAddress.None;
            problem = $"write the IPv6 address in brackets, as in \"[{host}]:port\"";
            return false;
        }
        // IPAddress.TryParse also takes "1" (0.0.0.1) and other short forms: a configuration means four parts.
        if (host.Count(c => c == '.') == 3 && IPAddress.TryParse(host, out address!))
        {
            return true;
        }
        address = IPAddress.None;
        problem = $"'{host}' is not an IP address, \"localhost\" or \"*\" (host names are not resolved)";
        return false;
    }
}
