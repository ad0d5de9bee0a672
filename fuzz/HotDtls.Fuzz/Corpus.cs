using System.Globalization;
using System.Text;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Fuzz;

/// <summary>
/// The seed files of one recorder, named by target and scenario or a running number. Deduplicated by shape rather
/// than content where content alone would keep near-copies: one datagram per sequence of record types, epochs and
/// lengths, one handshake message per type, length and fragment, one ClientHello per length. AFL++ mutates the
/// contents; what it cannot easily invent is the shapes.
/// </summary>
internal sealed class Corpus(string directory, string prefix)
{
    /// <summary>At most this many seeds per target: every shape recorded so far fits, and AFL++'s calibration stays short.</summary>
    public const int MaxSeedsPerTarget = 40;

    private readonly Dictionary<string, List<byte[]>> _files = [];
    private HashSet<string> _seen = [];

    /// <summary>
    /// A recorder of its own (its own prefix and cap) that keeps only shapes <paramref name="earlier"/> has not seen:
    /// later conversations then add what is new in them, not near-copies of the earlier ones' handshakes.
    /// </summary>
    public Corpus(string directory, string prefix, Corpus earlier)
        : this(directory, prefix)
    {
        _seen = earlier._seen;
    }

    public void AddEngine(string name, byte[] steps) => Add("engine", steps, name);

    public void AddProtection(string name, byte[] input) => Add("protection", input, name);

    public void AddNamed(string target, string name, byte[] input) => Add(target, input, name);

    public void AddDatagram(byte[] datagram)
    {
        Add("records", datagram, shape: DatagramShape(datagram));
        // Whole ClientHello records also feed the cookie target: [address length][address][hello body].
        if (datagram.Length > RecordHeader.Size + HandshakeHeader.Size
            && datagram[0] == (byte)ContentType.Handshake && datagram[RecordHeader.Size] == (byte)HandshakeType.ClientHello)
        {
            var address = EngineHarness.Peers[0].Buffer.Span[..EngineHarness.Peers[0].Size].ToArray();
            var body = datagram.AsSpan(RecordHeader.Size + HandshakeHeader.Size);
            Add("cookie", [(byte)address.Length, .. address, .. body], shape: body.Length.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>A datagram, and every epoch-0 handshake message (and ClientHello body) in it.</summary>
    public void AddDatagramAndMessages(byte[] datagram)
    {
        AddDatagram(datagram);
        var reader = new DatagramReader(datagram);
        while (reader.TryReadRecord(out var header, out var offset))
        {
            if (header.Type != ContentType.Handshake || header.Epoch != 0)
            {
                continue;
            }
            var body = datagram.AsSpan(offset, header.Length);
            AddHandshake(body.ToArray());
            if (HandshakeHeader.TryRead(body, out var message) && message.MsgType == HandshakeType.ClientHello && message.IsComplete)
            {
                AddClientHello(body[HandshakeHeader.Size..].ToArray());
            }
        }
    }

    public void AddHandshake(byte[] message)
        // msg_type, length, and fragment_offset and fragment_length: the header less message_seq.
        => Add("handshake", message, shape: message.Length >= HandshakeHeader.Size
            ? $"{Convert.ToHexString(message.AsSpan(0, 4))}/{Convert.ToHexString(message.AsSpan(6, 6))}/{message.Length}"
            : null);

    public void AddClientHello(byte[] body) => Add("client-hello", body, shape: body.Length.ToString(CultureInfo.InvariantCulture));

    public void AddFragments(byte[] fragments) => Add("reassembler", fragments);

    /// <summary>Each record's type, epoch and length, and for an epoch-0 handshake record its msg_type.</summary>
    private static string DatagramShape(byte[] datagram)
    {
        var shape = new StringBuilder();
        // tls12_cid records framed as the harness's server frames them (its CIDs are 6 bytes).
        var reader = new DatagramReader(datagram, EngineHarness.ServerConnectionIdLength);
        var end = 0;
        while (reader.TryReadRecord(out var header, out var offset))
        {
            shape.Append(CultureInfo.InvariantCulture, $"{(byte)header.Type}.{header.Epoch}.{header.Length}");
            if (header.Type == ContentType.Handshake && header.Epoch == 0 && header.Length > 0)
            {
                shape.Append(CultureInfo.InvariantCulture, $".{datagram[offset]}");
            }
            shape.Append(' ');
            end = offset + header.Length;
        }
        // Bytes no record covers are kept apart: a datagram the reader stops in is a shape of its own.
        return shape.Append(CultureInfo.InvariantCulture, $"+{datagram.Length - end}").ToString();
    }

    /// <summary>Keeps engine inputs only: for a recorder whose datagrams would only repeat another recorder's shapes.</summary>
    public bool EngineOnly { get; init; }

    private void Add(string target, byte[] content, string? name = null, string? shape = null)
    {
        if (EngineOnly && target != "engine")
        {
            return;
        }
        var key = shape ?? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(content));
        if (!_seen.Add(target + "|" + key))
        {
            return;
        }
        if (!_files.TryGetValue(target, out var list))
        {
            _files[target] = list = [];
        }
        list.Add(content);
        if (name is not null)
        {
            _names[(target, list.Count - 1)] = name;
        }
    }

    private readonly Dictionary<(string, int), string> _names = [];

    /// <summary>
    /// Replaces this recorder's seeds (files named <c>prefix-*</c> in every target's folder) with the ones collected;
    /// other recorders' seeds stay.
    /// </summary>
    public void Flush(TextWriter log)
    {
        if (Directory.Exists(directory))
        {
            foreach (var folder in Directory.GetDirectories(directory))
            {
                foreach (var file in Directory.GetFiles(folder, prefix + "-*"))
                {
                    File.Delete(file);
                }
            }
        }
        foreach (var (target, list) in _files)
        {
            var folder = Path.Combine(directory, target);
            Directory.CreateDirectory(folder);
            for (var i = 0; i < list.Count && i < MaxSeedsPerTarget; i++)
            {
                var name = _names.TryGetValue((target, i), out var scenario) ? scenario : $"{i:D3}";
                File.WriteAllBytes(Path.Combine(folder, $"{prefix}-{name}"), list[i]);
            }
            var dropped = list.Count > MaxSeedsPerTarget ? $" ({list.Count - MaxSeedsPerTarget} more shapes left out)" : "";
            log.WriteLine($"{prefix} {target}: {Math.Min(list.Count, MaxSeedsPerTarget)} seeds{dropped}");
        }
    }
}
