using HotDtls.Crypto;

namespace HotDtls.Tests.Support;

/// <summary>
/// Seeded xorshift64 bytes, so cookie tests are reproducible; counts calls so tests can see when the
/// verifier drew a fresh secret. Not random in any cryptographic sense.
/// </summary>
internal sealed class DeterministicRandomSource(ulong seed = 0x9E37_79B9_7F4A_7C15) : IRandomSource
{
    private readonly Lock _lock = new();
    private ulong _state = seed == 0 ? 1 : seed;
    private int _fillCount;

    /// <summary>How many times <see cref="Fill"/> has been called.</summary>
    public int FillCount => Volatile.Read(ref _fillCount);

    public void Fill(Span<byte> destination)
    {
        lock (_lock)
        {
            _fillCount++;
            for (int i = 0; i < destination.Length; i++)
            {
                _state ^= _state << 13;
                _state ^= _state >> 7;
                _state ^= _state << 17;
                destination[i] = (byte)_state;
            }
        }
    }
}
