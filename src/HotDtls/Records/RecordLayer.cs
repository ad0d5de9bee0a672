using System.Runtime.CompilerServices;
using HotDtls.Crypto;

namespace HotDtls.Records;

/// <summary>
/// One association's record state (RFC 6347 §4.1): the read and write epochs, a 48-bit sequence number per
/// write epoch, an anti-replay window per read epoch, and the keys of epoch 1.
/// HotDtls never renegotiates, so only epochs 0 and 1 exist; anything higher is dropped.
/// </summary>
/// <remarks>
/// Both directions' keys live inline here (<see cref="RecordDirection"/>), not in cipher objects with key arrays of
/// their own: an idle session's keys cost their bytes and nothing else (memory per session: docs/design.md). A direction's
/// keys are pending from <see cref="SetPendingKeys"/> until its epoch moves to 1, and current after.
/// </remarks>
internal sealed class RecordLayer : IDisposable
{
    private ReplayWindow _window0;
    private ReplayWindow _window1;
    // Mutable structs: only ever used in place, through these fields.
    private RecordDirection _read;
    private RecordDirection _write;
    private ulong _writeSequence0;
    private ulong _writeSequence1;
    // RFC 9146: the CID the peer asked for, written into every record we protect (null: none), and the length of
    // the one we issued, which every protected record the peer sends must carry (0: none).
    private byte[]? _sendConnectionId;
    private byte _receiveConnectionIdLength;
    // RFC 8449 / RFC 6066 §4: the most plaintext one record we send may carry (0: the protocol's 2^14), and the most
    // a protected record from the peer may carry before it is a record_overflow (0: not negotiated, not enforced).
    private ushort _sendPlaintextLimit;
    private ushort _receivePlaintextLimit;

    /// <summary>The highest epoch whose records can be read: 0 until the peer's ChangeCipherSpec, then 1.</summary>
    public ushort ReadEpoch { get; private set; }

    /// <summary>The epoch new records are written in: 0 until our ChangeCipherSpec, then 1.</summary>
    public ushort WriteEpoch { get; private set; }

    /// <summary>The CID written into every protected record we send (empty: the peer asked for none).</summary>
    public ReadOnlySpan<byte> SendConnectionId => _sendConnectionId;

    /// <summary>The length of the CID every protected record from the peer carries (0: we issued none).</summary>
    public int ReceiveConnectionIdLength => _receiveConnectionIdLength;

    /// <summary>Whether the last record <see cref="TryOpen(in RecordHeader, Span{byte}, out Span{byte})"/> opened in epoch 1 was newer than every earlier one (RFC 9146 §6).</summary>
    public bool LastOpenedWasNewest { get; private set; }

    /// <summary>
    /// Connection IDs negotiated in the hellos (RFC 9146 §3): <paramref name="send"/> goes into every record protected
    /// from now on, and every protected record from the peer must carry a CID of <paramref name="receiveLength"/>
    /// bytes. Empty and 0 mean none in that direction.
    /// </summary>
    public void SetConnectionIds(ReadOnlySpan<byte> send, int receiveLength)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(send.Length, byte.MaxValue);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(receiveLength, byte.MaxValue);
        _sendConnectionId = send.IsEmpty ? null : send.ToArray();
        _receiveConnectionIdLength = (byte)receiveLength;
    }

    /// <summary>
    /// Record size limits negotiated in the hellos (record_size_limit, RFC 8449; max_fragment_length, RFC 6066 §4):
    /// every record written from now on carries at most <paramref name="send"/> bytes of plaintext (0: 2^14), and a
    /// protected record from the peer with more than <paramref name="receive"/> is refused as
    /// <see cref="OpenResult.Overflow"/> (0: only the protocol's 2^14 applies, as a silent drop).
    /// </summary>
    public void SetPlaintextLimits(int send, int receive)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(send, DatagramReader.MaxPlaintextLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(receive, DatagramReader.MaxPlaintextLength);
        _sendPlaintextLimit = (ushort)send;
        _receivePlaintextLimit = (ushort)receive;
    }

    /// <summary>The negotiated limit on the plaintext of records we send (2^14 when none was negotiated).</summary>
    public int SendPlaintextLimit => _sendPlaintextLimit == 0 ? DatagramReader.MaxPlaintextLength : _sendPlaintextLimit;

    /// <summary>Whether the peer limited the plaintext of the records we send below 2^14.</summary>
    public bool PeerLimitsRecordSize => _sendPlaintextLimit != 0 && _sendPlaintextLimit < DatagramReader.MaxPlaintextLength;

    /// <summary>The limit on protected records from the peer that ends the association when exceeded (0: none negotiated).</summary>
    public int ReceivePlaintextLimit => _receivePlaintextLimit;

    /// <summary>
    /// The most payload one record written in <paramref name="epoch"/> may carry under the peer's limit. A tls12_cid
    /// record's DTLSInnerPlaintext also holds the real content type (RFC 9146 §4); RFC 8449 does not say whether that
    /// byte counts, so it does here: the conservative reading, which a peer of either reading accepts. At 2^14 (no limit
    /// below the protocol's) the record is as it always was.
    /// </summary>
    public int MaxPayload(ushort epoch)
        => epoch != 0 && _sendConnectionId is not null && PeerLimitsRecordSize ? _sendPlaintextLimit - 1 : SendPlaintextLimit;

    /// <summary>Whether keys for epoch 1 have been derived but not all activated yet.</summary>
    public bool HasPendingKeys => (ReadEpoch == 0 && _read.HasKey) || (WriteEpoch == 0 && _write.HasKey);

    /// <summary>
    /// Installs epoch 1's keys from the key block (RFC 5246 §6.3); they take effect at <see cref="ActivateRead"/> /
    /// <see cref="ActivateWrite"/>. The key block is only read: the caller zeroes it.
    /// </summary>
    public void SetPendingKeys(CipherSuiteInfo suite, ReadOnlySpan<byte> keyBlock, bool isServer)
    {
        RecordDirection.SplitKeyBlock(suite, keyBlock, isServer, out var read, out var write);
        ThrowIfEpoch1Active();
        _read.SetKey(suite, read);
        _write.SetKey(suite, write);
    }

    /// <summary>
    /// Installs epoch 1's keys taken out of two ciphers (which are left disposed); they take effect at
    /// <see cref="ActivateRead"/> / <see cref="ActivateWrite"/>.
    /// </summary>
    public void SetPendingCiphers(AeadRecordCipher read, AeadRecordCipher write)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(write);
        ThrowIfEpoch1Active();
        read.MoveTo(ref _read);
        write.MoveTo(ref _write);
    }

    private void ThrowIfEpoch1Active()
    {
        // HotDtls never renegotiates: keys are installed once, before either direction enters epoch 1.
        if (ReadEpoch != 0 || (WriteEpoch != 0 && _write.HasKey))
        {
            ThrowKeysActive();
        }
    }

    /// <summary>The peer's ChangeCipherSpec arrived: epoch 1 records are readable from now on.</summary>
    public bool ActivateRead()
    {
        if (!_read.HasKey || ReadEpoch != 0)
        {
            return false;
        }
        ReadEpoch = 1;
        return true;
    }

    /// <summary>We sent ChangeCipherSpec: later records are written in epoch 1.</summary>
    public void ActivateWrite() => WriteEpoch = 1;

    /// <summary>Sets the next sequence number written in epoch 0 (RFC 6347 §4.2.1: the ServerHello copies the ClientHello's).</summary>
    public void SetNextWriteSequence0(ulong sequenceNumber) => _writeSequence0 = sequenceNumber;

    /// <summary>
    /// Checks a record's epoch and replay state and, in epoch 1, decrypts it in place. On success the plaintext
    /// is a slice of <paramref name="body"/> and the replay window has been updated (only now: §4.1.2.6).
    /// </summary>
    public OpenResult TryOpen(in RecordHeader header, Span<byte> body, out Span<byte> plaintext)
        => TryOpen(header, default, body, out plaintext, out _);

    /// <summary>
    /// As above, for a record that may be a tls12_cid record carrying <paramref name="connectionId"/> (which the caller
    /// has matched to this association). <paramref name="type"/> is the record's content type: for a tls12_cid record
    /// the real one, read from the end of the DTLSInnerPlaintext (RFC 9146 §4).
    /// </summary>
    public OpenResult TryOpen(in RecordHeader header, ReadOnlySpan<byte> connectionId, Span<byte> body, out Span<byte> plaintext,
        out ContentType type)
    {
        plaintext = default;
        type = header.Type;
        LastOpenedWasNewest = false;
        var isCidRecord = header.Type == ContentType.Tls12Cid;
        switch (header.Epoch)
        {
            case 0:
                // Plaintext records never carry a CID (RFC 9146 §4: only records protected with the new keys do).
                if (isCidRecord)
                {
                    return OpenResult.Malformed;
                }
                if (body.Length > DatagramReader.MaxPlaintextLength)
                {
                    return OpenResult.TooLong;
                }
                if (!_window0.CanAccept(header.SequenceNumber))
                {
                    return OpenResult.Replayed;
                }
                _window0.Accept(header.SequenceNumber);
                plaintext = body;
                return OpenResult.Opened;
            case 1:
                if (ReadEpoch != 1 || !_read.HasKey)
                {
                    return OpenResult.NoKeys;
                }
                // RFC 9146 §6: "If a non-zero CID is expected for the connection, then the record MUST be discarded"
                // when it comes without one; and one that carries a CID we never issued cannot be ours.
                if (isCidRecord != (_receiveConnectionIdLength != 0) || connectionId.Length != header.ConnectionIdLength)
                {
                    return OpenResult.ConnectionIdMismatch;
                }
                // A record too short for the suite's explicit nonce or IV, tag or MAC (and, for CBC, one block) is
                // malformed, not evidence of a key mismatch: dropped before the cipher is called (HOSTILE 5), so it
                // cannot end a handshake awaiting Finished the way a record failing authentication does.
                var suite = _read.Suite!;
                if (body.Length < suite.MinimumBodyLength)
                {
                    return OpenResult.Malformed;
                }
                if (!_window1.CanAccept(header.SequenceNumber))
                {
                    return OpenResult.Replayed;
                }
                if (!_read.TryOpenInPlace(header.Type, 1, header.SequenceNumber, connectionId, body, out var length))
                {
                    return OpenResult.AuthenticationFailed;
                }
                var opened = body.Slice(suite.RecordIvLength, length);
                if (isCidRecord)
                {
                    // DTLSInnerPlaintext: content || real_type || zeros. The real type is the last non-zero byte;
                    // an inner plaintext of zeros only has none and is dropped.
                    var end = opened.LastIndexOfAnyExcept((byte)0);
                    if (end < 0)
                    {
                        return OpenResult.Malformed;
                    }
                    type = (ContentType)opened[end];
                    opened = opened[..end];
                }
                // RFC 8449 §4: "A TLS endpoint that receives a record larger than its advertised limit MUST generate a
                // fatal "record_overflow" alert" (RFC 6066 §4 likewise). Measured without a tls12_cid record's type
                // byte: a peer that does not count it stays within the limit too.
                if (_receivePlaintextLimit != 0 && opened.Length > _receivePlaintextLimit)
                {
                    return OpenResult.Overflow;
                }
                if (opened.Length > DatagramReader.MaxPlaintextLength)
                {
                    return OpenResult.TooLong;
                }
                LastOpenedWasNewest = _window1.IsNewest(header.SequenceNumber);
                _window1.Accept(header.SequenceNumber);
                plaintext = opened;
                return OpenResult.Opened;
            default:
                return OpenResult.NoKeys;
        }
    }

    /// <summary>Marks an epoch-0 record as seen that was processed outside <see cref="TryOpen(in RecordHeader, Span{byte}, out Span{byte})"/> (the cookie-verified ClientHello).</summary>
    public void AcceptEpoch0(ulong sequenceNumber) => _window0.Accept(sequenceNumber);

    /// <summary>The suite whose write keys are installed (pending or current), or null before the key exchange.</summary>
    public CipherSuiteInfo? WriteSuite => _write.Suite;

    /// <summary>Bytes a record of <paramref name="payloadLength"/> we write in <paramref name="epoch"/> takes on the wire.</summary>
    public int RecordSize(ushort epoch, int payloadLength)
        => epoch == 0 || _sendConnectionId is null
            ? RecordSize(_write.Suite, epoch, payloadLength)
            // tls12_cid: the CID in the header, the real type after the payload (RFC 9146 §4).
            : RecordHeader.Size + _sendConnectionId.Length + RequireSuite(_write.Suite).SealedLength(payloadLength + 1);

    /// <summary>Bytes a record of <paramref name="payloadLength"/> takes on the wire in <paramref name="epoch"/> under <paramref name="suite"/>.</summary>
    public static int RecordSize(CipherSuiteInfo? suite, ushort epoch, int payloadLength)
        => RecordHeader.Size + (epoch == 0 ? payloadLength : RequireSuite(suite).SealedLength(payloadLength));

    /// <summary>
    /// Writes one record (header, then the payload in clear or sealed) at the start of <paramref name="destination"/>.
    /// The payload may already sit at <see cref="PayloadOffset(ushort)"/> of the destination (in-place seal).
    /// Returns the bytes written, or -1 when the epoch's sequence numbers are exhausted.
    /// </summary>
    public int Write(ContentType type, ushort epoch, ReadOnlySpan<byte> payload, Span<byte> destination)
    {
        ulong sequence;
        if (epoch == 0)
        {
            sequence = _writeSequence0++;
        }
        else
        {
            sequence = _writeSequence1++;
        }
        // RFC 6347 §4.1: a sequence number MUST NOT wrap within an epoch; past 2^48-1 the association must end.
        if (sequence > RecordHeader.MaxSequenceNumber)
        {
            return -1;
        }
        int bodyLength;
        if (epoch == 0)
        {
            payload.CopyTo(destination[RecordHeader.Size..]);
            bodyLength = payload.Length;
        }
        else
        {
            if (WriteEpoch != 1 || !_write.HasKey)
            {
                ThrowNoWriteCipher();
            }
            if (_sendConnectionId is { } cid)
            {
                return WriteWithConnectionId(cid, type, sequence, payload, destination);
            }
            bodyLength = _write.Seal(type, epoch, sequence, payload, destination[RecordHeader.Size..]);
        }
        new RecordHeader(type, ProtocolVersion.Dtls12, epoch, sequence, (ushort)bodyLength).Write(destination);
        return RecordHeader.Size + bodyLength;
    }

    /// <summary>
    /// An epoch-1 record to a peer that asked for a CID (RFC 9146 §4): tls12_cid outside, the CID in the header, and
    /// DTLSInnerPlaintext = payload || real type (no padding) sealed in place.
    /// </summary>
    private int WriteWithConnectionId(byte[] connectionId, ContentType type, ulong sequence, ReadOnlySpan<byte> payload,
        Span<byte> destination)
    {
        var headerSize = RecordHeader.Size + connectionId.Length;
        var innerStart = headerSize + _write.Suite!.RecordIvLength;
        var inner = destination.Slice(innerStart, payload.Length + 1);
        if (!payload.Overlaps(inner, out var offset) || offset != 0)
        {
            payload.CopyTo(inner);
        }
        inner[payload.Length] = (byte)type;
        var bodyLength = _write.Seal(ContentType.Tls12Cid, 1, sequence, connectionId, inner, destination[headerSize..]);
        new RecordHeader(ContentType.Tls12Cid, ProtocolVersion.Dtls12, 1, sequence, (ushort)bodyLength, (byte)connectionId.Length)
            .Write(destination, connectionId);
        return headerSize + bodyLength;
    }

    /// <summary>Where a payload goes in a record buffer for <see cref="Write"/> to seal it in place.</summary>
    public int PayloadOffset(ushort epoch)
        => PayloadOffset(_write.Suite, epoch) + (epoch == 0 || _sendConnectionId is null ? 0 : _sendConnectionId.Length);

    /// <summary>Where a payload goes in a record buffer under <paramref name="suite"/> (after the explicit nonce or IV).</summary>
    public static int PayloadOffset(CipherSuiteInfo? suite, ushort epoch)
        => RecordHeader.Size + (epoch == 0 ? 0 : RequireSuite(suite).RecordIvLength);

    private static CipherSuiteInfo RequireSuite(CipherSuiteInfo? suite)
    {
        if (suite is null)
        {
            ThrowNoWriteCipher();
        }
        return suite;
    }

    /// <summary>Releases the current epoch's cipher objects that were not used since the previous call (idle sessions).</summary>
    /// <returns>How many were released (0, 1 or 2).</returns>
    public int ParkIdleCiphers()
    {
        var parked = 0;
        parked += ReadEpoch == 1 && _read.ParkIfUnused() ? 1 : 0;
        parked += WriteEpoch == 1 && _write.ParkIfUnused() ? 1 : 0;
        return parked;
    }

    /// <summary>Whether the current epoch's read / write cipher object exists (false while parked; for tests).</summary>
    internal (bool Read, bool Write) CiphersActive => (_read.IsActive, _write.IsActive);

    /// <summary>Whether the read / write direction has moved to libsodium (for tests).</summary>
    internal (bool Read, bool Write) UsesLibsodium => (_read.UsesLibsodium, _write.UsesLibsodium);

    /// <summary>Releases the native cipher objects and zeroes both directions' keys.</summary>
    public void Dispose()
    {
        _read.Dispose();
        _write.Dispose();
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowNoWriteCipher()
        => throw new InvalidOperationException("No epoch 1 write keys: the handshake has not derived them yet.");

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowKeysActive()
        => throw new InvalidOperationException("Epoch 1 is already active: HotDtls never renegotiates.");
}

/// <summary>What <see cref="RecordLayer.TryOpen(in RecordHeader, Span{byte}, out Span{byte})"/> found.</summary>
internal enum OpenResult : byte
{
    Opened,
    Replayed,
    NoKeys,
    AuthenticationFailed,
    TooLong,
    /// <summary>A protected record too short to hold nonce_explicit and the tag, or a tls12_cid record without a real type.</summary>
    Malformed,

    /// <summary>A protected record without the CID we issued, or a tls12_cid record where we issued none (RFC 9146 §6).</summary>
    ConnectionIdMismatch,

    /// <summary>An authentic record with more plaintext than the limit we announced (RFC 8449 §4, RFC 6066 §4): record_overflow.</summary>
    Overflow,
}
