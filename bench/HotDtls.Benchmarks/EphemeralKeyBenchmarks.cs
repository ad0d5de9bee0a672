using BenchmarkDotNet.Attributes;
using HotDtls.Crypto;

namespace HotDtls.Benchmarks;

/// <summary>
/// What ECDHE adds to one side of an ECDHE_PSK handshake (RFC 5489): generate an ephemeral key, write its public half
/// into the key exchange message, and agree with the peer's public key (<see cref="EphemeralKeyPair"/>). X25519 runs on
/// libsodium through NSec; secp256r1 on the platform's ECDiffieHellman (OpenSSL on Linux), plus HotDtls's own
/// on-curve check of the peer's point. <see cref="Generate"/> alone shows how the cost splits.
/// </summary>
[MemoryDiagnoser]
public class EphemeralKeyBenchmarks
{
    private readonly byte[] _publicKey = new byte[65];
    private readonly byte[] _sharedSecret = new byte[EphemeralKeyPair.SharedSecretLength];
    private byte[] _peerPublicKey = [];
    private NamedGroup _group;

    /// <summary>A <see cref="NamedGroup"/> name: the enum is internal, so BenchmarkDotNet gets it as text.</summary>
    [Params(nameof(NamedGroup.X25519), nameof(NamedGroup.Secp256r1))]
    public string Group { get; set; } = nameof(NamedGroup.X25519);

    [GlobalSetup]
    public void Setup()
    {
        _group = Enum.Parse<NamedGroup>(Group);
        using var peer = EphemeralKeyPair.Generate(_group);
        _peerPublicKey = new byte[EphemeralKeyPair.PublicKeyLength(_group)];
        peer.WritePublicKey(_peerPublicKey);
    }

    [Benchmark]
    public int GenerateWriteAgree()
    {
        using var pair = EphemeralKeyPair.Generate(_group);
        int written = pair.WritePublicKey(_publicKey);
        if (!pair.TryAgree(_peerPublicKey, _sharedSecret, out int secretLength))
        {
            throw new InvalidOperationException("The peer's key was refused.");
        }

        return written + secretLength;
    }

    [Benchmark]
    public int Generate()
    {
        using var pair = EphemeralKeyPair.Generate(_group);
        return pair.WritePublicKey(_publicKey);
    }
}
