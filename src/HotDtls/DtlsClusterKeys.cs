using System.Globalization;

namespace HotDtls;

/// <summary>
/// The secrets every node of a cluster shares (<see cref="DtlsClusterOptions"/>): cookie secrets, so a
/// HelloVerifyRequest from one node is accepted by any other; session ticket keys, so a ticket from one node resumes at
/// any other; and channel keys, which authenticate the node-to-node channel. Each set holds the current secret first and
/// at most one previous one, still accepted, so that keys can be rotated node by node without a restart.
/// </summary>
/// <remarks>
/// The key file (<see cref="DtlsClusterOptions.KeyFile"/>, <see cref="Load"/>) is text, one secret per line in hex, the
/// current one of each kind before the previous one; blank lines and lines starting with <c>#</c> are ignored:
/// <code>
/// cookie-secret  &lt;32 to 64 bytes of hex&gt;     # openssl rand -hex 32
/// ticket-key     &lt;48 bytes of hex&gt;           # openssl rand -hex 48: a 16-byte key name, then an AES-256 key
/// channel-key    &lt;32 to 64 bytes of hex&gt;     # openssl rand -hex 32
/// </code>
/// To rotate: put a new secret first and keep the old one second on every node; once every node has the new file (and
/// a cookie rotation period, or a ticket lifetime for ticket keys, has passed), drop the old one. Instances are immutable.
/// Messages about a bad file name the line, never a secret.
/// </remarks>
public sealed class DtlsClusterKeys
{
    /// <summary>Bytes of the shortest cookie or channel secret (an HMAC-SHA256 key as long as its output, RFC 2104 §3).</summary>
    public const int MinSecretLength = 32;

    /// <summary>Bytes of the longest cookie or channel secret (one HMAC-SHA256 block).</summary>
    public const int MaxSecretLength = 64;

    /// <summary>Bytes of a session ticket key: a 16-byte key name, then a 32-byte AES-256 key.</summary>
    public const int TicketKeyLength = 48;

    private const string CookieKind = "cookie-secret";
    private const string TicketKind = "ticket-key";
    private const string ChannelKind = "channel-key";

    /// <summary>Makes a key set; each list holds the current secret first and at most one previous one.</summary>
    /// <exception cref="ArgumentException">A list is empty, holds more than two secrets, or a secret has the wrong length.</exception>
    public DtlsClusterKeys(IReadOnlyList<byte[]> cookieSecrets, IReadOnlyList<byte[]> sessionTicketKeys, IReadOnlyList<byte[]> channelKeys)
    {
        CookieSecrets = Check(cookieSecrets, CookieKind, nameof(cookieSecrets), MinSecretLength, MaxSecretLength);
        SessionTicketKeys = Check(sessionTicketKeys, TicketKind, nameof(sessionTicketKeys), TicketKeyLength, TicketKeyLength);
        ChannelKeys = Check(channelKeys, ChannelKind, nameof(channelKeys), MinSecretLength, MaxSecretLength);
    }

    /// <summary>Cookie secrets: the first makes every cookie, both are accepted.</summary>
    public IReadOnlyList<byte[]> CookieSecrets { get; }

    /// <summary>Session ticket keys (48 bytes each): the first seals every ticket, both open.</summary>
    public IReadOnlyList<byte[]> SessionTicketKeys { get; }

    /// <summary>Node-to-node channel keys: the first authenticates what this node sends, both are accepted.</summary>
    public IReadOnlyList<byte[]> ChannelKeys { get; }

    /// <summary>Reads a key file (format: the type's remarks).</summary>
    /// <exception cref="FormatException">The file is not a valid key file; the message names the line and what is wrong.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    /// <exception cref="UnauthorizedAccessException">The file cannot be read.</exception>
    public static DtlsClusterKeys Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Reads the text of a key file (format: the type's remarks); <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="FormatException">The text is not a valid key file; the message names the line and what is wrong.</exception>
    public static DtlsClusterKeys Parse(string text, string source = "the cluster key file")
    {
        ArgumentNullException.ThrowIfNull(text);
        List<byte[]> cookies = [], tickets = [], channels = [];
        var lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            var line = rawLine;
            var comment = line.IndexOf('#', StringComparison.Ordinal);
            if (comment >= 0)
            {
                line = line[..comment];
            }
            line = line.Trim();
            if (line.Length == 0)
            {
                continue;
            }
            var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2)
            {
                throw Bad(source, lineNumber, $"expected '<kind> <hex>' ({CookieKind}, {TicketKind} or {ChannelKind}), found {parts.Length} words");
            }
            var list = parts[0] switch
            {
                CookieKind => cookies,
                TicketKind => tickets,
                ChannelKind => channels,
                // The word is not repeated: a line pasted wrongly may start with a secret.
                _ => throw Bad(source, lineNumber, $"the line does not start with {CookieKind}, {TicketKind} or {ChannelKind}"),
            };
            byte[] secret;
            try
            {
                secret = Convert.FromHexString(parts[1]);
            }
            catch (FormatException)
            {
                // The value is a secret (or most of one): its length is said, never its text.
                throw Bad(source, lineNumber, $"the {parts[0]} is not hex ({parts[1].Length} characters): write it as openssl rand -hex prints it");
            }
            list.Add(secret);
        }
        try
        {
            return new DtlsClusterKeys(cookies, tickets, channels);
        }
        catch (ArgumentException exception)
        {
            throw new FormatException($"{source}: {exception.Message}", exception);
        }
    }

    private static IReadOnlyList<byte[]> Check(IReadOnlyList<byte[]> secrets, string kind, string parameter, int min, int max)
    {
        ArgumentNullException.ThrowIfNull(secrets, parameter);
        if (secrets.Count is 0 or > 2)
        {
            throw new ArgumentException(
                $"A cluster key set needs one or two {kind} entries (the current one, then the previous one while a rotation lasts), not {secrets.Count}.",
                parameter);
        }
        var copies = new byte[secrets.Count][];
        for (var i = 0; i < copies.Length; i++)
        {
            var secret = secrets[i] ?? throw new ArgumentException($"{kind} {i + 1} is null.", parameter);
            if (secret.Length < min || secret.Length > max)
            {
                var wanted = min == max
                    ? string.Create(CultureInfo.InvariantCulture, $"{min} bytes ({2 * min} hex digits)")
                    : string.Create(CultureInfo.InvariantCulture, $"{min} to {max} bytes ({2 * min} to {2 * max} hex digits)");
                throw new ArgumentException(
                    string.Create(CultureInfo.InvariantCulture, $"A {kind} is {wanted}; entry {i + 1} has {secret.Length}."), parameter);
            }
            copies[i] = (byte[])secret.Clone();
        }
        return copies;
    }

    private static FormatException Bad(string source, int line, string what)
        => new(string.Create(CultureInfo.InvariantCulture, $"{source}, line {line}: {what}."));
}
