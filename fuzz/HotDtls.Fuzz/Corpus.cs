using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Fuzz;

/// <summary>The seed files, deduplicated by content, named by target and a running number.</summary>
internal sealed class Corpus(string directory, string prefix)
{
    private readonly Dictionary<string, List<byte[]>> _files = [];
    private readonly HashSet<string> _seen = [];

    public void AddEngine(string name, byte[] steps) => Add("engine", steps, name);

    public void AddDatagram(byte[] datagram)
    {
        Add("records", datagram);
        // Whole ClientHello records also feed the cookie target: [address length][address][hello body].
        if (datagram.Length > RecordHeader.Size + HandshakeHeader.Size
            && datagram[0] == (byte)ContentType.Handshake && datagram[RecordHeader.Size] == (byte)HandshakeType.ClientHello)
        {
            var address = EngineHarness.Peers[0].Buffer.Span[..EngineHarness.Peers[0].Size].ToArray();
            var body = datagram.AsSpan(RecordHeader.Size + HandshakeHeader.Size);
            Add("cookie", [(byte)address.Length, .. address, .. body]);
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

    public void AddHandshake(byte[] message) => Add("handshake", message);

    public void AddClientHello(byte[] body) => Add("client-hello", body);

    public void AddFragments(byte[] fragments) => Add("reassembler", fragments);

    private void Add(string target, byte[] content, string? name = null)
    {
        if (!_seen.Add(target + Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(content))))
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

    public void Flush(TextWriter log)
    {
        foreach (var (target, list) in _files)
        {
            var folder = Path.Combine(directory, target);
            Directory.CreateDirectory(folder);
            // Enough seeds to cover every message shape, few enough that AFL++'s calibration stays short.
            for (var i = 0; i < list.Count && i < 40; i++)
            {
                var name = _names.TryGetValue((target, i), out var scenario) ? scenario : $"{i:D3}";
                File.WriteAllBytes(Path.Combine(folder, $"{prefix}-{name}"), list[i]);
            }
            log.WriteLine($"{target}: {Math.Min(list.Count, 40)} seeds");
        }
    }
}
