using System.Buffers.Binary;

namespace HotDtls.Handshake;

/// <summary>
/// Bounded cursor over a handshake body. Every read either succeeds completely or fails and leaves
/// the cursor where it was, so a truncated or lying length field can only ever produce <c>false</c>.
/// Vectors are the RFC 5246 §4.3 <c>opaque x&lt;min..max&gt;</c>: a big-endian length of 1 or 2 bytes
/// followed by that many bytes; lengths outside [min, max] or past the end fail.
/// </summary>
internal ref struct HandshakeReader
{
    private readonly int _length;
    private ReadOnlySpan<byte> _rest;

    public HandshakeReader(ReadOnlySpan<byte> source)
    {
        _length = source.Length;
        _rest = source;
    }

    /// <summary>Bytes not yet read; a parser that ends with this non-zero has trailing data.</summary>
    public readonly int Remaining => _rest.Length;

    public readonly bool IsEmpty => _rest.IsEmpty;

    /// <summary>Bytes read so far, i.e. the offset of the next read in the original span.</summary>
    public readonly int Consumed => _length - _rest.Length;

    public bool TryReadUInt8(out byte value)
    {
        if (_rest.IsEmpty)
        {
            value = 0;
            return false;
        }

        value = _rest[0];
        _rest = _rest[1..];
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        if (!BinaryPrimitives.TryReadUInt16BigEndian(_rest, out value))
        {
            return false;
        }

        _rest = _rest[2..];
        return true;
    }

    public bool TryReadUInt24(out int value)
    {
        if (_rest.Length < 3)
        {
            value = 0;
            return false;
        }

        value = (_rest[0] << 16) | (_rest[1] << 8) | _rest[2];
        _rest = _rest[3..];
        return true;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
    {
        if ((uint)count > (uint)_rest.Length)
        {
            bytes = default;
            return false;
        }

        bytes = _rest[..count];
        _rest = _rest[count..];
        return true;
    }

    /// <summary>Reads <c>opaque x&lt;min..max&gt;</c> with a one-byte length (max ≤ 255).</summary>
    public bool TryReadOpaque8(int min, int max, out ReadOnlySpan<byte> bytes)
    {
        if (_rest.IsEmpty)
        {
            bytes = default;
            return false;
        }

        return TryTakeVector(1, _rest[0], min, max, out bytes);
    }

    /// <summary>Reads <c>opaque x&lt;min..max&gt;</c> with a two-byte length (max ≤ 65535).</summary>
    public bool TryReadOpaque16(int min, int max, out ReadOnlySpan<byte> bytes)
    {
        if (!BinaryPrimitives.TryReadUInt16BigEndian(_rest, out ushort length))
        {
            bytes = default;
            return false;
        }

        return TryTakeVector(2, length, min, max, out bytes);
    }

    private bool TryTakeVector(int prefix, int length, int min, int max, out ReadOnlySpan<byte> bytes)
    {
        // Compare before slicing: the length came from the peer and may point past the end.
        if (length < min || length > max || length > _rest.Length - prefix)
        {
            bytes = default;
            return false;
        }

        bytes = _rest.Slice(prefix, length);
        _rest = _rest[(prefix + length)..];
        return true;
    }
}
