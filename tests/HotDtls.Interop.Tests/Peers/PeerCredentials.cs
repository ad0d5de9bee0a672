namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// PSK credentials shared by every peer driver. <see cref="Default"/> is the seed's example set
/// (the Qt DTLS example's identity, hint and key), which is also what the shell scripts in
/// <c>shared/peers</c> use.
/// </summary>
/// <param name="Identity">psk_identity the client sends in ClientKeyExchange.</param>
/// <param name="Hint">psk_identity_hint the server sends in ServerKeyExchange.</param>
/// <param name="KeyHex">The pre-shared key as hex, the form <c>openssl -psk</c> takes.</param>
public sealed record PeerCredentials(string Identity, string Hint, string KeyHex)
{
    /// <summary>Identity "Qt DTLS example client", hint "Qt DTLS example server", key 1a2b3c4d5e6f.</summary>
    public static PeerCredentials Default { get; } =
        new("Qt DTLS example client", "Qt DTLS example server", "1a2b3c4d5e6f");

    /// <summary>The key as bytes (a fresh copy each call).</summary>
    public byte[] GetKey() => Convert.FromHexString(KeyHex);
}
