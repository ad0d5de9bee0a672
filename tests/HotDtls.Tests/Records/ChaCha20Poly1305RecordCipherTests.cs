using System.Buffers.Binary;
using System.Text;
using HotDtls.Records;
using HotDtls.Tests.Support;
using BclChaCha20Poly1305 = System.Security.Cryptography.ChaCha20Poly1305;

namespace HotDtls.Tests.Records;

public sealed class ChaCha20Poly1305RecordCipherTests
{
    private const ushort Epoch = 1;
    private const ulong Sequence = 5;
    private const int Tag = ChaCha20Poly1305RecordCipher.TagLength;

    // RFC 8439 §2.8.2: the AEAD test vector's key, nonce, plaintext and ciphertext (the tag depends on its 12-byte
    // AAD, which a DTLS record cannot carry: additional_data is 13 bytes).
    private static readonly byte[] s_rfc8439Key = Convert.FromHexString("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f");
    private static readonly byte[] s_rfc8439Plaintext = Encoding.ASCII.GetBytes(
        "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
    private const string Rfc8439Ciphertext =
        "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b" +
        "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc" +
        "3ff4def08e4b7a9de576d26586cec64b6116";

    private static readonly byte[] s_fixedIv = Convert.FromHexString("a0a1a2a3a4a5a6a7a8a9aaab");

    public static TheoryData<int> Sizes() => [0, 1, 15, 16, 17, 64, 1200, 16384];

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Seal_then_open_in_place_round_trips(int size)
    {
        using var cipher = NewCipher();
        var plaintext = TestBytes.Pattern(size);
        var record = new byte[size + ChaCha20Poly1305RecordCipher.Overhead];
        plaintext.CopyTo(record, 0);

        int written = cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, record.AsSpan(0, size), record);

        Assert.Equal(size + Tag, written);
        if (size > 0)
        {
            Assert.NotEqual(plaintext, record.AsSpan(0, size).ToArray());
        }
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length));
        Assert.Equal(size, length);
        Assert.Equal(plaintext, record.AsSpan(ChaCha20Poly1305RecordCipher.RecordIvLength, length).ToArray());
    }

    [Fact]
    public void The_nonce_is_the_fixed_IV_XOR_the_left_padded_epoch_and_sequence_number()
    {
        // fixed_iv = 07 00 00 00 || 0^8, epoch = 0x4041, seq = 0x424344454647 give RFC 8439 §2.8.2's nonce
        // 07000000 40414243 44454647 (RFC 7905 §2). ChaCha20's ciphertext does not depend on the AAD, so it must be
        // the vector's byte for byte.
        using var cipher = new ChaCha20Poly1305RecordCipher(s_rfc8439Key, Convert.FromHexString("070000000000000000000000"));
        var record = new byte[s_rfc8439Plaintext.Length + Tag];
        cipher.Seal(ContentType.ApplicationData, 0x4041, 0x4243_4445_4647, s_rfc8439Plaintext, record);

        Assert.Equal(Rfc8439Ciphertext, Convert.ToHexStringLower(record.AsSpan(0, s_rfc8439Plaintext.Length)));

        // Golden bytes of the whole record, computed outside .NET with Python's `cryptography` 48.0:
        //   nonce = 070000004041424344454647; aad = 4041424344454647 + 17 + fefd + 0072
        //   ChaCha20Poly1305(key).encrypt(nonce, plaintext, aad)[-16:].hex()
        Assert.Equal("ad603b64f0af08353a55f9c5916f8929", Convert.ToHexStringLower(record.AsSpan(s_rfc8439Plaintext.Length, Tag)));
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, 0x4041, 0x4243_4445_4647, record, out int length));
        Assert.Equal(s_rfc8439Plaintext, record.AsSpan(0, length).ToArray());
    }

    // Golden bytes computed outside .NET with Python's `cryptography` 48.0:
    //   key = bytes(range(32)); iv = a0a1..ab; seq = 0001 000000000005 (epoch 1, seq 5)
    //   nonce = iv XOR (00000000 + seq); aad = seq + 17 + fefd + 000b
    //   ChaCha20Poly1305(key).encrypt(nonce, b"hello, dtls", aad).hex()
    [Fact]
    public void Seal_matches_golden_bytes()
    {
        using var cipher = NewCipher();
        var record = new byte[11 + Tag];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, "hello, dtls"u8, record);
        Assert.Equal("5c498582dcc874af8b319843f607a6d9eabf6aff081178e76b6ba2", Convert.ToHexStringLower(record));

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length));
        Assert.Equal("hello, dtls"u8.ToArray(), record.AsSpan(0, length).ToArray());
    }

    [Fact]
    public void Seal_and_open_agree_with_System_ChaCha20Poly1305_over_many_lengths_and_both_backends()
    {
        var random = new Random(11);
        var key = new byte[32];
        random.NextBytes(key);
        var fixedIv = new byte[12];
        random.NextBytes(fixedIv);
        using var cipher = new ChaCha20Poly1305RecordCipher(key, fixedIv);
        using var reference = new BclChaCha20Poly1305(key);

        var lengths = new List<int> { 0, 1, 2000, 16384, ushort.MaxValue };
        for (int i = 0; i < 150; i++)
        {
            // Mostly small records, so the direction moves to libsodium part way and both backends are compared.
            lengths.Add(random.Next(0, i % 3 == 0 ? 2001 : 300));
        }

        foreach (int length in lengths)
        {
            var type = (ContentType)(20 + random.Next(4));
            var epoch = (ushort)random.Next(0, 0x10000);
            var sequence = (ulong)random.NextInt64(0, 1L << 48);
            var plaintext = new byte[length];
            random.NextBytes(plaintext);
            var nonce = Nonce(fixedIv, epoch, sequence);
            var aad = TestBytes.AdditionalData(type, epoch, sequence, length);

            var record = new byte[length + Tag];
            cipher.Seal(type, epoch, sequence, plaintext, record);
            var expected = new byte[length + Tag];
            reference.Encrypt(nonce, plaintext, expected.AsSpan(0, length), expected.AsSpan(length), aad);
            Assert.Equal(expected, record);

            Assert.True(cipher.TryOpenInPlace(type, epoch, sequence, expected, out int openedLength), $"length {length}");
            Assert.Equal(plaintext, expected.AsSpan(0, openedLength).ToArray());
        }
        Assert.Equal(ChaCha20Poly1305RecordCipher.LibsodiumAvailable, cipher.UsesLibsodium);
    }

    [Fact]
    public void A_direction_moves_to_libsodium_after_64_small_records_and_keeps_producing_the_same_records()
    {
        using var sealer = NewCipher();
        using var opener = NewCipher();
        var plaintext = TestBytes.Pattern(ChaCha20Poly1305RecordCipher.PromoteBelowLength);
        for (ulong sequence = 1; sequence <= 70; sequence++)
        {
            var record = new byte[plaintext.Length + Tag];
            sealer.Seal(ContentType.ApplicationData, Epoch, sequence, plaintext, record);
            Assert.True(opener.TryOpenInPlace(ContentType.ApplicationData, Epoch, sequence, record, out var length));
            Assert.Equal(plaintext, record.AsSpan(0, length).ToArray());
            var expectMoved = ChaCha20Poly1305RecordCipher.LibsodiumAvailable && sequence >= 64;
            Assert.Equal(expectMoved, sealer.UsesLibsodium);
            Assert.Equal(expectMoved, opener.UsesLibsodium);
        }
    }

    [Fact]
    public void A_direction_of_large_or_forged_records_stays_on_the_BCL_type()
    {
        // libsodium is no faster from about 1 KB; and forged records must not buy an attacker our key import.
        using var cipher = NewCipher();
        var large = TestBytes.Pattern(ChaCha20Poly1305RecordCipher.PromoteBelowLength + 1);
        var forged = new byte[64 + Tag];
        for (ulong sequence = 1; sequence <= 200; sequence++)
        {
            var record = new byte[large.Length + Tag];
            cipher.Seal(ContentType.ApplicationData, Epoch, sequence, large, record);
            Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, sequence, record, out _));
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, sequence, Copy(forged), out _));
        }
        Assert.False(cipher.UsesLibsodium);
    }

    [Fact]
    public void Sealing_in_place_and_from_a_separate_buffer_give_the_same_bytes()
    {
        using var cipher = NewCipher();
        var plaintext = TestBytes.Pattern(100);
        var separate = new byte[100 + Tag];
        cipher.Seal(ContentType.Handshake, Epoch, Sequence, plaintext, separate);

        var inPlace = new byte[100 + Tag];
        plaintext.CopyTo(inPlace, 0);
        cipher.Seal(ContentType.Handshake, Epoch, Sequence, inPlace.AsSpan(0, 100), inPlace);

        Assert.Equal(separate, inPlace);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_fails_when_any_single_bit_is_flipped(bool afterMove)
    {
        using var cipher = NewCipher();
        if (afterMove)
        {
            MoveToLibsodium(cipher);
        }
        var sealedRecord = new byte[20 + Tag];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(20), sealedRecord);

        var copy = new byte[sealedRecord.Length];
        for (int bit = 0; bit < sealedRecord.Length * 8; bit++)
        {
            sealedRecord.CopyTo(copy, 0);
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, copy, out int length), $"bit {bit}");
            Assert.Equal(0, length);
        }
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, sealedRecord, out _));
    }

    [Fact]
    public void Open_fails_with_a_different_epoch_sequence_number_or_type()
    {
        using var cipher = NewCipher();
        var sealedRecord = new byte[32 + Tag];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(32), sealedRecord);

        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch + 1, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence + 1, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence | (1UL << 47), Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.Handshake, Epoch, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.Alert, Epoch, Sequence, Copy(sealedRecord), out _));

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, Copy(sealedRecord), out _));
    }

    [Fact]
    public void Open_fails_when_the_record_is_truncated_or_extended()
    {
        using var cipher = NewCipher();
        var sealedRecord = new byte[32 + Tag + 1];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(32), sealedRecord);

        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence,
            Copy(sealedRecord).AsSpan(0, sealedRecord.Length - 2), out _));
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence,
            Copy(sealedRecord).AsSpan(0, sealedRecord.Length - 1), out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Open_rejects_bodies_too_short_or_too_long_without_throwing(bool afterMove)
    {
        using var cipher = NewCipher();
        if (afterMove)
        {
            MoveToLibsodium(cipher);
        }
        for (int length = 0; length <= Tag; length++)
        {
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(length), out int plaintextLength));
            Assert.Equal(0, plaintextLength);
        }
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, new byte[ushort.MaxValue + 1 + Tag], out _));
    }

    [Fact]
    public void Constructor_rejects_wrong_key_and_iv_lengths()
    {
        Assert.Throws<ArgumentException>(() => new ChaCha20Poly1305RecordCipher(new byte[16], new byte[12]));
        Assert.Throws<ArgumentException>(() => new ChaCha20Poly1305RecordCipher(new byte[32], new byte[4]));
    }

    [Fact]
    public void Seal_rejects_misuse()
    {
        using var cipher = NewCipher();
        var buffer = new byte[100];
        Assert.Throws<ArgumentException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, new byte[10], new byte[25]));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, 1UL << 48, new byte[1], new byte[17]));
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, buffer.AsSpan(1, 10), buffer.AsSpan(0, 26)));
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, new byte[ushort.MaxValue + 1], new byte[ushort.MaxValue + 17]));
    }

    [Theory]
    [InlineData(64)]
    [InlineData(1200)]
    public void Seal_and_open_do_not_allocate(int size)
    {
        // 64-byte records move the direction to libsodium during the warm-up; 1200-byte ones keep it on the BCL type.
        using var cipher = NewCipher();
        var record = new byte[size + Tag];
        for (int i = 0; i < 100; i++)
        {
            SealAndOpen(cipher, record, size, (ulong)i);
        }
        Assert.Equal(size <= ChaCha20Poly1305RecordCipher.PromoteBelowLength && ChaCha20Poly1305RecordCipher.LibsodiumAvailable,
            cipher.UsesLibsodium);

        long allocated = Allocations.Least(run =>
        {
            for (int i = 0; i < 100; i++)
            {
                SealAndOpen(cipher, record, size, (ulong)(100 + (run * 100) + i));
            }
        });

        Assert.Equal(0, allocated);

        static void SealAndOpen(ChaCha20Poly1305RecordCipher cipher, byte[] record, int size, ulong sequence)
        {
            cipher.Seal(ContentType.ApplicationData, 1, sequence, record.AsSpan(0, size), record);
            if (!cipher.TryOpenInPlace(ContentType.ApplicationData, 1, sequence, record, out _))
            {
                throw new InvalidOperationException("open failed");
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_disposed_cipher_throws(bool afterMove)
    {
        var cipher = NewCipher();
        if (afterMove)
        {
            MoveToLibsodium(cipher);
        }
        var record = new byte[16 + Tag];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(16), record);
        cipher.Dispose();
        cipher.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(16), record));
        Assert.Throws<ObjectDisposedException>(() => cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out _));
    }

    private static void MoveToLibsodium(ChaCha20Poly1305RecordCipher cipher)
    {
        var record = new byte[10 + Tag];
        for (int i = 0; i < ChaCha20Poly1305RecordCipher.PromoteAfterRecords; i++)
        {
            cipher.Seal(ContentType.ApplicationData, Epoch, 1000 + (ulong)i, TestBytes.Pattern(10), record);
        }
        Assert.Equal(ChaCha20Poly1305RecordCipher.LibsodiumAvailable, cipher.UsesLibsodium);
    }

    private static ChaCha20Poly1305RecordCipher NewCipher()
    {
        var key = new byte[32];
        for (int i = 0; i < key.Length; i++)
        {
            key[i] = (byte)i;
        }
        return new ChaCha20Poly1305RecordCipher(key, s_fixedIv);
    }

    /// <summary>RFC 7905 §2: fixed_iv XOR (00 00 00 00 || epoch (2) || seq (6)).</summary>
    private static byte[] Nonce(byte[] fixedIv, ushort epoch, ulong sequence)
    {
        var nonce = new byte[12];
        BinaryPrimitives.WriteUInt64BigEndian(nonce.AsSpan(4), ((ulong)epoch << 48) | sequence);
        for (int i = 0; i < nonce.Length; i++)
        {
            nonce[i] ^= fixedIv[i];
        }
        return nonce;
    }

    /// <summary>RFC 5246 §6.2.3.3 / RFC 6347 §4.1.2.1: epoch || seq || type || FEFD || plaintext length.</summary>


    private static byte[] Copy(byte[] bytes) => (byte[])bytes.Clone();
}
