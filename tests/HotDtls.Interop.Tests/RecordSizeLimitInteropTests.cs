using System.Text;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>
/// max_fragment_length (RFC 6066 §4) and record_size_limit (RFC 8449) against OpenSSL and GnuTLS: the limit each asks
/// for is what HotDtls's MaxSendSize reports, the records on the wire (seen through the relay's tap) carry no more
/// plaintext than that, and data flows both ways within it.
/// </summary>
public sealed class RecordSizeLimitInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    // TLS_PSK_WITH_AES_128_GCM_SHA256: 8 bytes of explicit nonce and 16 of tag around each protected record's plaintext.
    private const int GcmOverhead = 8 + 16;

    /// <summary>Asserts that every record of <paramref name="datagrams"/> carries at most <paramref name="limit"/> bytes of plaintext; returns how many protected ones there were.</summary>
    private static int AssertPlaintextWithin(IEnumerable<byte[]> datagrams, int limit, string context)
    {
        var protectedRecords = 0;
        foreach (var record in datagrams.SelectMany(d => WireRecord.Parse(d, 0)))
        {
            var plaintext = record.Epoch == 0 ? record.Length : record.Length - GcmOverhead;
            Assert.True(plaintext <= limit, $"a record of epoch {record.Epoch} carries {plaintext} bytes of plaintext, over {limit}; {context}");
            protectedRecords += record.Epoch >= 1 ? 1 : 0;
        }
        return protectedRecords;
    }

    /// <summary>What the last (cookie-carrying) ClientHello in <paramref name="toServer"/> asked for: record_size_limit and max_fragment_length, -1 when absent.</summary>
    private static (int RecordSizeLimit, int MaxFragmentLengthCode) OfferedLimits(IEnumerable<byte[]> toServer)
    {
        var offered = (-1, -1);
        foreach (var datagram in toServer)
        {
            var reader = new HotDtls.Records.DatagramReader(datagram);
            while (reader.TryReadRecord(out var header, out var offset))
            {
                var body = datagram.AsSpan(offset, header.Length);
                if (header.Epoch == 0 && header.Type == HotDtls.Records.ContentType.Handshake
                    && HotDtls.Handshake.HandshakeHeader.TryRead(body, out var handshake)
                    && handshake.MsgType == HotDtls.Handshake.HandshakeType.ClientHello
                    && handshake.FragmentLength == handshake.Length
                    && HotDtls.Handshake.ClientHello.TryParse(body.Slice(HotDtls.Handshake.HandshakeHeader.Size, handshake.Length), out var hello))
                {
                    offered = (hello.HasRecordSizeLimit ? hello.RecordSizeLimit : -1, hello.HasMaxFragmentLength ? hello.MaxFragmentLength : -1);
                }
            }
        }
        return offered;
    }

    [ToolFact("openssl")]
    public async Task OpenSsl_client_with_maxfraglen_512_gets_records_of_at_most_512_bytes_from_the_server()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var wire = new WireCapture();
        await using var server = await AckServer.StartAsync();
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions { Tap = wire.Tap });
        await using var client = OpenSslClientPeer.Start(relay.EndPoint, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
            extraArguments: ["-maxfraglen", "512"]);

        await client.WaitForHandshakeAsync(cts.Token);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(512, session.MaxSendSize);

        var ack = AckServer.AckFor(session.RemoteEndPoint);
        await client.SendLineAsync("limited", cts.Token);
        Assert.Equal(ack, await client.ReceiveTextAsync(ack.Length, cts.Token));
        // A full 512-byte record from the server reaches s_client; 513 bytes are refused before anything is sent.
        var push = new string('p', 512);
        session.Send(Encoding.ASCII.GetBytes(push));
        Assert.Equal(push, await client.ReceiveTextAsync(push.Length, cts.Token));
        Assert.Throws<ArgumentException>(() => session.Send(new byte[513]));
        Assert.Equal(["limited\n"], server.Events.Received);

        var protectedRecords = AssertPlaintextWithin(wire.ToClient, 512, relay.ToString());
        Assert.True(protectedRecords >= 3, $"Finished, the ACK and the push expected; {protectedRecords} protected records seen");
    }

    [ToolFact("openssl")]
    public async Task HotDtls_client_asking_for_512_gets_it_from_openssl_s_server_and_both_directions_keep_to_it()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var wire = new WireCapture();
        await using var server = OpenSslServerPeer.Start(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);
        await server.WaitUntilReadyAsync(cts.Token);
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions { Tap = wire.Tap });
        var options = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
            MaxFragmentLength = 512,
        };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);

        await using var client = await DtlsClient.ConnectAsync(relay.EndPoint, options, cts.Token);
        await server.WaitForHandshakeAsync(cts.Token);
        Assert.Equal(512, client.MaxSendSize);

        // s_server echoes each line; 511 characters and the newline fill one record exactly.
        var line = new string('e', 511) + "\n";
        client.Send(Encoding.ASCII.GetBytes(line));
        var buffer = new byte[client.MaxReceiveSize];
        var received = new StringBuilder();
        while (received.Length < line.Length)
        {
            var length = await client.ReceiveAsync(buffer, cts.Token);
            received.Append(Encoding.ASCII.GetString(buffer, 0, length));
        }
        Assert.Equal(line, received.ToString());
        Assert.Throws<ArgumentException>(() => client.Send(new byte[513]));

        AssertPlaintextWithin(wire.ToServer, 512, relay.ToString());
        Assert.True(AssertPlaintextWithin(wire.ToClient, 512, relay.ToString()) >= 2, "Finished and the echo expected from s_server");
    }

    [ToolFact("gnutls-cli")]
    public async Task GnuTls_client_announcing_a_record_size_limit_gets_records_within_it()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var wire = new WireCapture();
        await using var server = await AckServer.StartAsync();
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions { Tap = wire.Tap });
        await using var client = GnuTlsClientPeer.Start(relay.EndPoint, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256,
            extraArguments: ["--recordsize", "512"]);

        await client.WaitForHandshakeAsync(cts.Token);
        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        // GnuTLS 3.7.9's --recordsize takes only 512, 1024, 2048 or 4096 and sends both extensions for it:
        // record_size_limit 512 and max_fragment_length 2^9. HotDtls uses record_size_limit (RFC 8449 §5) and answers
        // it alone; GnuTLS accepts that.
        Assert.Equal((512, 1), OfferedLimits(wire.ToServer));
        Assert.Equal(512, session.MaxSendSize);
        var ack = AckServer.AckFor(session.RemoteEndPoint);
        await client.SendLineAsync("gnutls limited", cts.Token);
        await client.ReceiveTextAsync(ack, cts.Token);
        var push = new string('g', 512);
        session.Send(Encoding.ASCII.GetBytes(push));
        await client.ReceiveTextAsync(push, cts.Token);

        AssertPlaintextWithin(wire.ToClient, 512, relay.ToString());
    }

    [ToolFact("gnutls-serv")]
    public async Task HotDtls_client_announcing_a_record_size_limit_to_gnutls_serv_keeps_to_its_answer()
    {
        using var cts = new CancellationTokenSource(s_timeout);
        var wire = new WireCapture();
        await using var server = GnuTlsServerPeer.Start(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, extraArguments: ["--recordsize", "512"]);
        await server.WaitUntilReadyAsync(cts.Token);
        await using var relay = new LossyUdpRelay(server.EndPoint, new LossyUdpRelayOptions { Tap = wire.Tap });
        var options = new DtlsClientOptions
        {
            PskIdentity = PeerCredentials.Default.Identity,
            PskKey = PeerCredentials.Default.GetKey(),
            RecordSizeLimit = 700,
        };
        options.CipherSuites.Clear();
        options.CipherSuites.Add(CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256);

        await using var client = await DtlsClient.ConnectAsync(relay.EndPoint, options, cts.Token);
        // gnutls-serv 3.7.9 answers record_size_limit with its --recordsize.
        Assert.Equal(512, client.MaxSendSize);
        Assert.Throws<ArgumentException>(() => client.Send(new byte[513]));

        // gnutls-serv --echo sends each record back: a full 512-byte one comes back within the 700 we announced.
        var data = Encoding.ASCII.GetBytes(new string('r', 511) + "\n");
        client.Send(data);
        var buffer = new byte[client.MaxReceiveSize];
        var received = 0;
        while (received < data.Length)
        {
            received += await client.ReceiveAsync(buffer.AsMemory(received), cts.Token);
        }
        Assert.Equal(data, buffer[..received]);

        AssertPlaintextWithin(wire.ToServer, 512, relay.ToString());
        Assert.True(AssertPlaintextWithin(wire.ToClient, 700, relay.ToString()) >= 2, "Finished and the echo expected from gnutls-serv");
    }
}
