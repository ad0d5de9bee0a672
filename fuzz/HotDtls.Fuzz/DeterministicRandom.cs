using HotDtls.Crypto;

namespace HotDtls.Fuzz;

/// <summary>
/// Seeded randomness: the same input always meets the same randoms and cookie secret, so a crash replays and a
/// recorded cookie stays valid.
/// </summary>
internal sealed class DeterministicRandom(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public void Fill(Span<byte> destination) => _random.NextBytes(destination);
}
