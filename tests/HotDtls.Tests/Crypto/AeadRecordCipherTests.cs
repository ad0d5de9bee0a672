using System.Buffers.Binary;
using System.Security.Cryptography;
using HotDtls.Crypto;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Crypto;

public sealed class AeadRecordCipherTests
{
    private const ushort Epoch = 1;
    private const ulong Sequence = 5;
    private static readonly byte[] s_fixedIv = Convert.FromHexString("a0a1a2a3");

    public static TheoryData<string, int> SuitesAndSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var suite in new[] { "128", "256" })
        {
            foreach (var size in new[] { 0, 1, 64, 1200, 16384 })
            {
                data.Add(suite, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SuitesAndSizes))]
    public void Seal_then_open_in_place_round_trips(string suiteName, int size)
    {
        var suite = Suite(suiteName);
        using var cipher = NewCipher(suite);
        var plaintext = TestBytes.Pattern(size);
        var record = new byte[size + AeadRecordCipher.Overhead];
        plaintext.CopyTo(record, AeadRecordCipher.ExplicitNonceLength);

        int written = cipher.Seal(ContentType.ApplicationData, Epoch, Sequence,
            record.AsSpan(AeadRecordCipher.ExplicitNonceLength, size), record);

        Assert.Equal(size + 24, written);
        if (size > 0)
        {
            Assert.NotEqual(plaintext, record.AsSpan(8, size).ToArray());
        }

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length));
        Assert.Equal(size, length);
        Assert.Equal(plaintext, record.AsSpan(AeadRecordCipher.ExplicitNonceLength, length).ToArray());
    }

    [Theory]
    [InlineData("128")]
    [InlineData("256")]
    public void Sealing_in_place_and_from_a_separate_buffer_give_the_same_bytes(string suiteName)
    {
        using var cipher = NewCipher(Suite(suiteName));
        var plaintext = TestBytes.Pattern(100);
        var separate = new byte[124];
        cipher.Seal(ContentType.Handshake, Epoch, Sequence, plaintext, separate);

        var inPlace = new byte[124];
        plaintext.CopyTo(inPlace, 8);
        cipher.Seal(ContentType.Handshake, Epoch, Sequence, inPlace.AsSpan(8, 100), inPlace);

        Assert.Equal(separate, inPlace);
    }

    // Golden bytes computed outside .NET with Python's `cryptography` 48.0:
    //   key = bytes(range(16 or 32)); iv = a0a1a2a3; explicit = 0001 000000000005 (epoch 1, seq 5)
    //   aad = explicit + 17 + fefd + 000b
    //   (explicit + AESGCM(key).encrypt(iv + explicit, b"hello, dtls", aad)).hex()
    [Theory]
    [InlineData("128", "0001000000000005a46f3dea4bbbcaf08029c01049cb42a10e3bbf6a062f9173828270")]
    [InlineData("256", "000100000000000534d5a0063d5be88b6c94ea79f67c70f6db1e0b8e834fe92bc832e4")]
    public void Seal_matches_golden_bytes(string suiteName, string expected)
    {
        using var cipher = NewCipher(Suite(suiteName));
        var record = new byte[11 + 24];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, "hello, dtls"u8, record);
        Assert.Equal(expected, Convert.ToHexStringLower(record));

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out int length));
        Assert.Equal("hello, dtls"u8.ToArray(), record.AsSpan(8, length).ToArray());
    }

    [Theory]
    [InlineData("128", (ushort)0, 0UL)]
    [InlineData("128", (ushort)1, 5UL)]
    [InlineData("256", (ushort)0xFFFF, 0xFFFF_FFFF_FFFFUL)]
    [InlineData("256", (ushort)0x1234, 0x0000_5678_9ABCUL)]
    public void Seal_matches_aes_gcm_over_the_documented_nonce_and_aad(string suiteName, ushort epoch, ulong sequence)
    {
        var suite = Suite(suiteName);
        using var cipher = NewCipher(suite);
        var plaintext = TestBytes.Pattern(77);
        var record = new byte[77 + 24];
        cipher.Seal(ContentType.Alert, epoch, sequence, plaintext, record);

        // RFC 5288 §3 nonce: fixed_iv(4) || explicit(8), explicit = epoch(2) || seq(6).
        var explicitNonce = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(explicitNonce, epoch);
        for (int i = 0; i < 6; i++)
        {
            explicitNonce[2 + i] = (byte)(sequence >> (8 * (5 - i)));
        }

        var nonce = new byte[12];
        s_fixedIv.CopyTo(nonce, 0);
        explicitNonce.CopyTo(nonce, 4);

        // RFC 5246 §6.2.3.3 / RFC 6347 §4.1.2.1 AAD: epoch || seq || type || version || length.
        var aad = new byte[13];
        explicitNonce.CopyTo(aad, 0);
        aad[8] = 21;
        aad[9] = 0xFE;
        aad[10] = 0xFD;
        aad[11] = 0;
        aad[12] = 77;

        var ciphertext = new byte[77];
        var tag = new byte[16];
        using (var reference = new AesGcm(Key(suite), 16))
        {
            reference.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }

        Assert.Equal(explicitNonce, record.AsSpan(0, 8).ToArray());
        Assert.Equal(ciphertext, record.AsSpan(8, 77).ToArray());
        Assert.Equal(tag, record.AsSpan(85, 16).ToArray());
    }

    [Fact]
    public void Open_uses_the_explicit_nonce_from_the_record_not_one_derived_from_the_header()
    {
        // A peer may choose any explicit nonce (RFC 5288 §3), e.g. a counter unrelated to the sequence number.
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        using var cipher = NewCipher(suite);
        var explicitNonce = Convert.FromHexString("0102030405060708");
        var nonce = new byte[12];
        s_fixedIv.CopyTo(nonce, 0);
        explicitNonce.CopyTo(nonce, 4);
        var aad = Convert.FromHexString("0002000000000009" + "17" + "fefd" + "0003");

        var record = new byte[3 + 24];
        explicitNonce.CopyTo(record, 0);
        using (var reference = new AesGcm(Key(suite), 16))
        {
            reference.Encrypt(nonce, "abc"u8, record.AsSpan(8, 3), record.AsSpan(11, 16), aad);
        }

        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, 2, 9, record, out int length));
        Assert.Equal("abc"u8.ToArray(), record.AsSpan(8, length).ToArray());
    }

    [Theory]
    [InlineData("128")]
    [InlineData("256")]
    public void Open_fails_when_any_single_bit_is_flipped(string suiteName)
    {
        using var cipher = NewCipher(Suite(suiteName));
        var sealedRecord = new byte[20 + 24];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(20), sealedRecord);

        var copy = new byte[sealedRecord.Length];
        for (int bit = 0; bit < sealedRecord.Length * 8; bit++)
        {
            sealedRecord.CopyTo(copy, 0);
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, copy, out int length), $"bit {bit}");
            Assert.Equal(0, length);
        }
    }

    [Fact]
    public void Open_fails_with_a_different_epoch_sequence_number_or_type()
    {
        using var cipher = NewCipher(CipherSuiteInfo.Aes128GcmSha256);
        var sealedRecord = new byte[32 + 24];
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
        using var cipher = NewCipher(CipherSuiteInfo.Aes128GcmSha256);
        var sealedRecord = new byte[32 + 24 + 1];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(32), sealedRecord);

        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, Copy(sealedRecord), out _));
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, Copy(sealedRecord).AsSpan(0, 55), out _));
    }

    [Fact]
    public void Open_rejects_bodies_shorter_than_nonce_and_tag_without_throwing()
    {
        using var cipher = NewCipher(CipherSuiteInfo.Aes128GcmSha256);
        for (int length = 0; length < AeadRecordCipher.Overhead; length++)
        {
            var fragment = TestBytes.Pattern(length);
            Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, fragment, out int plaintextLength));
            Assert.Equal(0, plaintextLength);
        }
    }

    [Fact]
    public void Open_rejects_an_unauthenticated_body_of_exactly_the_overhead()
    {
        using var cipher = NewCipher(CipherSuiteInfo.Aes128GcmSha256);
        Assert.False(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, new byte[24], out _));
    }

    [Theory]
    [InlineData("128")]
    [InlineData("256")]
    public void CreatePair_lets_each_side_open_what_the_other_writes(string suiteName)
    {
        var suite = Suite(suiteName);
        var keyBlock = TestBytes.Pattern(suite.KeyBlockLength);
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: true, out var serverRead, out var serverWrite);
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: false, out var clientRead, out var clientWrite);
        using (serverRead)
        using (serverWrite)
        using (clientRead)
        using (clientWrite)
        {
            var fromClient = new byte[5 + 24];
            clientWrite.Seal(ContentType.ApplicationData, 1, 0, "hello"u8, fromClient);
            Assert.False(clientRead.TryOpenInPlace(ContentType.ApplicationData, 1, 0, Copy(fromClient), out _));
            Assert.False(serverWrite.TryOpenInPlace(ContentType.ApplicationData, 1, 0, Copy(fromClient), out _));
            Assert.True(serverRead.TryOpenInPlace(ContentType.ApplicationData, 1, 0, fromClient, out int length));
            Assert.Equal("hello"u8.ToArray(), fromClient.AsSpan(8, length).ToArray());

            var fromServer = new byte[5 + 24];
            serverWrite.Seal(ContentType.ApplicationData, 1, 0, "world"u8, fromServer);
            Assert.False(serverRead.TryOpenInPlace(ContentType.ApplicationData, 1, 0, Copy(fromServer), out _));
            Assert.True(clientRead.TryOpenInPlace(ContentType.ApplicationData, 1, 0, fromServer, out length));
            Assert.Equal("world"u8.ToArray(), fromServer.AsSpan(8, length).ToArray());
        }
    }

    [Fact]
    public void CreatePair_takes_keys_and_ivs_from_the_rfc_5246_positions()
    {
        // client_write_key | server_write_key | client_write_IV | server_write_IV
        var suite = CipherSuiteInfo.Aes128GcmSha256;
        var keyBlock = TestBytes.Pattern(suite.KeyBlockLength);
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: false, out var clientRead, out var clientWrite);
        using (clientRead)
        using (clientWrite)
        using (var expectedClientWrite = new AeadRecordCipher(suite, keyBlock.AsSpan(0, 16), keyBlock.AsSpan(32, 4)))
        using (var expectedServerWrite = new AeadRecordCipher(suite, keyBlock.AsSpan(16, 16), keyBlock.AsSpan(36, 4)))
        {
            var a = new byte[40];
            var b = new byte[40];
            clientWrite.Seal(ContentType.Handshake, 1, 0, TestBytes.Pattern(16), a);
            expectedClientWrite.Seal(ContentType.Handshake, 1, 0, TestBytes.Pattern(16), b);
            Assert.Equal(b, a);

            expectedServerWrite.Seal(ContentType.Handshake, 1, 0, TestBytes.Pattern(16), a);
            Assert.True(clientRead.TryOpenInPlace(ContentType.Handshake, 1, 0, a, out _));
        }
    }

    [Fact]
    public void CreatePair_rejects_a_short_key_block() =>
        Assert.Throws<ArgumentException>(() =>
            AeadRecordCipher.CreatePair(CipherSuiteInfo.Aes256GcmSha384, new byte[71], isServer: true, out _, out _));

    [Fact]
    public void Constructor_rejects_wrong_key_and_iv_lengths()
    {
        Assert.Throws<ArgumentException>(() => new AeadRecordCipher(CipherSuiteInfo.Aes128GcmSha256, new byte[32], new byte[4]));
        Assert.Throws<ArgumentException>(() => new AeadRecordCipher(CipherSuiteInfo.Aes256GcmSha384, new byte[16], new byte[4]));
        Assert.Throws<ArgumentException>(() => new AeadRecordCipher(CipherSuiteInfo.Aes128GcmSha256, new byte[16], new byte[8]));
    }

    [Fact]
    public void Seal_into_a_short_destination_throws()
    {
        using var cipher = NewCipher(CipherSuiteInfo.Aes128GcmSha256);
        Assert.Throws<ArgumentException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, new byte[10], new byte[33]));
    }

    [Fact]
    public void Seal_rejects_a_plaintext_overlapping_the_destination_elsewhere_than_in_place()
    {
        using var cipher = NewCipher(CipherSuiteInfo.Aes128GcmSha256);
        var buffer = new byte[100];
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, buffer.AsSpan(0, 10), buffer.AsSpan(0, 34)));
        Assert.Throws<ArgumentException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, buffer.AsSpan(9, 10), buffer.AsSpan(0, 34)));
    }

    [Fact]
    public void Seal_rejects_a_sequence_number_beyond_48_bits()
    {
        using var cipher = NewCipher(CipherSuiteInfo.Aes128GcmSha256);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            cipher.Seal(ContentType.ApplicationData, Epoch, 1UL << 48, new byte[1], new byte[25]));
    }

    [Fact]
    public void Seal_and_successful_open_do_not_allocate()
    {
        using var cipher = NewCipher(CipherSuiteInfo.Aes256GcmSha384);
        var record = new byte[1200 + 24];
        // Warm up JIT tiers, lazy crypto state and the one-time move to libsodium after 64 records (a key import
        // per direction per session, never per record).
        for (int i = 0; i < 100; i++)
        {
            SealAndOpen(cipher, record, (ulong)i);
        }

        long allocated = Allocations.Least(run =>
        {
            for (int i = 0; i < 100; i++)
            {
                SealAndOpen(cipher, record, (ulong)(100 + (run * 100) + i));
            }
        });

        Assert.Equal(0, allocated);

        static void SealAndOpen(AeadRecordCipher cipher, byte[] record, ulong sequence)
        {
            cipher.Seal(ContentType.ApplicationData, 1, sequence, record.AsSpan(8, 1200), record);
            if (!cipher.TryOpenInPlace(ContentType.ApplicationData, 1, sequence, record, out _))
            {
                throw new InvalidOperationException("open failed");
            }
        }
    }

    private static CipherSuiteInfo Suite(string name) =>
        name == "128" ? CipherSuiteInfo.Aes128GcmSha256 : CipherSuiteInfo.Aes256GcmSha384;

    private static byte[] Key(CipherSuiteInfo suite)
    {
        var key = new byte[suite.KeyLength];
        for (int i = 0; i < key.Length; i++)
        {
            key[i] = (byte)i;
        }

        return key;
    }

    private static AeadRecordCipher NewCipher(CipherSuiteInfo suite) => new(suite, Key(suite), s_fixedIv);


    private static byte[] Copy(byte[] bytes) => (byte[])bytes.Clone();

    [Theory]
    [InlineData("128")]
    [InlineData("256")]
    public void A_parked_cipher_is_released_only_after_an_unused_period_and_recreated_on_next_use(string suiteName)
    {
        var suite = Suite(suiteName);
        using var cipher = NewCipher(suite);
        var record = new byte[64 + AeadRecordCipher.Overhead];
        cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(64), record);

        // Used since the last check: kept. Unused for a whole period: released.
        Assert.False(cipher.ParkIfUnused());
        Assert.True(cipher.IsActive);
        Assert.True(cipher.ParkIfUnused());
        Assert.False(cipher.IsActive);
        Assert.False(cipher.ParkIfUnused());

        // The next open recreates it from the kept key and still authenticates the record sealed before.
        Assert.True(cipher.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out var length));
        Assert.Equal(TestBytes.Pattern(64), record.AsSpan(AeadRecordCipher.ExplicitNonceLength, length).ToArray());
        Assert.True(cipher.IsActive);
    }

    [Fact]
    public void A_disposed_cipher_is_not_recreated()
    {
        var cipher = NewCipher(Suite("128"));
        cipher.Dispose();
        var record = new byte[16 + AeadRecordCipher.Overhead];

        Assert.Throws<ObjectDisposedException>(() => cipher.Seal(ContentType.ApplicationData, Epoch, Sequence, TestBytes.Pattern(16), record));
    }

    [Fact]
    public void AES_256_GCM_uses_libsodium_wherever_it_has_hardware_AES()
    {
        Assert.Equal(NSec.Cryptography.Aes256Gcm.IsSupported, RecordDirection.UseLibsodiumForAes256);
    }

    [Theory]
    [InlineData("256", true)]
    [InlineData("128", false)]
    public void A_direction_moves_to_libsodium_after_64_records_and_keeps_producing_the_same_records(string suiteName, bool moves)
    {
        // Keying libsodium costs ≈ 40 µs against ≈ 2 µs for AesGcm: only a direction that has carried 64 records moves.
        var suite = Suite(suiteName);
        using var sealer = NewCipher(suite);
        using var opener = NewCipher(suite);
        var plaintext = TestBytes.Pattern(100);
        for (ulong sequence = 1; sequence <= 70; sequence++)
        {
            var record = new byte[100 + AeadRecordCipher.Overhead];
            sealer.Seal(ContentType.ApplicationData, Epoch, sequence, plaintext, record);
            Assert.True(opener.TryOpenInPlace(ContentType.ApplicationData, Epoch, sequence, record, out var length));
            Assert.Equal(plaintext, record.AsSpan(8, length).ToArray());
            var expectMoved = moves && RecordDirection.UseLibsodiumForAes256 && sequence >= 64;
            Assert.Equal(expectMoved, sealer.UsesLibsodium);
            Assert.Equal(expectMoved, opener.UsesLibsodium);
        }

        // Parked after a quiet period, it starts again on AesGcm.
        Assert.False(sealer.ParkIfUnused());
        Assert.True(sealer.ParkIfUnused());
        var again = new byte[100 + AeadRecordCipher.Overhead];
        sealer.Seal(ContentType.ApplicationData, Epoch, 71, plaintext, again);
        Assert.False(sealer.UsesLibsodium);
        Assert.True(opener.TryOpenInPlace(ContentType.ApplicationData, Epoch, 71, again, out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(64)]
    [InlineData(1200)]
    public void Both_backends_produce_the_same_record_as_System_AesGcm(int size)
    {
        // Whatever backend the cipher picked, its records are byte for byte those of System.Security.Cryptography.AesGcm.
        var suite = Suite("256");
        using var cipher = NewCipher(suite);
        var key = new byte[32];
        for (var i = 0; i < key.Length; i++)
        {
            key[i] = (byte)(0x40 + i);
        }
        using var reference = new System.Security.Cryptography.AesGcm(key, AeadRecordCipher.TagLength);
        using var same = new AeadRecordCipher(suite, key, s_fixedIv);
        var plaintext = TestBytes.Pattern(size);
        var record = new byte[size + AeadRecordCipher.Overhead];
        // Past the move to libsodium (where it applies), so both backends are compared.
        for (ulong warm = 0; warm < 64; warm++)
        {
            same.Seal(ContentType.ApplicationData, Epoch, Sequence + 1000 + warm, plaintext, record);
        }
        same.Seal(ContentType.ApplicationData, Epoch, Sequence, plaintext, record);

        var nonce = new byte[12];
        s_fixedIv.CopyTo(nonce, 0);
        record.AsSpan(0, 8).CopyTo(nonce.AsSpan(4));
        var aad = new byte[13];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(aad, ((ulong)Epoch << 48) | Sequence);
        aad[8] = (byte)ContentType.ApplicationData;
        aad[9] = 0xFE;
        aad[10] = 0xFD;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(aad.AsSpan(11), (ushort)size);
        var opened = new byte[size];
        reference.Decrypt(nonce, record.AsSpan(8, size), record.AsSpan(8 + size, 16), opened, aad);

        Assert.Equal(plaintext, opened);
        Assert.True(same.TryOpenInPlace(ContentType.ApplicationData, Epoch, Sequence, record, out var length));
        Assert.Equal(plaintext, record.AsSpan(8, length).ToArray());
    }

    [Fact]
    public void Forged_records_do_not_move_an_aes256_direction_to_libsodium()
    {
        var suite = CipherSuiteInfo.Aes256GcmSha384;
        using var read = NewCipher(suite);
        using var write = NewCipher(suite);
        var forged = new byte[40 + AeadRecordCipher.Overhead];
        for (ulong sequence = 0; sequence < 200; sequence++)
        {
            forged.AsSpan().Fill((byte)sequence);
            Assert.False(read.TryOpenInPlace(ContentType.ApplicationData, Epoch, sequence, forged, out _));
        }
        Assert.False(read.UsesLibsodium);

        // Authentic records still do, at the 64th (where libsodium has AES-256-GCM on this machine).
        var record = new byte[40 + AeadRecordCipher.Overhead];
        for (ulong sequence = 0; sequence < 64; sequence++)
        {
            write.Seal(ContentType.ApplicationData, Epoch, sequence, new byte[40], record);
            Assert.True(read.TryOpenInPlace(ContentType.ApplicationData, Epoch, sequence, record, out _));
        }
        Assert.Equal(RecordDirection.UseLibsodiumForAes256, read.UsesLibsodium);
    }
}
