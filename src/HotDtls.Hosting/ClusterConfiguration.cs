using System.Globalization;

namespace HotDtls.Hosting;

/// <summary>
/// Reads the <c>Cluster</c> section of the server options into <see cref="DtlsClusterOptions"/> (docs/operations.md,
/// "Cluster"): the node id, the shared keys (inline, or a key file the server watches), the node-to-node channel and
/// the other nodes.
/// </summary>
/// <remarks>
/// <code>
/// "Cluster": {
///   "NodeId": 1,
///   "KeyFile": "/etc/hotdtls/cluster.keys",            // or "Keys": { "CookieSecrets": [hex], "SessionTicketKeys": [hex], "ChannelKeys": [hex] }
///   "ChannelEndPoint": "10.0.0.1:5685",
///   "Nodes": { "1": "10.0.0.1:5685", "2": "10.0.0.2:5685", "3": "10.0.0.3:5685" },
///   "HeartbeatInterval": "00:00:01", "NodeTimeout": "00:00:03"
/// }
/// </code>
/// Secret values are never repeated in messages.
/// </remarks>
internal static class ClusterConfiguration
{
    public static void Read(ConfigurationReader cluster, DtlsServerOptions options)
    {
        var target = options.Cluster ?? new DtlsClusterOptions();
        cluster.Byte(nameof(DtlsClusterOptions.NodeId), value => target.NodeId = value);
        if (cluster.String(nameof(DtlsClusterOptions.KeyFile)) is { } keyFile)
        {
            target.KeyFile = keyFile.Length == 0 ? null : keyFile;
        }
        if (cluster.Exists(nameof(DtlsClusterOptions.Keys)))
        {
            ReadKeys(cluster.Section(nameof(DtlsClusterOptions.Keys)), target);
        }
        cluster.EndPoint(nameof(DtlsClusterOptions.ChannelEndPoint), value => target.ChannelEndPoint = value);
        if (cluster.Exists(nameof(DtlsClusterOptions.Nodes)))
        {
            ReadNodes(cluster.Section(nameof(DtlsClusterOptions.Nodes)), target);
        }
        cluster.Duration(nameof(DtlsClusterOptions.HeartbeatInterval), value => target.HeartbeatInterval = value);
        cluster.Duration(nameof(DtlsClusterOptions.NodeTimeout), value => target.NodeTimeout = value);
        cluster.ReportUnknownKeys();
        options.Cluster = target;
    }

    private static void ReadKeys(ConfigurationReader keys, DtlsClusterOptions target)
    {
        var cookies = Secrets(keys, nameof(DtlsClusterKeys.CookieSecrets), DtlsClusterKeys.MaxSecretLength);
        var tickets = Secrets(keys, nameof(DtlsClusterKeys.SessionTicketKeys), DtlsClusterKeys.TicketKeyLength, exact: true);
        var channels = Secrets(keys, nameof(DtlsClusterKeys.ChannelKeys), DtlsClusterKeys.MaxSecretLength);
        keys.ReportUnknownKeys();
        if (cookies is null || tickets is null || channels is null)
        {
            return;
        }
        try
        {
            target.Keys = new DtlsClusterKeys(cookies, tickets, channels);
        }
        catch (ArgumentException exception)
        {
            // The library's message gives counts and lengths, never a secret.
            var text = exception.Message;
            var cut = text.IndexOf(" (Parameter '", StringComparison.Ordinal);
            keys.SectionError(cut > 0 ? text[..cut] : text);
        }
    }

    private static List<byte[]>? Secrets(ConfigurationReader keys, string name, int maxLength, bool exact = false)
    {
        if (keys.List(name) is not { } items || items.Count == 0)
        {
            keys.Error(name, "required: the current secret first, then the previous one while a rotation lasts (hex).");
            return null;
        }
        var secrets = new List<byte[]>(items.Count);
        foreach (var (key, hex) in items)
        {
            if (keys.SecretHex(key, hex, maxLength, exact ? maxLength : 0) is { } secret)
            {
                secrets.Add(secret);
            }
        }
        return secrets.Count == items.Count ? secrets : null;
    }

    private static void ReadNodes(ConfigurationReader nodes, DtlsClusterOptions target)
    {
        target.Nodes.Clear();
        foreach (var child in nodes.Children())
        {
            if (!byte.TryParse(child.Key, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id == 0)
            {
                nodes.Error(child.Key, "is not a node id: the keys under Nodes are node ids, 1 to 255.");
                continue;
            }
            nodes.EndPoint(child.Key, value => target.Nodes[id] = value);
        }
    }
}
