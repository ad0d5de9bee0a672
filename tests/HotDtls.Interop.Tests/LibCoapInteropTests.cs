using System.Security.Cryptography;
using HotDtls.Interop.Tests.Peers;

namespace HotDtls.Interop.Tests;

/// <summary>
/// libcoap (the CoAP library of the constrained-device world) over DTLS 1.2 PSK against HotDtls, both directions and both
/// of its DTLS builds: coap-client-{openssl,gnutls} → HotDtls server answering CoAP, and the HotDtls client sending a
/// hand-built CoAP GET to coap-server-{openssl,gnutls}.
/// </summary>
public sealed class LibCoapInteropTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    // libcoap gives up on a request after this; far more than a loopback exchange needs.
    private static readonly TimeSpan s_coapWait = TimeSpan.FromSeconds(10);

    [ToolTheory("coap-client-openssl")]
    [InlineData(null, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8)]
    public Task OpenSsl_build_of_coap_client_gets_a_CoAP_response_from_the_HotDtls_server(CipherSuite? serverOnly, CipherSuite expected)
        => CoapClientGetsResponseAsync("coap-client-openssl", serverOnly, expected);

    [ToolTheory("coap-client-gnutls")]
    [InlineData(null, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8)]
    public Task GnuTls_build_of_coap_client_gets_a_CoAP_response_from_the_HotDtls_server(CipherSuite? serverOnly, CipherSuite expected)
        => CoapClientGetsResponseAsync("coap-client-gnutls", serverOnly, expected);

    [ToolTheory("coap-server-openssl")]
    [InlineData(null, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8)]
    public Task HotDtls_client_gets_a_CoAP_response_from_the_OpenSsl_build_of_coap_server(CipherSuite? clientOnly, CipherSuite expected)
        => ClientGetsResponseFromCoapServerAsync("coap-server-openssl", clientOnly, expected);

    [ToolTheory("coap-server-gnutls")]
    [InlineData(null, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8)]
    public Task HotDtls_client_gets_a_CoAP_response_from_the_GnuTls_build_of_coap_server(CipherSuite? clientOnly, CipherSuite expected)
        => ClientGetsResponseFromCoapServerAsync("coap-server-gnutls", clientOnly, expected);

    /// <summary>
    /// With its default suites the HotDtls server picks its first that the client offers; libcoap offers no RFC 8442 suite,
    /// so that is ECDHE_PSK with ChaCha20-Poly1305. Restricted to CCM_8, it shows CoAP's mandatory suite works too.
    /// </summary>
    private static async Task CoapClientGetsResponseAsync(string tool, CipherSuite? serverOnly, CipherSuite expected)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = await CoapServer.StartAsync(o =>
        {
            if (serverOnly is { } only)
            {
                o.CipherSuites.Clear();
                o.CipherSuites.Add(only);
            }
        });
        await using var client = LibCoapClientPeer.Start(tool, server.EndPoint, "hotdtls/interop", s_coapWait);

        var session = await server.Events.FirstEstablished.WaitAsync(cts.Token);
        Assert.Equal(expected, session.CipherSuite);
        Assert.Equal(LibCoapTool.Credentials.Identity, session.PskIdentity);

        Assert.True(await client.WaitForExitAsync(cts.Token) == 0, client.Diagnostics);
        Assert.Contains(CoapServer.ResponseText, client.Stdout, StringComparison.Ordinal);

        // The request arrived decrypted and whole: a confirmable GET of the path given on the command line.
        var (datagram, request) = Assert.Single(server.Events.Received, r => r.Message is { Code: CoapMessage.Get });
        Assert.True(request is { Type: CoapType.Confirmable }, $"not a confirmable GET: {Convert.ToHexString(datagram)}");
        Assert.Equal("hotdtls/interop", request.UriPath);
    }

    private static async Task ClientGetsResponseFromCoapServerAsync(string tool, CipherSuite? clientOnly, CipherSuite expected)
    {
        using var cts = new CancellationTokenSource(s_timeout);
        await using var server = LibCoapServerPeer.Start(tool);
        await server.WaitUntilReadyAsync(cts.Token);
        var options = new DtlsClientOptions
        {
            PskIdentity = LibCoapTool.Credentials.Identity,
            PskKey = LibCoapTool.Credentials.GetKey(),
        };
        if (clientOnly is { } only)
        {
            options.CipherSuites.Clear();
            options.CipherSuites.Add(only);
        }

        await using var client = await DtlsClient.ConnectAsync(server.EndPoint, options, cts.Token);
        Assert.Equal(expected, client.CipherSuite);
        Assert.Equal(LibCoapTool.Credentials.Hint, client.PskIdentityHint);

        var token = RandomNumberGenerator.GetBytes(4);
        var messageId = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
        client.Send(CoapMessage.ConfirmableGet(messageId, token, "/.well-known/core").ToBytes());

        var buffer = new byte[client.MaxReceiveSize];
        var length = await client.ReceiveAsync(buffer, cts.Token);
        Assert.True(CoapMessage.TryParse(buffer.AsSpan(0, length), out var response), Convert.ToHexString(buffer, 0, length));
        Assert.Equal((CoapType.Acknowledgement, "2.05", messageId), (response!.Type, response.CodeText, response.MessageId));
        Assert.Equal(token, response.Token);
        // coap-server lists its resources in CoRE link format (RFC 6690): "</>;title=...,</time>;...".
        Assert.StartsWith("</", System.Text.Encoding.UTF8.GetString(response.Payload), StringComparison.Ordinal);
    }
}
