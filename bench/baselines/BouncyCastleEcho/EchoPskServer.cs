using System.Text;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;

namespace HotDtls.Bench.Baselines.BouncyCastleEcho;

/// <summary>
/// The TLS side of one connection (BouncyCastle wants a fresh <see cref="TlsServer"/> per handshake): DTLS 1.2
/// only, the two AES-GCM PSK suites in HotDtls's order, any PSK identity with the one key.
/// </summary>
internal sealed class EchoPskServer(TlsCrypto crypto) : PskTlsServer(crypto, AnyIdentity.Instance)
{
    /// <summary>As HotDtls's default HandshakeTimeout: an unfinished handshake is abandoned after 30 s.</summary>
    private const int HandshakeTimeoutMillis = 30_000;

    private static readonly int[] s_suites =
        [CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384];

    public override int GetHandshakeTimeoutMillis() => HandshakeTimeoutMillis;

    /// <summary>RFC 6347 §4.1.2.7: a record that fails authentication is dropped silently, not fatal.</summary>
    public override bool IgnoreCorruptDtlsRecords => true;

    /// <summary>The server's order decides (AES-128-GCM first), as in HotDtls and the OpenSSL baseline.</summary>
    protected override bool PreferLocalCipherSuites() => true;

    protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.DTLSv12.Only();

    protected override int[] GetSupportedCipherSuites() => s_suites;

    private sealed class AnyIdentity : TlsPskIdentityManager
    {
        public static readonly AnyIdentity Instance = new();

        private readonly byte[] _hint = Encoding.UTF8.GetBytes("Qt DTLS example server");
        private readonly byte[] _key = Convert.FromHexString("1a2b3c4d5e6f");

        public byte[] GetHint() => _hint;

        // A copy each time: BouncyCastle wipes the PSK it is given once the premaster secret is derived.
        public byte[] GetPsk(byte[] identity) => (byte[])_key.Clone();
    }
}
