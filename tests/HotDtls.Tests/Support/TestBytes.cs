namespace HotDtls.Tests.Support;

/// <summary>Byte arrays that tests build over and over.</summary>
internal static class TestBytes
{
    /// <summary>32 deterministic random bytes (a client random, a cookie) from <paramref name="seed"/>.</summary>
    public static byte[] RandomBytes(int seed)
    {
        var bytes = new byte[32];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    /// <summary><paramref name="length"/> bytes of <paramref name="value"/>.</summary>
    public static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }
}
