using System.Security.Cryptography;

namespace HotDtls.Crypto;

/// <summary>
/// Where HotDtls takes random bytes from (randoms, cookie secrets). Injectable so tests and fuzzers are
/// deterministic; production uses <see cref="SystemRandomSource"/>.
/// </summary>
internal interface IRandomSource
{
    /// <summary>Fills <paramref name="destination"/> with random bytes.</summary>
    void Fill(Span<byte> destination);
}

/// <summary>The operating system's CSPRNG.</summary>
internal sealed class SystemRandomSource : IRandomSource
{
    public static readonly SystemRandomSource Instance = new();

    public void Fill(Span<byte> destination) => RandomNumberGenerator.Fill(destination);
}
