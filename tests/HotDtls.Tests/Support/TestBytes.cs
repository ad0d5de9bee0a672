using System.Buffers.Binary;
using HotDtls.Records;

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

    /// <summary><paramref name="length"/> bytes of a fixed non-repeating-looking pattern (a plaintext to seal).</summary>
    public static byte[] Pattern(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)((i * 31) + 7);
        }
        return bytes;
    }

    /// <summary>
    /// The 13-byte additional_data of a DTLS 1.2 record (RFC 5246 §6.2.3.3, RFC 6347 §4.1.2.1), written here
    /// independently of the library's writer, for tests that seal with a BCL type as the oracle.
    /// </summary>
    public static byte[] AdditionalData(ContentType type, ushort epoch, ulong sequence, int length)
    {
        var aad = new byte[13];
        BinaryPrimitives.WriteUInt64BigEndian(aad, ((ulong)epoch << 48) | sequence);
        aad[8] = (byte)type;
        aad[9] = 0xFE;
        aad[10] = 0xFD;
        BinaryPrimitives.WriteUInt16BigEndian(aad.AsSpan(11), (ushort)length);
        return aad;
    }
}
