using System.Security.Cryptography;

namespace HotDtls.Cluster;

/// <summary>
/// HMAC-SHA256 under the ring's channel keys, rebuilt when <see cref="ClusterKeyRing.Version"/> moves. One user at a
/// time (the receive lock, or the send context's owner).
/// </summary>
internal sealed class ClusterFrameMac(ClusterKeyRing ring) : IDisposable
{
    private IncrementalHash[] _hmacs = [];
    private int _version;

    /// <summary>Writes the MAC of <paramref name="authenticated"/> under the current key into <paramref name="mac"/>.</summary>
    public void Sign(ReadOnlySpan<byte> authenticated, Span<byte> mac)
    {
        Span<byte> full = stackalloc byte[SHA256.HashSizeInBytes];
        Compute(Current()[0], authenticated, full);
        full[..ClusterFrame.MacLength].CopyTo(mac);
    }

    /// <summary>Whether <paramref name="mac"/> is the MAC of <paramref name="authenticated"/> under the current or the previous key.</summary>
    public bool Verify(ReadOnlySpan<byte> authenticated, ReadOnlySpan<byte> mac)
    {
        Span<byte> full = stackalloc byte[SHA256.HashSizeInBytes];
        foreach (var hmac in Current())
        {
            Compute(hmac, authenticated, full);
            if (CryptographicOperations.FixedTimeEquals(full[..ClusterFrame.MacLength], mac))
            {
                return true;
            }
        }
        return false;
    }

    public void Dispose()
    {
        foreach (var hmac in _hmacs)
        {
            hmac.Dispose();
        }
        _hmacs = [];
    }

    private static void Compute(IncrementalHash hmac, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        hmac.AppendData(data);
        hmac.GetHashAndReset(destination);
    }

    private IncrementalHash[] Current()
    {
        // Version before keys: Replace writes the keys first, so these keys are at least as new as this version.
        var version = ring.Version;
        if (version != _version)
        {
            var secrets = ring.Keys.ChannelKeys;
            var hmacs = new IncrementalHash[secrets.Count];
            for (var i = 0; i < hmacs.Length; i++)
            {
                hmacs[i] = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secrets[i]);
            }
            Dispose();
            _hmacs = hmacs;
            _version = version;
        }
        return _hmacs;
    }
}
