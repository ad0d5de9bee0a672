using System.Net;
using HotDtls.Transport;

namespace HotDtls.Tests.Support;

/// <summary>An <see cref="IDatagramSender"/> that keeps every datagram for the test to inspect or deliver.</summary>
internal sealed class CapturingSender : IDatagramSender
{
    private readonly List<(byte[] Datagram, SocketAddress Peer)> _sent = [];

    public long BytesSent { get; private set; }

    public int Count => _sent.Count;

    public void Send(ReadOnlySpan<byte> datagram, SocketAddress peer)
    {
        var copy = new SocketAddress(peer.Family, peer.Size);
        peer.Buffer.Span[..peer.Size].CopyTo(copy.Buffer.Span);
        _sent.Add((datagram.ToArray(), copy));
        BytesSent += datagram.Length;
    }

    /// <summary>Removes and returns everything sent so far.</summary>
    public List<(byte[] Datagram, SocketAddress Peer)> TakeAll()
    {
        var all = new List<(byte[] Datagram, SocketAddress Peer)>(_sent);
        _sent.Clear();
        return all;
    }

    /// <summary>Removes and returns the datagrams sent to <paramref name="peer"/>.</summary>
    public List<byte[]> TakeFor(SocketAddress peer)
    {
        var taken = new List<byte[]>();
        for (var i = 0; i < _sent.Count;)
        {
            if (_sent[i].Peer.Equals(peer))
            {
                taken.Add(_sent[i].Datagram);
                _sent.RemoveAt(i);
            }
            else
            {
                i++;
            }
        }
        return taken;
    }
}
