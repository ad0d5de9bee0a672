using HotDtls.Crypto;

namespace HotDtls.Crypto;

/// <summary>
/// The key a handshake with an unknown PSK identity runs on, so that it ends exactly like a wrong key (RFC 4279 §2,
/// HOSTILE 40) and costs the same. Two things made it measurably different before (found by
/// `HotDtls.Stress timing`): drawing fresh random bytes per handshake, and a fixed length — the PRF's cost depends on
/// the premaster secret's length (HMAC hashes keys over its block size first, i.e. PSKs over 30 bytes). So the
/// secret is drawn once per engine, and used at the length of the last real key found. Guessing it would take a
/// 2^128 search with one online try per handshake.
/// </summary>
internal sealed class StandInKey
{
    /// <summary>Before any real key was seen: a common PSK length, and under the HMAC-block threshold.</summary>
    public const int DefaultLength = 16;

    private readonly byte[] _secret = new byte[PskStore.MaxKeyLength];
    private int _length = DefaultLength;

    public StandInKey(IRandomSource random) => random.Fill(_secret);

    /// <summary>The stand-in key, as long as the last real key.</summary>
    public ReadOnlySpan<byte> Key => _secret.AsSpan(0, Volatile.Read(ref _length));

    /// <summary>Notes the length of a real key just found.</summary>
    public void Observe(int realKeyLength)
    {
        if (realKeyLength is > 0 and <= PskStore.MaxKeyLength)
        {
            Volatile.Write(ref _length, realKeyLength);
        }
    }
}
