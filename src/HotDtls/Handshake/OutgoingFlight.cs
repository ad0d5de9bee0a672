using System.Net;
using HotDtls.Records;
using HotDtls.Transport;

namespace HotDtls.Handshake;

/// <summary>
/// The last flight we sent (RFC 6347 §4.2.4), kept as messages rather than datagrams: every retransmission
/// is packed and protected again so each record gets a fresh sequence number, and so a fresh AEAD nonce
/// (RFC 5288 §3: a nonce never repeats under one key).
/// </summary>
/// <remarks>
/// Packing: records are appended to a datagram until the next would not fit in the MTU; a handshake message
/// that does not fit in what is left is fragmented (§4.2.3), each fragment in its own record, and no record carries more
/// plaintext than the peer's negotiated limit (<see cref="RecordLayer.MaxPayload"/>).
/// </remarks>
internal sealed class OutgoingFlight
{
    private const int MaxEntries = 6;
    // A fragment smaller than this is not worth its 25 bytes of headers: start a new datagram instead.
    private const int MinUsefulFragment = 32;

    private readonly Entry[] _entries = new Entry[MaxEntries];
    private byte[] _bodies = new byte[512];
    private int _count;
    private int _bodyLength;

    public int Count => _count;

    public void Clear()
    {
        _count = 0;
        _bodyLength = 0;
    }

    /// <summary>Zeroes the encoded messages and empties the flight, keeping its buffer (a reused handshake context).</summary>
    public void Wipe()
    {
        _bodies.AsSpan(0, _bodyLength).Clear();
        Array.Clear(_entries);
        Clear();
    }

    /// <summary>
    /// Sends a final flight of ChangeCipherSpec (epoch 0) and an unfragmented Finished (epoch 1) in one datagram,
    /// built from the verify_data alone: what an established server keeps instead of a flight object, to answer a
    /// repeated flight 5 (RFC 6347 §4.2.4). The same records <see cref="Send"/> packs for such a flight; 75 bytes
    /// fit any allowed MTU. Returns false if the record layer ran out of sequence numbers.
    /// </summary>
    public static bool SendFinished(RecordLayer records, byte[] scratch, IDatagramSender sender, SocketAddress peer,
        ushort messageSeq, ReadOnlySpan<byte> verifyData)
    {
        var datagram = scratch.AsSpan();
        Span<byte> ccs = stackalloc byte[ChangeCipherSpec.Size];
        ChangeCipherSpec.Write(ccs);
        var used = records.Write(ContentType.ChangeCipherSpec, 0, ccs, datagram);
        if (used < 0)
        {
            return false;
        }
        var payload = datagram.Slice(used + records.PayloadOffset(1), HandshakeHeader.Size + verifyData.Length);
        new HandshakeHeader(HandshakeType.Finished, verifyData.Length, messageSeq, 0, verifyData.Length).Write(payload);
        verifyData.CopyTo(payload[HandshakeHeader.Size..]);
        var written = records.Write(ContentType.Handshake, 1, payload, datagram[used..]);
        if (written < 0)
        {
            return false;
        }
        sender.Send(datagram[..(used + written)], peer);
        return true;
    }

    public void AddHandshake(HandshakeType type, ushort messageSeq, ushort epoch, ReadOnlySpan<byte> body)
    {
        var offset = Append(body);
        _entries[_count++] = new Entry(ContentType.Handshake, epoch, type, messageSeq, offset, body.Length);
    }

    public void AddChangeCipherSpec()
    {
        Span<byte> ccs = stackalloc byte[ChangeCipherSpec.Size];
        ChangeCipherSpec.Write(ccs);
        var offset = Append(ccs);
        _entries[_count++] = new Entry(ContentType.ChangeCipherSpec, 0, default, 0, offset, ccs.Length);
    }

    /// <summary>Packs, protects and sends the whole flight. Returns false if the record layer ran out of sequence numbers.</summary>
    public bool Send(RecordLayer records, int mtu, byte[] scratch, IDatagramSender sender, SocketAddress peer)
    {
        var datagram = scratch.AsSpan(0, Math.Min(mtu, scratch.Length));
        var used = 0;
        for (var i = 0; i < _count; i++)
        {
            ref readonly var entry = ref _entries[i];
            var body = _bodies.AsSpan(entry.Offset, entry.Length);
            if (entry.Type != ContentType.Handshake)
            {
                var size = records.RecordSize(entry.Epoch, body.Length);
                if (used + size > datagram.Length)
                {
                    sender.Send(datagram[..used], peer);
                    used = 0;
                }
                var written = records.Write(entry.Type, entry.Epoch, body, datagram[used..]);
                if (written < 0)
                {
                    return false;
                }
                used += written;
                continue;
            }

            var fragmentOffset = 0;
            while (true)
            {
                // The room left in this datagram, and no more than the peer's record size limit lets one record
                // carry (RFC 8449 §4; RFC 6066 §4: "including handshake messages").
                var room = Math.Min(datagram.Length - used - records.RecordSize(entry.Epoch, HandshakeHeader.Size),
                    records.MaxPayload(entry.Epoch) - HandshakeHeader.Size);
                var remaining = body.Length - fragmentOffset;
                if (room < Math.Min(remaining, MinUsefulFragment) && used > 0)
                {
                    sender.Send(datagram[..used], peer);
                    used = 0;
                    continue;
                }
                var fragmentLength = Math.Min(remaining, Math.Max(room, 0));
                if (fragmentLength == 0 && remaining > 0)
                {
                    // The MTU cannot carry even one byte of this message beside its headers.
                    return false;
                }
                var payloadStart = used + records.PayloadOffset(entry.Epoch);
                var payload = datagram.Slice(payloadStart, HandshakeHeader.Size + fragmentLength);
                new HandshakeHeader(entry.HandshakeType, body.Length, entry.MessageSeq, fragmentOffset, fragmentLength)
                    .Write(payload);
                body.Slice(fragmentOffset, fragmentLength).CopyTo(payload[HandshakeHeader.Size..]);
                var written = records.Write(ContentType.Handshake, entry.Epoch, payload, datagram[used..]);
                if (written < 0)
                {
                    return false;
                }
                used += written;
                fragmentOffset += fragmentLength;
                if (fragmentOffset >= body.Length)
                {
                    break;
                }
            }
        }
        if (used > 0)
        {
            sender.Send(datagram[..used], peer);
        }
        return true;
    }

    private int Append(ReadOnlySpan<byte> bytes)
    {
        if (_count == MaxEntries)
        {
            throw new InvalidOperationException("A flight holds at most six messages.");
        }
        if (_bodyLength + bytes.Length > _bodies.Length)
        {
            Array.Resize(ref _bodies, Math.Max(_bodies.Length * 2, _bodyLength + bytes.Length));
        }
        var offset = _bodyLength;
        bytes.CopyTo(_bodies.AsSpan(offset));
        _bodyLength += bytes.Length;
        return offset;
    }

    private readonly record struct Entry(
        ContentType Type, ushort Epoch, HandshakeType HandshakeType, ushort MessageSeq, int Offset, int Length);
}
