using System.Buffers.Binary;
using HotDtls.Crypto;
using HotDtls.Records;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// Record protection of every suite in the provider table (<see cref="CipherSuiteInfo.All"/>): AES-GCM, AES-CCM and
/// CCM_8, ChaCha20-Poly1305, AES-CBC + HMAC-SHA256 in encrypt-then-MAC form. The input picks a suite, the record's
/// type, epoch and sequence number, and gives a record body; everything is keyed from one fixed key block.
/// </summary>
/// <remarks>
/// <code>
///   +------------+---------------------------------------+-------------------------+
///   | choice (1) | seq_num (8) = epoch (2) || seq (6)    | body (the rest)         |
///   +------------+---------------------------------------+-------------------------+
///   choice % 14   the suite, CipherSuiteInfo.All[choice % 14]
///   choice / 14   q: content type {application_data, handshake, alert, change_cipher_spec}[q &amp; 3];
///                 q ≥ 16 (choice ≥ 224) first runs 64 records through every direction of an AES-256-GCM or
///                 ChaCha20-Poly1305 suite, so the records after it take the libsodium path those directions move to
///   seq_num       as in the record header and in additional_data (RFC 6347 §4.1.2.1); its last byte b also picks
///                 the Connection ID the records are sealed with a second time (RFC 9146): b % 17 &lt; 16 gives
///                 1 + b % 17 bytes, 16 the longest a record can carry (255); the CID's bytes are a fixed pattern
/// </code>
/// Oracles:
/// <list type="number">
/// <item>(a) The body opened by a fixed-key direction (the server's read keys): no exception; a reported plaintext
/// lies inside the body, after the record IV — for AEAD suites exactly body − record IV − tag bytes, for CBC a whole
/// number of blocks less at least the padding_length byte.</item>
/// <item>(b) Differential round trip: the body sealed as plaintext by the client's write direction opens, with the
/// server's read direction and with the fixed-key direction that has just seen the input, to exactly the body; sealed
/// in place by the server's write direction, it opens with the client's read direction. The sealed length is
/// <see cref="CipherSuiteInfo.SealedLength"/>. This holds in the fuzzing build too, where Seal writes clear text and
/// an open that fails authentication takes the body as clear text.</item>
/// <item>(c) Normal builds only (the test suite's replay of the corpus): a sealed record with one bit flipped — in its
/// record IV or nonce, its first ciphertext byte, its last byte (tag or MAC), and a byte the input picks — is refused,
/// and so is the record opened with the sender's own read keys; the ciphertext of 16 or more bytes is not the
/// plaintext. In the fuzzing build a record that fails authentication is accepted as clear text by design, so a flipped
/// record opens to the flipped bytes and (c) would only test that switch: it is skipped there.</item>
/// <item>(d) The same with the input's CID, as a tls12_cid record (RFC 9146 §5: the CID is authenticated in the RFC 9146
/// additional_data): the fixed-key direction opening the body with the CID obeys (a); the body sealed with the CID by
/// the client's write direction (and in place by the server's) opens with the other side's read direction and the same
/// CID to exactly the body, at <see cref="CipherSuiteInfo.SealedLength"/>. Normal builds only, like (c): it does not
/// open under the CID with one bit flipped, one byte shorter or longer, without a CID (as a record of the input's type
/// or as tls12_cid), and the record sealed without a CID does not open under the CID.</item>
/// </list>
/// The directions are made afresh for every input, so one input's records never change the next one's state.
/// </remarks>
internal static class ProtectionTarget
{
    public const int HeaderLength = 1 + 8;

    /// <summary>Records run through each direction before the input when the input asks for a warm-up.</summary>
    public const int WarmUpRecords = 64;

    private const int WarmUpChoice = 16;

    private static readonly ContentType[] Types =
        [ContentType.ApplicationData, ContentType.Handshake, ContentType.Alert, ContentType.ChangeCipherSpec];

    /// <summary>
    /// The fixed key block, long enough for any suite (MAC keys, write keys, IVs: at most 2 × 48 bytes). Its bytes
    /// never repeat within a suite's block, so client and server keys differ as they do after a real key schedule.
    /// </summary>
    private static readonly byte[] KeyBlock = MakeKeyBlock();

    /// <summary>Whether the last input's body opened with the fixed-key direction (in a normal build: authenticated).</summary>
    public static bool LastOpened { get; private set; }

    /// <summary>Whether the last input's body opened with the fixed-key direction under the input's CID, as a tls12_cid record.</summary>
    public static bool LastOpenedWithConnectionId { get; private set; }

    /// <summary>The longest CID a tls12_cid record can carry (its length is a uint8 in additional_data).</summary>
    public const int MaxConnectionIdLength = byte.MaxValue;

    /// <summary>Input CID lengths 1 to this come from the sequence number's last byte; the next value means the longest.</summary>
    private const int ShortConnectionIdLengths = 16;

    public static void Run(ReadOnlySpan<byte> input)
    {
        LastOpened = false;
        LastOpenedWithConnectionId = false;
        if (input.Length < HeaderLength)
        {
            return;
        }
        var suites = CipherSuiteInfo.All;
        var suite = suites[input[0] % suites.Count];
        var q = input[0] / suites.Count;
        var type = Types[q & 3];
        var seqNum = BinaryPrimitives.ReadUInt64BigEndian(input[1..]);
        var epoch = (ushort)(seqNum >> 48);
        var sequence = seqNum & RecordDirection.MaxSequenceNumber;
        var body = input[HeaderLength..];
        Span<byte> connectionId = stackalloc byte[MaxConnectionIdLength];
        connectionId = connectionId[..ConnectionIdOf(input[HeaderLength - 1], connectionId)];

        var keyBlock = KeyBlock.AsSpan(0, suite.KeyBlockLength);
        RecordDirection.SplitKeyBlock(suite, keyBlock, isServer: true, out var serverReadKeys, out _);
        using var fixedKey = new AeadRecordCipher(suite, serverReadKeys.Key, serverReadKeys.FixedIv, serverReadKeys.MacKey);
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: false, out var clientRead, out var clientWrite);
        AeadRecordCipher.CreatePair(suite, keyBlock, isServer: true, out var serverRead, out var serverWrite);
        try
        {
            if (q >= WarmUpChoice && CanMoveToLibsodium(suite))
            {
                WarmUp(suite, (ushort)(epoch + 1), fixedKey, clientRead, clientWrite, serverRead, serverWrite);
            }
            LastOpened = OpenFixed(suite, type, epoch, sequence, default, body, fixedKey);
            LastOpenedWithConnectionId = OpenFixed(suite, ContentType.Tls12Cid, epoch, sequence, connectionId, body, fixedKey);
            RoundTrip(suite, type, epoch, sequence, body, fixedKey, clientRead, clientWrite, serverRead, serverWrite);
            RoundTripWithConnectionId(suite, type, epoch, sequence, connectionId, body, fixedKey, clientRead, clientWrite, serverRead,
                serverWrite);
        }
        finally
        {
            clientRead.Dispose();
            clientWrite.Dispose();
            serverRead.Dispose();
            serverWrite.Dispose();
        }
    }

    /// <summary>(a): whatever the body, the fixed-key direction answers without throwing, and any plaintext is inside it.</summary>
    private static bool OpenFixed(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence, ReadOnlySpan<byte> connectionId,
        ReadOnlySpan<byte> body, AeadRecordCipher fixedKey)
    {
        var fragment = body.ToArray();
        if (!fixedKey.TryOpenInPlace(type, epoch, sequence, connectionId, fragment, out var length))
        {
            return false;
        }
        if (length < 0 || suite.RecordIvLength + length > body.Length || body.Length < suite.MinimumBodyLength)
        {
            throw new FuzzOracleException(
                $"{suite}: a body of {body.Length} bytes opened to {length} bytes of plaintext, outside the body");
        }
        var between = body.Length - suite.RecordIvLength - suite.TagLength;
        if (suite.IsAead ? length != between : between % 16 != 0 || length > between - 1)
        {
            throw new FuzzOracleException(
                $"{suite}: a body of {body.Length} bytes opened to {length} bytes, not what its record IV, tag and padding leave");
        }
        return true;
    }

    /// <summary>(b) and, in normal builds, (c).</summary>
    private static void RoundTrip(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence, ReadOnlySpan<byte> body,
        AeadRecordCipher fixedKey, AeadRecordCipher clientRead, AeadRecordCipher clientWrite, AeadRecordCipher serverRead,
        AeadRecordCipher serverWrite)
    {
        var plaintext = body.Length > MaxPlaintextLength(suite) ? body[..MaxPlaintextLength(suite)] : body;
        var sealedLength = suite.SealedLength(plaintext.Length);

        // Client to server, from a separate plaintext buffer.
        var record = new byte[sealedLength];
        var written = clientWrite.Seal(type, epoch, sequence, plaintext, record);
        if (written != sealedLength)
        {
            throw new FuzzOracleException($"{suite}: sealing {plaintext.Length} bytes wrote {written}, the suite says {sealedLength}");
        }
        if (!FuzzingBuild.Enabled)
        {
            RequireTamperedRefused(suite, type, epoch, sequence, plaintext, record, serverRead, clientRead);
        }
        RequireOpensTo(suite, type, epoch, sequence, record, plaintext, serverRead, "the server's read direction");
        RequireOpensTo(suite, type, epoch, sequence, record, plaintext, fixedKey, "the fixed-key direction after the input");

        // Server to client, sealed in place: the plaintext already sits where the ciphertext goes.
        var inPlace = new byte[sealedLength];
        plaintext.CopyTo(inPlace.AsSpan(suite.RecordIvLength));
        written = serverWrite.Seal(type, epoch, sequence, inPlace.AsSpan(suite.RecordIvLength, plaintext.Length), inPlace);
        if (written != sealedLength)
        {
            throw new FuzzOracleException($"{suite}: sealing {plaintext.Length} bytes in place wrote {written}, the suite says {sealedLength}");
        }
        RequireOpensTo(suite, type, epoch, sequence, inPlace, plaintext, clientRead, "the client's read direction");
    }

    /// <summary>
    /// (d): the body sealed as a tls12_cid record carrying <paramref name="connectionId"/>, both ways, and in normal builds
    /// refused under any other CID or none. <paramref name="type"/> is the input's: the real type a record without a CID has.
    /// </summary>
    private static void RoundTripWithConnectionId(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence,
        ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> body, AeadRecordCipher fixedKey, AeadRecordCipher clientRead,
        AeadRecordCipher clientWrite, AeadRecordCipher serverRead, AeadRecordCipher serverWrite)
    {
        const ContentType Cid = ContentType.Tls12Cid;
        var plaintext = body.Length > MaxPlaintextLength(suite) ? body[..MaxPlaintextLength(suite)] : body;
        var sealedLength = suite.SealedLength(plaintext.Length);

        var record = new byte[sealedLength];
        var written = clientWrite.Seal(Cid, epoch, sequence, connectionId, plaintext, record);
        if (written != sealedLength)
        {
            throw new FuzzOracleException($"{suite}: sealing {plaintext.Length} bytes with a {connectionId.Length}-byte CID wrote {written}, the suite says {sealedLength}");
        }
        if (!FuzzingBuild.Enabled)
        {
            RequireOtherConnectionIdsRefused(suite, type, epoch, sequence, connectionId, plaintext, record, clientWrite, serverRead);
        }
        RequireOpensTo(suite, Cid, epoch, sequence, connectionId, record, plaintext, serverRead, "the server's read direction (CID)");
        RequireOpensTo(suite, Cid, epoch, sequence, connectionId, record, plaintext, fixedKey, "the fixed-key direction after the input (CID)");

        var inPlace = new byte[sealedLength];
        plaintext.CopyTo(inPlace.AsSpan(suite.RecordIvLength));
        written = serverWrite.Seal(Cid, epoch, sequence, connectionId, inPlace.AsSpan(suite.RecordIvLength, plaintext.Length), inPlace);
        if (written != sealedLength)
        {
            throw new FuzzOracleException($"{suite}: sealing {plaintext.Length} bytes in place with a CID wrote {written}, the suite says {sealedLength}");
        }
        RequireOpensTo(suite, Cid, epoch, sequence, connectionId, inPlace, plaintext, clientRead, "the client's read direction (CID)");
    }

    /// <summary>(d), normal builds only: the CID is authenticated — no other CID, and no CID at all, opens the record.</summary>
    private static void RequireOtherConnectionIdsRefused(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence,
        ReadOnlySpan<byte> connectionId, ReadOnlySpan<byte> plaintext, byte[] record, AeadRecordCipher clientWrite,
        AeadRecordCipher serverRead)
    {
        const ContentType Cid = ContentType.Tls12Cid;
        Span<byte> other = stackalloc byte[MaxConnectionIdLength + 1];
        // One bit of one byte, both picked by the input.
        var picked = plaintext.IsEmpty ? 0 : plaintext[0];
        connectionId.CopyTo(other);
        other[picked % connectionId.Length] ^= (byte)(1 << (int)(sequence & 7));
        RequireRefused(suite, Cid, epoch, sequence, other[..connectionId.Length], record, serverRead, "a CID with one bit flipped");
        // One byte shorter (a prefix of the CID) and one byte longer (the CID and a byte more), where the length allows.
        if (connectionId.Length > 1)
        {
            RequireRefused(suite, Cid, epoch, sequence, connectionId[..^1], record, serverRead, "a CID one byte shorter");
        }
        if (connectionId.Length < MaxConnectionIdLength)
        {
            connectionId.CopyTo(other);
            other[connectionId.Length] = (byte)picked;
            RequireRefused(suite, Cid, epoch, sequence, other[..(connectionId.Length + 1)], record, serverRead, "a CID one byte longer");
        }
        RequireRefused(suite, type, epoch, sequence, default, record, serverRead, $"no CID, as {type}");
        RequireRefused(suite, Cid, epoch, sequence, default, record, serverRead, "no CID, as tls12_cid");
        // The other way: a record sealed without a CID does not open as one carrying it.
        var plain = new byte[record.Length];
        clientWrite.Seal(type, epoch, sequence, plaintext, plain);
        RequireRefused(suite, Cid, epoch, sequence, connectionId, plain, serverRead, "a record sealed without a CID, opened with one");
    }

    private static void RequireRefused(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence, ReadOnlySpan<byte> connectionId,
        byte[] record, AeadRecordCipher reader, string what)
    {
        var copy = (byte[])record.Clone();
        if (reader.TryOpenInPlace(type, epoch, sequence, connectionId, copy, out _))
        {
            throw new FuzzOracleException($"{suite}: {what} opened a record (CID of {connectionId.Length} bytes, epoch {epoch}, sequence {sequence})");
        }
    }

    /// <summary>
    /// Writes the input's CID into <paramref name="destination"/> and returns its length: 1 + <paramref name="pick"/> % 17
    /// bytes, or the longest (255) when that would be 17. Its bytes are a pattern (0xC1, 0xC8, …) no key byte shares.
    /// </summary>
    public static int ConnectionIdOf(byte pick, Span<byte> destination)
    {
        var length = pick % (ShortConnectionIdLengths + 1) is var n && n < ShortConnectionIdLengths ? n + 1 : MaxConnectionIdLength;
        for (var i = 0; i < length; i++)
        {
            destination[i] = (byte)(0xC1 + (7 * i));
        }
        return length;
    }

    /// <summary>Opens a copy of <paramref name="record"/> and requires exactly <paramref name="plaintext"/>.</summary>
    private static void RequireOpensTo(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence, byte[] record,
        ReadOnlySpan<byte> plaintext, AeadRecordCipher reader, string who)
        => RequireOpensTo(suite, type, epoch, sequence, default, record, plaintext, reader, who);

    /// <summary>Opens a copy of <paramref name="record"/> under <paramref name="connectionId"/> and requires exactly <paramref name="plaintext"/>.</summary>
    private static void RequireOpensTo(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence, ReadOnlySpan<byte> connectionId,
        byte[] record, ReadOnlySpan<byte> plaintext, AeadRecordCipher reader, string who)
    {
        var copy = (byte[])record.Clone();
        if (!reader.TryOpenInPlace(type, epoch, sequence, connectionId, copy, out var length))
        {
            throw new FuzzOracleException($"{suite}: {who} refused a record sealed for it ({plaintext.Length} bytes, epoch {epoch}, sequence {sequence}, {type}, CID of {connectionId.Length} bytes)");
        }
        if (length != plaintext.Length || !copy.AsSpan(suite.RecordIvLength, length).SequenceEqual(plaintext))
        {
            throw new FuzzOracleException($"{suite}: {who} opened a sealed record of {plaintext.Length} bytes to {length} other bytes");
        }
    }

    /// <summary>(c), normal builds only: tampered records, and records read with the wrong direction's keys, are refused.</summary>
    private static void RequireTamperedRefused(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence,
        ReadOnlySpan<byte> plaintext, byte[] record, AeadRecordCipher serverRead, AeadRecordCipher clientRead)
    {
        if (plaintext.Length >= 16 && record.AsSpan(suite.RecordIvLength, plaintext.Length).SequenceEqual(plaintext))
        {
            throw new FuzzOracleException($"{suite}: a sealed record carries its plaintext in clear");
        }
        // Four places: the first byte (record IV or nonce; ChaCha20's first ciphertext byte), the first byte after the
        // record IV, the last byte (tag or MAC), and one the input picks. The bit within the byte comes from the input.
        var picked = plaintext.IsEmpty ? 0 : plaintext[^1];
        Span<int> positions = [0, Math.Min(suite.RecordIvLength, record.Length - 1), record.Length - 1, (int)((sequence + (ulong)picked) % (ulong)record.Length)];
        var bit = 1 << (int)(sequence & 7);
        foreach (var position in positions)
        {
            var flipped = (byte[])record.Clone();
            flipped[position] ^= (byte)bit;
            if (serverRead.TryOpenInPlace(type, epoch, sequence, flipped, out var length))
            {
                var same = length == plaintext.Length && flipped.AsSpan(suite.RecordIvLength, length).SequenceEqual(plaintext);
                throw new FuzzOracleException(
                    $"{suite}: a record with bit {bit:X2} of byte {position} flipped opened ({(same ? "to the same" : "to a different")} plaintext)");
            }
        }
        // The header the record was sealed under is authenticated too: another sequence number or type is refused.
        var otherSequence = (byte[])record.Clone();
        if (serverRead.TryOpenInPlace(type, epoch, sequence ^ 1, otherSequence, out _))
        {
            throw new FuzzOracleException($"{suite}: a record opened under another sequence number");
        }
        var otherType = (byte[])record.Clone();
        if (serverRead.TryOpenInPlace(type == ContentType.ApplicationData ? ContentType.Handshake : ContentType.ApplicationData,
                epoch, sequence, otherType, out _))
        {
            throw new FuzzOracleException($"{suite}: a record opened as another content type");
        }
        // The client's read keys are the server's write keys: a record the client sealed must not open with them.
        var ownKeys = (byte[])record.Clone();
        if (clientRead.TryOpenInPlace(type, epoch, sequence, ownKeys, out _))
        {
            throw new FuzzOracleException($"{suite}: a record opened with its sender's own read keys (key block split wrong)");
        }
    }

    /// <summary>
    /// Runs <see cref="WarmUpRecords"/> small records through every direction, each one required to round-trip, so the
    /// directions that move to libsodium after that many records (AES-256-GCM, ChaCha20-Poly1305) have moved.
    /// </summary>
    private static void WarmUp(CipherSuiteInfo suite, ushort epoch, AeadRecordCipher fixedKey, AeadRecordCipher clientRead,
        AeadRecordCipher clientWrite, AeadRecordCipher serverRead, AeadRecordCipher serverWrite)
    {
        Span<byte> plaintext = stackalloc byte[8];
        var record = new byte[suite.SealedLength(plaintext.Length)];
        for (var i = 0; i < WarmUpRecords; i++)
        {
            plaintext.Fill((byte)i);
            clientWrite.Seal(ContentType.ApplicationData, epoch, (ulong)i, plaintext, record);
            RequireOpensTo(suite, ContentType.ApplicationData, epoch, (ulong)i, record, plaintext, serverRead, "the server's read direction (warm-up)");
            RequireOpensTo(suite, ContentType.ApplicationData, epoch, (ulong)i, record, plaintext, fixedKey, "the fixed-key direction (warm-up)");
            serverWrite.Seal(ContentType.ApplicationData, epoch, (ulong)i, plaintext, record);
            RequireOpensTo(suite, ContentType.ApplicationData, epoch, (ulong)i, record, plaintext, clientRead, "the client's read direction (warm-up)");
        }
    }

    /// <summary>
    /// Whether a warm-up can change anything: AES-256-GCM directions move to libsodium where it has AES-256-GCM (in the
    /// fuzzing build only the reading ones, since Seal there never touches the cipher); ChaCha20-Poly1305 directions
    /// move after authentic records only, which the fuzzing build never has.
    /// </summary>
    private static bool CanMoveToLibsodium(CipherSuiteInfo suite) => suite.Protection switch
    {
        RecordProtection.AesGcm => suite.KeyLength == 32 && RecordDirection.UseLibsodiumForAes256,
        RecordProtection.ChaCha20Poly1305 => ChaCha20Poly1305RecordCipher.LibsodiumAvailable && !FuzzingBuild.Enabled,
        _ => false,
    };

    private static int MaxPlaintextLength(CipherSuiteInfo suite)
        => suite.IsAead ? ushort.MaxValue : AesCbcHmacSha256RecordCipher.MaxPlaintextLength;

    /// <summary>The choice byte for <paramref name="suite"/>, <paramref name="type"/> and an optional warm-up.</summary>
    public static byte Choice(CipherSuiteInfo suite, ContentType type, bool warmUp = false)
    {
        var index = -1;
        for (var i = 0; i < CipherSuiteInfo.All.Count; i++)
        {
            if (CipherSuiteInfo.All[i] == suite)
            {
                index = i;
            }
        }
        var q = Array.IndexOf(Types, type) + (warmUp ? WarmUpChoice : 0);
        var choice = (q * CipherSuiteInfo.All.Count) + index;
        if (index < 0 || q < 0 || choice > byte.MaxValue)
        {
            throw new ArgumentException($"no choice byte for {suite}, {type}, warm-up {warmUp}");
        }
        return (byte)choice;
    }

    /// <summary>
    /// An input of this target: <paramref name="plaintext"/> sealed by the client's write direction, which the fixed-key
    /// direction reads (used to write seeds). CBC IVs come from <paramref name="cbcIvs"/>, so the bytes repeat.
    /// </summary>
    /// <remarks>
    /// With <paramref name="withConnectionId"/> the record is sealed as a tls12_cid record carrying the CID the input's
    /// sequence number picks (<see cref="ConnectionIdOf"/>): it then opens only under that CID.
    /// </remarks>
    public static byte[] SealedInput(CipherSuiteInfo suite, ContentType type, ushort epoch, ulong sequence, ReadOnlySpan<byte> plaintext,
        IRandomSource cbcIvs, bool warmUp = false, bool withConnectionId = false)
    {
        var keyBlock = KeyBlock.AsSpan(0, suite.KeyBlockLength);
        RecordDirection.SplitKeyBlock(suite, keyBlock, isServer: false, out _, out var clientWriteKeys);
        var input = new byte[HeaderLength + suite.SealedLength(plaintext.Length)];
        input[0] = Choice(suite, type, warmUp);
        BinaryPrimitives.WriteUInt64BigEndian(input.AsSpan(1), ((ulong)epoch << 48) | sequence);
        var body = input.AsSpan(HeaderLength);
        Span<byte> connectionId = stackalloc byte[MaxConnectionIdLength];
        connectionId = withConnectionId ? connectionId[..ConnectionIdOf(input[HeaderLength - 1], connectionId)] : default;
        var sealedType = withConnectionId ? ContentType.Tls12Cid : type;
        if (suite.IsAead)
        {
            using var write = new AeadRecordCipher(suite, clientWriteKeys.Key, clientWriteKeys.FixedIv, clientWriteKeys.MacKey);
            write.Seal(sealedType, epoch, sequence, connectionId, plaintext, body);
        }
        else
        {
            using var write = new AesCbcHmacSha256RecordCipher(clientWriteKeys.Key, clientWriteKeys.MacKey, cbcIvs);
            write.Seal(sealedType, epoch, sequence, connectionId, plaintext, body);
        }
        return input;
    }

    private static byte[] MakeKeyBlock()
    {
        var block = new byte[2 * CipherSuiteInfo.MaxDirectionMaterialLength];
        for (var i = 0; i < block.Length; i++)
        {
            // 29 is odd, so i → 29·i + 7 (mod 256) never repeats within 256 bytes.
            block[i] = (byte)((29 * i) + 7);
        }
        return block;
    }
}
