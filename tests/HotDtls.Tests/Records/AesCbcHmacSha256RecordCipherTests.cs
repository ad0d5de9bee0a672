using System.Buffers.Binary;
using System.Security.Cryptography;
using HotDtls.Crypto;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Records;

public sealed class AesCbcHmacSha256RecordCipherTests
{
    private const ushort Epoch = 1;
    private const ulong Sequence = 5;
    private const int Iv = AesCbcHmacSha256RecordCipher.IvLength;
    private const int Mac = AesCbcHmacSha256RecordCipher.MacLength;

    public static TheoryData<int, int> KeysAndSizes()
    {
        var data = new TheoryData<int, int>();
        foreach (var keyLength in new[] { 16, 32 })
        {
            foreach (var size in new[] { 0, 1, 15, 16, 17, 64, 1200, 16384 })
            {
                data.Add(keyLength, size);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KeysAndSizes))]
    public void Seal_then_open_in_place_round_trips(int keyLength, int size)
    {
        using var cipher = NewCipher(keyLength);
        var plaintext = TestBytes.Pattern(size);
        var record = new byte[AesCbcHmacSha256RecordCipher.SealedLength(size)];
        plaintext.CopyTo(record, Iv);

        int written = cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, record.AsSpan(Iv, size), record);

        // IV, whole blocks holding the plaintext and at least one byte of padding, MAC.
        Assert.Equal(16 + ((size / 16) + 1) * 16 + 32, written);
        Assert.Equal(record.Length, written);
        if (size > 0)
        {
            Assert.NotEqual(plaintext, record.AsSpan(Iv, size).ToArray());
        }
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length));
        Assert.Equal(size, length);
        Assert.Equal(plaintext, record.AsSpan(Iv, length).ToArray());
    }

    // Golden bytes computed outside .NET with Python 3 (`cryptography` 48.0 for AES, hmac/hashlib for the MAC), for
    // the first record of a fresh cipher, whose IV is E_K(R) (the transform's chaining value starts at zero):
    //   enc_key = bytes(range(16 or 32)); mac_key = bytes(range(0x40, 0x60)); r = bytes(range(0xf0, 0x100))
    //   iv = Cipher(algorithms.AES(enc_key), modes.ECB()).encryptor().update(r)
    //   p = 15 - len(pt) % 16; padded = pt + bytes([p]) * (p + 1)
    //   c = Cipher(algorithms.AES(enc_key), modes.CBC(iv)).encryptor().update(padded)
    //   hdr = 0001 000000000005 + 17 + fefd + (16 + len(c)).to_bytes(2, "big")        # RFC 7366 §3
    //   (iv + c + hmac.new(mac_key, hdr + iv + c, hashlib.sha256).digest()).hex()
    [Theory]
    [InlineData(16, 11, "66a7c7e8345231489751de073316adad78506c524ec42450b622058b134fa5aa3d9f1c9364352227e89f102e06b5285f6c20f4ede83af598c293ab1b078620eb")]
    [InlineData(16, 32, "66a7c7e8345231489751de073316adad4b141314c8c116e08f395953dcbae346d578a5c9c565b4d86303acb51f13488a12566259495c6954bdcc17f1f09f19e6565638a82cf046e9877de211815346acebbf7b88577f00b80f02491559cf09c2")]
    [InlineData(32, 11, "9200cd8d239680cb5a69e65440326314109402510bf7b63a6604b921bce94e9eeed56c43d65c24d9052c03784841e04c6f330cd8252fb51999130eb1d406b045")]
    [InlineData(32, 32, "9200cd8d239680cb5a69e654403263143002af07eb28ac0cab52e4b8bccdfa1f9fe3104b6389c90552c08d17c1d111419ec618fc3b8ddaa3f9b3d30e47628193cddee83b3b7013efbeca66133527bd12bc0e726ae3867b1567d45dc90ba69d4f")]
    public void Seal_matches_golden_bytes(int keyLength, int plaintextKind, string expected)
    {
        // plaintextKind 11: "hello, dtls"; 32: bytes 00..1f (a whole-block plaintext gets a whole block of padding).
        var plaintext = plaintextKind == 11 ? "hello, dtls"u8.ToArray() : Counting(0, 32);
        using var cipher = NewCipher(keyLength, new FixedIvSource());
        var record = new byte[AesCbcHmacSha256RecordCipher.SealedLength(plaintext.Length)];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, plaintext, record);
        Assert.Equal(expected, Convert.ToHexStringLower(record));

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length));
        Assert.Equal(plaintext, record.AsSpan(Iv, length).ToArray());

        // The next record, same R: a different IV (the transform chained on), still a valid record.
        var next = new byte[record.Length];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, plaintext, next);
        Assert.NotEqual(record.AsSpan(0, Iv).ToArray(), next.AsSpan(0, Iv).ToArray());
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, next, out length));
        Assert.Equal(plaintext, next.AsSpan(Iv, length).ToArray());
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void Records_agree_with_an_independent_CBC_and_HMAC_over_many_lengths(int keyLength)
    {
        var random = new Random(keyLength);
        var encryptionKey = new byte[keyLength];
        random.NextBytes(encryptionKey);
        var macKey = new byte[32];
        random.NextBytes(macKey);
        using var cipher = new AesCbcHmacSha256RecordCipher(encryptionKey, macKey);
        using var aes = Aes.Create();
        aes.Key = encryptionKey;

        var lengths = new List<int> { 0, 1, 15, 16, 17, 2000, 16384, AesCbcHmacSha256RecordCipher.MaxPlaintextLength };
        for (int i = 0; i < 120; i++)
        {
            lengths.Add(random.Next(0, 2001));
        }

        foreach (int length in lengths)
        {
            var type = (ContentType)(20 + random.Next(4));
            var epoch = (ushort)random.Next(0, 0x10000);
            var sequence = (ulong)random.NextInt64(0, 1L << 48);
            var plaintext = new byte[length];
            random.NextBytes(plaintext);

            // Ours sealed (its IV made from a random block and whatever chaining value the previous records left):
            // the independent construction over the same IV gives the same bytes.
            var record = new byte[AesCbcHmacSha256RecordCipher.SealedLength(length)];
            cipher.Seal(type, epoch, sequence, plaintext, record);
            var iv = record.AsSpan(0, Iv).ToArray();
            var padding = 15 - (length % 16);
            var expected = BuildRecord(aes, macKey, type, epoch, sequence, iv, plaintext, padding, (byte)padding);
            Assert.Equal(expected, record);

            // Built independently, with any valid padding (not only the least): ours opens it.
            // (Not for the longest plaintext: more padding would overflow the MAC's uint16 length.)
            int extra = length > 60000 ? 0 : 16 * random.Next(0, ((255 - padding) / 16) + 1);
            var other = BuildRecord(aes, macKey, type, epoch, sequence, Counting(0x30, 16), plaintext, padding + extra, (byte)(padding + extra));
            Assert.True(cipher.TryOpenInPlace(type, epoch, sequence, other, out int openedLength), $"length {length}");
            Assert.Equal(plaintext, other.AsSpan(Iv, openedLength).ToArray());
        }
    }

    [Fact]
    public void Each_record_gets_a_fresh_random_IV()
    {
        using var cipher = NewCipher(16);
        var first = new byte[AesCbcHmacSha256RecordCipher.SealedLength(10)];
        var second = new byte[first.Length];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(10), first);
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(10), second);

        Assert.NotEqual(first.AsSpan(0, Iv).ToArray(), second.AsSpan(0, Iv).ToArray());
        Assert.NotEqual(first, second);

        // IVs are drawn 64 at a time per thread: across several draws, and from two ciphers, none repeats.
        using var other = NewCipher(16);
        var seen = new HashSet<string>();
        var record = new byte[AesCbcHmacSha256RecordCipher.SealedLength(1)];
        for (int i = 0; i < 300; i++)
        {
            (i % 2 == 0 ? cipher : other).Seal(ContentType.ApplicationData, Epoch, (ulong)i, [1], record);
            Assert.True(seen.Add(Convert.ToHexString(record, 0, Iv)), $"record {i}");
        }
    }

    [Fact]
    public void Sealing_in_place_and_from_a_separate_buffer_give_the_same_bytes()
    {
        // Two fresh ciphers with the same R: the same IV, so the same record.
        using var first = NewCipher(16, new FixedIvSource());
        var plaintext = TestBytes.Pattern(100);
        var separate = new byte[AesCbcHmacSha256RecordCipher.SealedLength(100)];
        first.Seal(ContentType.Handshake, Epoch, Sequence, plaintext, separate);

        using var second = NewCipher(16, new FixedIvSource());
        var inPlace = new byte[separate.Length];
        plaintext.CopyTo(inPlace, Iv);
        second.Seal(ContentType.Handshake, Epoch, Sequence, inPlace.AsSpan(Iv, 100), inPlace);

        Assert.Equal(separate, inPlace);
    }

    [Fact]
    public void Open_fails_when_any_single_bit_is_flipped()
    {
        // IV, ciphertext and MAC alike: the MAC covers IV and ciphertext (RFC 7366 §3).
        using var cipher = NewCipher(16);
        var sealedRecord = new byte[AesCbcHmacSha256RecordCipher.SealedLength(20)];
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
        using var cipher = NewCipher(16);
        var sealedRecord = new byte[AesCbcHmacSha256RecordCipher.SealedLength(32)];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(32), sealedRecord);

        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch + 1, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence + 1, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence | (1UL << 47), Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.Handshake, Epoch, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.Alert, Epoch, Sequence, Copy(sealedRecord), out _));

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, Copy(sealedRecord), out _));
    }

    [Fact]
    public void Open_rejects_impossible_lengths_without_throwing()
    {
        using var cipher = NewCipher(16);
        var sealedRecord = new byte[AesCbcHmacSha256RecordCipher.SealedLength(40)];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(40), sealedRecord);

        // Every length short of the whole record: too short, not whole blocks, or a MAC over other bytes.
        for (int length = 0; length < sealedRecord.Length; length++)
        {
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence,
                Copy(sealedRecord).AsSpan(0, length), out int plaintextLength), $"length {length}");
            Assert.Equal(0, plaintextLength);
        }
        // One byte more.
        var longer = new byte[sealedRecord.Length + 1];
        sealedRecord.CopyTo(longer, 0);
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, longer, out _));
        // An IV and ciphertext the MAC header's uint16 length cannot describe (the MAC fails long before anyway).
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, new byte[65536 + Mac], out _));
        // No ciphertext block at all: IV and MAC only.
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, new byte[Iv + Mac], out _));
    }

    [Theory]
    [InlineData(10, 5, 4, "the padding bytes hold 5, padding_length says 4")]
    [InlineData(11, 4, 5, "padding_length says 5 but only 4 bytes of padding precede it")]
    [InlineData(0, 15, 16, "padding_length 16 in a one-block record: longer than the record")]
    [InlineData(0, 15, 255, "padding_length 255 in a one-block record")]
    [InlineData(16, 15, 14, "padding_length 14 in a 32-byte ciphertext with 15 bytes of padding")]
    public void Open_fails_on_bad_padding_even_with_a_valid_MAC(int contentLength, int paddingBytes, int paddingLengthByte, string why)
    {
        // Build records as a peer with the keys would: correct MAC over IV || ciphertext, malformed padding inside.
        var encryptionKey = Counting(0, 16);
        var macKey = Counting(0x40, 32);
        using var cipher = new AesCbcHmacSha256RecordCipher(encryptionKey, macKey);
        using var aes = Aes.Create();
        aes.Key = encryptionKey;
        var record = BuildRecord(aes, macKey, ContentType.ApplicationData, Epoch, Sequence, Counting(0x30, 16),
            TestBytes.Pattern(contentLength), paddingBytes, (byte)paddingLengthByte);

        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length), why);
        Assert.Equal(0, length);

        // The same content with good padding opens: only the padding made the difference.
        var good = BuildRecord(aes, macKey, ContentType.ApplicationData, Epoch, Sequence, Counting(0x30, 16),
            TestBytes.Pattern(contentLength), paddingBytes, (byte)paddingBytes);
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, good, out length));
        Assert.Equal(contentLength, length);
    }

    [Theory]
    [InlineData("00", 1, 0)]
    [InlineData("0101", 1, 0)]
    [InlineData("aa0101", 1, 1)]
    [InlineData("aa0201", 0, 0)]
    [InlineData("020202", 1, 0)]
    [InlineData("030202", 0, 0)]
    [InlineData("aa020202", 1, 1)]
    [InlineData("aa030202", 0, 0)]
    [InlineData("02", 0, 0)]
    [InlineData("aabb00", 1, 2)]
    public void CheckPadding_accepts_exactly_padding_bytes_equal_to_padding_length(string hex, int expectedGood, int expectedContent)
    {
        Assert.Equal(expectedGood, AesCbcHmacSha256RecordCipher.CheckPadding(Convert.FromHexString(hex), out int content));
        Assert.Equal(expectedContent, content);
    }

    [Fact]
    public void CheckPadding_handles_the_longest_padding_and_long_records()
    {
        // padding_length 255: 256 bytes of 0xFF, the most a receiver ever checks (RFC 5246 §6.2.3.2).
        var padded = new byte[1024];
        padded.AsSpan(1024 - 256).Fill(0xFF);
        Assert.Equal(1, AesCbcHmacSha256RecordCipher.CheckPadding(padded, out int content));
        Assert.Equal(768, content);

        padded[1024 - 256] = 0xFE;
        Assert.Equal(0, AesCbcHmacSha256RecordCipher.CheckPadding(padded, out content));
        Assert.Equal(0, content);

        // 255 bytes of padding exactly fill a 256-byte ciphertext with padding_length: no content.
        var full = new byte[256];
        full.AsSpan().Fill(0xFF);
        Assert.Equal(1, AesCbcHmacSha256RecordCipher.CheckPadding(full, out content));
        Assert.Equal(0, content);
    }

    [Fact]
    public void Constructor_rejects_wrong_key_lengths()
    {
        Assert.Throws<ArgumentException>(() => new AesCbcHmacSha256RecordCipher(new byte[24], new byte[32]));
        Assert.Throws<ArgumentException>(() => new AesCbcHmacSha256RecordCipher(new byte[16], new byte[20]));
    }

    [Fact]
    public void Seal_rejects_misuse()
    {
        using var cipher = NewCipher(16);
        var buffer = new byte[200];
        Assert.Throws<ArgumentException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, new byte[10], new byte[63]));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, 1UL << 48, new byte[1], new byte[64]));
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, buffer.AsSpan(0, 10), buffer.AsSpan(0, 64)));
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, buffer.AsSpan(17, 10), buffer.AsSpan(0, 64)));
        // One byte more than the MAC's uint16 length can describe once padded.
        int tooLong = AesCbcHmacSha256RecordCipher.MaxPlaintextLength + 1;
        Assert.Throws<ArgumentException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence,
            new byte[tooLong], new byte[AesCbcHmacSha256RecordCipher.SealedLength(tooLong)]));
    }

    [Fact]
    public void The_longest_plaintext_fills_the_MAC_length_field_exactly()
    {
        Assert.Equal(ushort.MaxValue - 15 + Mac,
            AesCbcHmacSha256RecordCipher.SealedLength(AesCbcHmacSha256RecordCipher.MaxPlaintextLength));
        Assert.True(AesCbcHmacSha256RecordCipher.SealedLength(AesCbcHmacSha256RecordCipher.MaxPlaintextLength + 1) - Mac > ushort.MaxValue);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void Seal_and_open_do_not_allocate(int keyLength)
    {
        using var cipher = NewCipher(keyLength);
        var record = new byte[AesCbcHmacSha256RecordCipher.SealedLength(1200)];
        var forged = new byte[AesCbcHmacSha256RecordCipher.SealedLength(64)];
        for (int i = 0; i < 100; i++)
        {
            SealAndOpen(cipher, record, forged, (ulong)i);
        }

        long allocated = Allocations.Least(run =>
        {
            for (int i = 0; i < 100; i++)
            {
                SealAndOpen(cipher, record, forged, (ulong)(100 + (run * 100) + i));
            }
        });

        Assert.Equal(0, allocated);

        static void SealAndOpen(AesCbcHmacSha256RecordCipher cipher, byte[] record, byte[] forged, ulong sequence)
        {
            cipher.Seal(ContentType.ApplicationData, 1, sequence, record.AsSpan(Iv, 1200), record);
            if (!cipher.TryOpenInPlace(ContentType.ApplicationData, 1, sequence, record, out _)
                || cipher.TryOpenInPlace(ContentType.ApplicationData, 1, sequence, forged, out _))
            {
                throw new InvalidOperationException("open failed");
            }
        }
    }

    [Fact]
    public void A_disposed_cipher_throws()
    {
        var cipher = NewCipher(16);
        var record = new byte[AesCbcHmacSha256RecordCipher.SealedLength(16)];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(16), record);
        cipher.Dispose();
        cipher.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(16), record));
        Assert.Throws<ObjectDisposedException>(() => cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out _));
    }

    /// <summary>
    /// A record as RFC 7366 §3 builds it, from parts the test chooses: IV || AES-CBC(content || padding ||
    /// padding_length) || HMAC-SHA256(seq_num || type || FEFD || length(IV + ciphertext) || IV || ciphertext), where the
    /// padding is <paramref name="paddingBytes"/> bytes of <paramref name="paddingLengthByte"/> followed by that byte.
    /// Only the padding bytes may be malformed (for the tests of bad padding).
    /// </summary>
    private static byte[] BuildRecord(Aes aes, byte[] macKey, ContentType type, ushort epoch, ulong sequence, byte[] iv,
        byte[] content, int paddingBytes, byte paddingLengthByte)
    {
        var padded = new byte[content.Length + paddingBytes + 1];
        content.CopyTo(padded, 0);
        padded.AsSpan(content.Length).Fill(paddingLengthByte);
        if (paddingBytes > 0 && paddingBytes != paddingLengthByte)
        {
            // Padding bytes that disagree with padding_length: fill them with their own count.
            padded.AsSpan(content.Length, paddingBytes).Fill((byte)paddingBytes);
        }
        Assert.Equal(0, padded.Length % 16);
        var ciphertext = aes.EncryptCbc(padded, iv, PaddingMode.None);

        var record = new byte[Iv + ciphertext.Length + Mac];
        iv.CopyTo(record, 0);
        ciphertext.CopyTo(record, Iv);
        var header = new byte[13];
        BinaryPrimitives.WriteUInt64BigEndian(header, ((ulong)epoch << 48) | sequence);
        header[8] = (byte)type;
        header[9] = 0xFE;
        header[10] = 0xFD;
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(11), (ushort)(Iv + ciphertext.Length));
        byte[] signed = [.. header, .. record.AsSpan(0, Iv + ciphertext.Length)];
        var mac = HMACSHA256.HashData(macKey, signed);
        mac.CopyTo(record, Iv + ciphertext.Length);
        return record;
    }

    private static AesCbcHmacSha256RecordCipher NewCipher(int keyLength, IRandomSource? ivSource = null) =>
        new(Counting(0, keyLength), Counting(0x40, 32), ivSource);

    /// <summary>Bytes <paramref name="start"/>, <paramref name="start"/> + 1, …</summary>
    private static byte[] Counting(int start, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)(start + i);
        }
        return bytes;
    }


    private static byte[] Copy(byte[] bytes) => (byte[])bytes.Clone();

    /// <summary>Always R = f0 f1 … ff, so the first record of a fresh cipher is reproducible.</summary>
    private sealed class FixedIvSource : IRandomSource
    {
        public void Fill(Span<byte> destination)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (byte)(0xF0 + i);
            }
        }
    }

    /// <summary>
    /// The independent CBC-EtM build these tests compare with uses <see cref="HMACSHA256"/>, and the record cipher an
    /// HMAC-SHA256 <see cref="IncrementalHash"/> reused across records; both are anchored to RFC 4231 §4.2 and §4.3
    /// (test cases 1 and 2), the second one fed in two pieces and twice, as the record cipher feeds header and body.
    /// </summary>
    [Fact]
    public void Hmac_sha256_as_used_matches_rfc_4231_test_cases_1_and_2()
    {
        var key1 = Convert.FromHexString("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b");
        Assert.Equal("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            Convert.ToHexStringLower(HMACSHA256.HashData(key1, "Hi There"u8)));

        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, "Jefe"u8);
        var output = new byte[32];
        for (var round = 0; round < 2; round++)
        {
            hmac.AppendData("what do ya want "u8);
            hmac.AppendData("for nothing?"u8);
            Assert.True(hmac.TryGetHashAndReset(output, out _));
            Assert.Equal("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", Convert.ToHexStringLower(output));
        }
    }
}
