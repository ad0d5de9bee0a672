using System.Buffers.Binary;
using System.Security.Cryptography;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Records;

public sealed class AesCcmRecordCipherTests
{
    private const ushort Epoch = 1;
    private const ulong Sequence = 5;
    private static readonly byte[] s_fixedIv = Convert.FromHexString("a0a1a2a3");

    public static TheoryData<int, int> KeysAndTags() => new()
    {
        { 16, AesCcmRecordCipher.CcmTagLength },
        { 16, AesCcmRecordCipher.Ccm8TagLength },
        { 32, AesCcmRecordCipher.CcmTagLength },
        { 32, AesCcmRecordCipher.Ccm8TagLength },
    };

    public static TheoryData<int, int, int> KeysTagsAndSizes()
    {
        var data = new TheoryData<int, int, int>();
        foreach (var (keyLength, tagLength) in new[] { (16, 16), (16, 8), (32, 16), (32, 8) })
        {
            foreach (var size in new[] { 0, 1, 15, 16, 17, 64, 1200, 16384 })
            {
                data.Add(keyLength, tagLength, size);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(KeysTagsAndSizes))]
    public void Seal_then_open_in_place_round_trips(int keyLength, int tagLength, int size)
    {
        using var cipher = NewCipher(keyLength, tagLength);
        var plaintext = TestBytes.Pattern(size);
        var record = new byte[size + cipher.Overhead];
        plaintext.CopyTo(record, AesCcmRecordCipher.RecordIvLength);

        int written = cipher.Seal(ContentType.ApplicationData, Epoch, Sequence,
            record.AsSpan(AesCcmRecordCipher.RecordIvLength, size), record);

        Assert.Equal(size + 8 + tagLength, written);
        if (size > 0)
        {
            Assert.NotEqual(plaintext, record.AsSpan(8, size).ToArray());
        }
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length));
        Assert.Equal(size, length);
        Assert.Equal(plaintext, record.AsSpan(AesCcmRecordCipher.RecordIvLength, length).ToArray());
    }

    // Golden bytes computed outside .NET with Python's `cryptography` 48.0 (RFC 6655 record form, 12-byte nonce):
    //   key = bytes(range(16 or 32)); salt = a0a1a2a3; explicit = 0001 000000000005 (epoch 1, seq 5)
    //   aad = explicit + 17 + fefd + 000b
    //   (explicit + AESCCM(key, tag_length=16 or 8).encrypt(salt + explicit, b"hello, dtls", aad)).hex()
    [Theory]
    [InlineData(16, 16, "00010000000000054498625bc08ae457685b2409fd7000049ce1e878a01afc2a6013dc")]
    [InlineData(16, 8, "00010000000000054498625bc08ae457685b24a4236f7a2af0e08b")]
    [InlineData(32, 16, "0001000000000005736bbe20aac33043514c11487effca52afd7aa64a9b33563655e81")]
    [InlineData(32, 8, "0001000000000005736bbe20aac33043514c1168bd29a0570d56aa")]
    public void Seal_matches_golden_bytes(int keyLength, int tagLength, string expected)
    {
        using var cipher = NewCipher(keyLength, tagLength);
        var record = new byte[11 + 8 + tagLength];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, "hello, dtls"u8, record);
        Assert.Equal(expected, Convert.ToHexStringLower(record));

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length));
        Assert.Equal("hello, dtls"u8.ToArray(), record.AsSpan(8, length).ToArray());
    }

    [Theory]
    [MemberData(nameof(KeysAndTags))]
    public void Seal_and_open_agree_with_System_AesCcm_over_many_lengths(int keyLength, int tagLength)
    {
        // AesCcm is the oracle here only: it allocates per call, so it is not used on the datagram path.
        var random = new Random(keyLength * 100 + tagLength);
        var key = new byte[keyLength];
        random.NextBytes(key);
        var fixedIv = new byte[4];
        random.NextBytes(fixedIv);
        using var cipher = new AesCcmRecordCipher(key, fixedIv, tagLength);
        using var reference = new AesCcm(key);

        var lengths = new List<int> { 0, 1, 15, 16, 17, 31, 32, 33, 2000, 16384, ushort.MaxValue };
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
            var nonce = Nonce(fixedIv, epoch, sequence);
            var aad = TestBytes.AdditionalData(type, epoch, sequence, length);

            // Ours sealed, AesCcm opens.
            var record = new byte[length + 8 + tagLength];
            cipher.Seal(type, epoch, sequence, plaintext, record);
            Assert.Equal(nonce.AsSpan(4).ToArray(), record.AsSpan(0, 8).ToArray());
            var opened = new byte[length];
            reference.Decrypt(nonce, record.AsSpan(8, length), record.AsSpan(8 + length, tagLength), opened, aad);
            Assert.Equal(plaintext, opened);

            // AesCcm sealed: the same bytes, and ours opens them.
            var expected = new byte[record.Length];
            nonce.AsSpan(4).CopyTo(expected);
            reference.Encrypt(nonce, plaintext, expected.AsSpan(8, length), expected.AsSpan(8 + length, tagLength), aad);
            Assert.Equal(expected, record);
            Assert.True(cipher.TryOpenInPlace(type, epoch, sequence, expected, out int openedLength), $"length {length}");
            Assert.Equal(plaintext, expected.AsSpan(8, openedLength).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(KeysAndTags))]
    public void Failed_opens_between_records_do_not_disturb_the_next_MAC(int keyLength, int tagLength)
    {
        // The CBC-MAC transform chains across calls; a failed open (any length, any content) must leave it usable.
        var key = Key(keyLength);
        using var cipher = NewCipher(keyLength, tagLength);
        using var reference = new AesCcm(key);
        var random = new Random(7);
        for (ulong sequence = 0; sequence < 40; sequence++)
        {
            var garbage = new byte[random.Next(0, 200)];
            random.NextBytes(garbage);
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, sequence, garbage, out _));

            int length = random.Next(0, 100);
            var plaintext = TestBytes.Pattern(length);
            var record = new byte[length + 8 + tagLength];
            cipher.Seal(ContentType.ApplicationData, Epoch, sequence, plaintext, record);
            var opened = new byte[length];
            reference.Decrypt(Nonce(s_fixedIv, Epoch, sequence), record.AsSpan(8, length),
                record.AsSpan(8 + length, tagLength), opened, TestBytes.AdditionalData(ContentType.ApplicationData, Epoch, sequence, length));
            Assert.Equal(plaintext, opened);
            Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, sequence, record, out _));
        }
    }

    [Theory]
    [MemberData(nameof(KeysAndTags))]
    public void Sealing_in_place_and_from_a_separate_buffer_give_the_same_bytes(int keyLength, int tagLength)
    {
        using var cipher = NewCipher(keyLength, tagLength);
        var plaintext = TestBytes.Pattern(100);
        var separate = new byte[100 + cipher.Overhead];
        cipher.Seal(ContentType.Handshake, Epoch, Sequence, plaintext, separate);

        var inPlace = new byte[100 + cipher.Overhead];
        plaintext.CopyTo(inPlace, 8);
        cipher.Seal(ContentType.Handshake, Epoch, Sequence, inPlace.AsSpan(8, 100), inPlace);

        Assert.Equal(separate, inPlace);
    }

    [Fact]
    public void Open_uses_the_explicit_nonce_from_the_record_not_one_derived_from_the_header()
    {
        // A peer may choose any distinct explicit nonce (RFC 6655 §3), e.g. a counter unrelated to the sequence number.
        var key = Key(16);
        using var cipher = NewCipher(16, 16);
        var explicitNonce = Convert.FromHexString("0102030405060708");
        var nonce = new byte[12];
        s_fixedIv.CopyTo(nonce, 0);
        explicitNonce.CopyTo(nonce, 4);
        var record = new byte[3 + 24];
        explicitNonce.CopyTo(record, 0);
        using (var reference = new AesCcm(key))
        {
            reference.Encrypt(nonce, "abc"u8, record.AsSpan(8, 3), record.AsSpan(11, 16),
                TestBytes.AdditionalData(ContentType.ApplicationData, 2, 9, 3));
        }

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, 2, 9, record, out int length));
        Assert.Equal("abc"u8.ToArray(), record.AsSpan(8, length).ToArray());
    }

    [Theory]
    [MemberData(nameof(KeysAndTags))]
    public void Open_fails_when_any_single_bit_is_flipped_and_leaves_no_plaintext(int keyLength, int tagLength)
    {
        using var cipher = NewCipher(keyLength, tagLength);
        var sealedRecord = new byte[20 + cipher.Overhead];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(20), sealedRecord);

        var copy = new byte[sealedRecord.Length];
        for (int bit = 0; bit < sealedRecord.Length * 8; bit++)
        {
            sealedRecord.CopyTo(copy, 0);
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, copy, out int length), $"bit {bit}");
            Assert.Equal(0, length);
            // The candidate plaintext of a record that failed is wiped (RFC 3610 §2.5).
            Assert.All(copy.AsSpan(8, 20).ToArray(), b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public void Open_fails_with_a_different_epoch_sequence_number_or_type()
    {
        using var cipher = NewCipher(16, 8);
        var sealedRecord = new byte[32 + cipher.Overhead];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(32), sealedRecord);

        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch + 1, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence + 1, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence | (1UL << 47), Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.Handshake, Epoch, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.Alert, Epoch, Sequence, Copy(sealedRecord), out _));

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, Copy(sealedRecord), out _));
    }

    [Theory]
    [MemberData(nameof(KeysAndTags))]
    public void Open_fails_when_the_record_is_truncated_or_extended(int keyLength, int tagLength)
    {
        using var cipher = NewCipher(keyLength, tagLength);
        var sealedRecord = new byte[32 + cipher.Overhead + 1];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(32), sealedRecord);

        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence,
            Copy(sealedRecord).AsSpan(0, sealedRecord.Length - 2), out _));
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence,
            Copy(sealedRecord).AsSpan(0, sealedRecord.Length - 1), out _));
    }

    [Theory]
    [MemberData(nameof(KeysAndTags))]
    public void Open_rejects_bodies_too_short_or_too_long_without_throwing(int keyLength, int tagLength)
    {
        using var cipher = NewCipher(keyLength, tagLength);
        for (int length = 0; length < cipher.Overhead; length++)
        {
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(length), out int plaintextLength));
            Assert.Equal(0, plaintextLength);
        }
        // Nonce and tag alone (an empty plaintext) is a possible record, but not this one.
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(cipher.Overhead), out _));
        // A plaintext length additional_data cannot express.
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence,
            new byte[ushort.MaxValue + 1 + cipher.Overhead], out _));
    }

    [Fact]
    public void Constructor_rejects_wrong_key_iv_and_tag_lengths()
    {
        Assert.Throws<ArgumentException>(() => new AesCcmRecordCipher(new byte[24], new byte[4], 16));
        Assert.Throws<ArgumentException>(() => new AesCcmRecordCipher(new byte[16], new byte[12], 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AesCcmRecordCipher(new byte[16], new byte[4], 12));
    }

    [Fact]
    public void Seal_rejects_misuse()
    {
        using var cipher = NewCipher(16, 16);
        var buffer = new byte[100];
        // Destination too short.
        Assert.Throws<ArgumentException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, new byte[10], new byte[33]));
        // Sequence number beyond 48 bits.
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, 1UL << 48, new byte[1], new byte[25]));
        // Overlap elsewhere than in place.
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, buffer.AsSpan(0, 10), buffer.AsSpan(0, 34)));
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, buffer.AsSpan(9, 10), buffer.AsSpan(0, 34)));
        // More than additional_data's uint16 length.
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, new byte[ushort.MaxValue + 1], new byte[ushort.MaxValue + 25]));
    }

    [Theory]
    [MemberData(nameof(KeysAndTags))]
    public void Seal_and_open_do_not_allocate(int keyLength, int tagLength)
    {
        using var cipher = NewCipher(keyLength, tagLength);
        var record = new byte[1200 + cipher.Overhead];
        var forged = new byte[64 + cipher.Overhead];
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

        static void SealAndOpen(AesCcmRecordCipher cipher, byte[] record, byte[] forged, ulong sequence)
        {
            cipher.Seal(ContentType.ApplicationData, 1, sequence, record.AsSpan(8, 1200), record);
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
        var cipher = NewCipher(16, 16);
        var record = new byte[16 + cipher.Overhead];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(16), record);
        cipher.Dispose();
        cipher.Dispose();

        Assert.Throws<ObjectDisposedException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(16), record));
        Assert.Throws<ObjectDisposedException>(() => cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out _));
    }

    private static AesCcmRecordCipher NewCipher(int keyLength, int tagLength) => new(Key(keyLength), s_fixedIv, tagLength);

    private static byte[] Key(int length)
    {
        var key = new byte[length];
        for (int i = 0; i < key.Length; i++)
        {
            key[i] = (byte)i;
        }
        return key;
    }

    /// <summary>RFC 6655 §3: salt (4) || nonce_explicit (8), the explicit part epoch (2) || seq (6).</summary>
    private static byte[] Nonce(byte[] fixedIv, ushort epoch, ulong sequence)
    {
        var nonce = new byte[12];
        fixedIv.CopyTo(nonce, 0);
        BinaryPrimitives.WriteUInt64BigEndian(nonce.AsSpan(4), ((ulong)epoch << 48) | sequence);
        return nonce;
    }

    /// <summary>RFC 5246 §6.2.3.3 / RFC 6347 §4.1.2.1: epoch || seq || type || FEFD || plaintext length.</summary>


    private static byte[] Copy(byte[] bytes) => (byte[])bytes.Clone();

    /// <summary>
    /// The differential tests compare with <see cref="AesCcm"/>; this anchors that oracle to NIST SP 800-38C, Appendix C,
    /// Example 3 — the one example with a 96-bit nonce, as every TLS CCM record has (a 13-byte AAD and the record
    /// format keep the vector itself out of the record cipher's reach).
    /// </summary>
    [Fact]
    public void The_oracle_reproduces_nist_sp_800_38c_example_3()
    {
        var key = Convert.FromHexString("404142434445464748494a4b4c4d4e4f");
        var nonce = Convert.FromHexString("101112131415161718191a1b");
        var aad = Convert.FromHexString("000102030405060708090a0b0c0d0e0f10111213");
        var plaintext = Convert.FromHexString("202122232425262728292a2b2c2d2e2f3031323334353637");
        using var ccm = new AesCcm(key);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[8];

        ccm.Encrypt(nonce, plaintext, ciphertext, tag, aad);

        Assert.Equal("e3b201a9f5b71a7a9b1ceaeccd97e70b6176aad9a4428aa5", Convert.ToHexStringLower(ciphertext));
        Assert.Equal("484392fbc1b09951", Convert.ToHexStringLower(tag));
    }
}
