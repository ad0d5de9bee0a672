using HotDtls.Crypto;

namespace HotDtls.Tests.Support;

/// <summary>Deterministic randomness for engine tests: the same seed gives the same randoms and cookie secrets.</summary>
internal sealed class SeededRandom(int seed) : IRandomSource
{
    private readonly Random _random = new(seed);

    public void Fill(Span<byte> destination) => _random.NextBytes(destination);
}
