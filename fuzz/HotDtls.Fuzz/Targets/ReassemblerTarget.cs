using System.Net;
using HotDtls.Cookies;
using HotDtls.Handshake;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// The fragment reassembler (RFC 6347 §4.2.3) and the shared ClientHello fragment cache: the input is a run of
/// handshake fragments (12-byte header, then up to fragment_length bytes). Memory stays under its caps, and a
/// message comes out exactly as long as its header said.
/// </summary>
internal static class ReassemblerTarget
{
    private const int MaxMessageLength = 8192;
    private const int MaxBufferedBytes = 16384;
    private static readonly SocketAddress[] Peers =
    [
        new IPEndPoint(IPAddress.Loopback, 40000).Serialize(),
        new IPEndPoint(IPAddress.Loopback, 40001).Serialize(),
    ];

    public static void Run(ReadOnlySpan<byte> input)
    {
        var reassembler = new HandshakeReassembler(MaxMessageLength, MaxBufferedBytes);
        using var cache = new HelloFragmentCache(capacity: 2);
        long now = 0;
        var step = 0;
        while (HandshakeHeader.TryRead(input, out var header))
        {
            var available = input.Length - HandshakeHeader.Size;
            var take = Math.Min(header.FragmentLength, available);
            var fragment = input.Slice(HandshakeHeader.Size, take);
            input = input[(HandshakeHeader.Size + take)..];
            step++;

            if (take == header.FragmentLength)
            {
                var next = reassembler.NextSequence;
                var status = reassembler.Add(header, fragment);
                if (reassembler.BufferedBytes > MaxBufferedBytes)
                {
                    throw new FuzzOracleException($"reassembler holds {reassembler.BufferedBytes} bytes, cap {MaxBufferedBytes}");
                }
                // The fragment that completes the next message must agree with it on the message's length.
                var completedByThis = status == FragmentStatus.Complete && header.MessageSeq == next;
                while (reassembler.TryGetNext(out _, out var body))
                {
                    if (completedByThis && body.Length != header.Length)
                    {
                        throw new FuzzOracleException($"a message declared {header.Length} bytes long came out with {body.Length}");
                    }
                    if (body.Length > MaxMessageLength)
                    {
                        throw new FuzzOracleException("a message over the length cap was reassembled");
                    }
                    completedByThis = false;
                    reassembler.Advance();
                }

                if (cache.Add(Peers[step & 1], header, fragment, now, out var hello) == FragmentStatus.Complete)
                {
                    if (hello.Length != header.Length || hello.Length > HelloFragmentCache.MaxHelloLength)
                    {
                        throw new FuzzOracleException("the hello cache completed a message of the wrong length");
                    }
                    cache.Release(Peers[step & 1]);
                }
                if (cache.Count > 2)
                {
                    throw new FuzzOracleException("the hello cache grew past its capacity");
                }
            }
            now += 100;
            cache.Expire(now, 10_000);
        }
        reassembler.Clear();
    }
}
