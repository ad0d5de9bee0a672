using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// Tells when a DTLS server peer is ready without reading its output (which may be buffered): a cookie-less
/// ClientHello is sent until a HelloVerifyRequest comes back. Stateless servers keep nothing for the probe.
/// </summary>
internal static class ReadinessProbe
{
    // The probe is retransmitted on this interval while the server is still starting (the port answers ICMP
    // unreachable until it binds). This is a DTLS-style retransmission timer, not a sleep: readiness itself is the
    // HelloVerifyRequest arriving.
    private static readonly TimeSpan s_probeInterval = TimeSpan.FromMilliseconds(20);

    public static async Task WaitForHelloVerifyRequestAsync(IPEndPoint endPoint, Task exited, string name,
        Func<string> diagnostics, CancellationToken stop)
    {
        var probe = BuildProbeClientHello();
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        await socket.ConnectAsync(endPoint, stop).ConfigureAwait(false);
        var buffer = new byte[2048];
        while (true)
        {
            if (exited.IsCompleted)
            {
                throw new PeerException($"{name} exited before it was ready.\n{diagnostics()}");
            }

            await socket.SendAsync(probe, SocketFlags.None, stop).ConfigureAwait(false);
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stop);
            attempt.CancelAfter(s_probeInterval);
            try
            {
                while (true)
                {
                    var received = await socket.ReceiveAsync(buffer, SocketFlags.None, attempt.Token).ConfigureAwait(false);
                    if (IsHelloVerifyRequest(buffer.AsSpan(0, received)))
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // No answer within the interval: probe again.
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
            {
                // Port not bound yet (ICMP port unreachable): wait out the interval, then probe again.
                await Task.WhenAny(exited, Task.Delay(s_probeInterval, stop)).ConfigureAwait(false);
                stop.ThrowIfCancellationRequested();
            }
        }
    }

    /// <summary>
    /// A minimal cookie-less DTLS 1.2 ClientHello, enough for DTLSv1_listen to answer with a
    /// HelloVerifyRequest (it reads only the record and handshake headers, client_version, random,
    /// session_id and cookie before deciding).
    /// <code>
    /// DTLSPlaintext (RFC 6347 §4.1): type(1)=22 version(2)=FE FD epoch(2)=0 sequence_number(6)=0 length(2)
    /// Handshake (§4.2.2): msg_type(1)=1 length(3) message_seq(2)=0 fragment_offset(3)=0 fragment_length(3)
    /// ClientHello (§4.2.1): client_version(2)=FE FD random(32) session_id&lt;0..32&gt;=empty cookie&lt;0..2^8-1&gt;=empty
    ///   cipher_suites&lt;2..2^16-2&gt;={00 A8} compression_methods&lt;1..2^8-1&gt;={00}
    /// </code>
    /// </summary>
    internal static byte[] BuildProbeClientHello()
    {
        const int RecordHeader = 13, HandshakeHeader = 12, Body = 2 + 32 + 1 + 1 + 2 + 2 + 1 + 1;
        var datagram = new byte[RecordHeader + HandshakeHeader + Body];
        var span = datagram.AsSpan();
        span[0] = 22;
        span[1] = 0xFE;
        span[2] = 0xFD;
        BinaryPrimitives.WriteUInt16BigEndian(span[11..], HandshakeHeader + Body);
        var handshake = span[RecordHeader..];
        handshake[0] = 1;
        WriteUInt24(handshake[1..], Body);
        WriteUInt24(handshake[9..], Body);
        var body = handshake[HandshakeHeader..];
        body[0] = 0xFE;
        body[1] = 0xFD;
        Random.Shared.NextBytes(body.Slice(2, 32));
        var rest = body[34..];
        rest[0] = 0; // session_id length
        rest[1] = 0; // cookie length
        BinaryPrimitives.WriteUInt16BigEndian(rest[2..], 2);
        BinaryPrimitives.WriteUInt16BigEndian(rest[4..], (ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        rest[6] = 1; // compression_methods length
        rest[7] = 0; // null
        return datagram;
    }

    internal static void WriteUInt24(Span<byte> destination, int value)
    {
        destination[0] = (byte)(value >> 16);
        destination[1] = (byte)(value >> 8);
        destination[2] = (byte)value;
    }

    // Record type handshake(22), then at offset 13 the handshake msg_type hello_verify_request(3).
    internal static bool IsHelloVerifyRequest(ReadOnlySpan<byte> datagram) =>
        datagram.Length > 13 && datagram[0] == 22 && datagram[13] == 3;
}
