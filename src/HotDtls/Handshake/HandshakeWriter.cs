using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace HotDtls.Handshake;

/// <summary>
/// Forward-only writer over a destination span. Message writers compute their exact length and call
/// <see cref="EnsureCapacity"/> first, so running off the end here is a bug in a writer, not a peer's doing.
/// </summary>
internal ref struct HandshakeWriter
{
    private readonly Span<byte> _destination;
    private int _written;

    public HandshakeWriter(Span<byte> destination)
    {
        _destination = destination;
        _written = 0;
    }

    public readonly int Written => _written;

    public void WriteUInt8(byte value)
    {
        _destination[_written] = value;
        _written++;
    }

    public void WriteUInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(_destination[_written..], value);
        _written += 2;
    }

    public void WriteUInt24(int value)
    {
        Span<byte> target = _destination.Slice(_written, 3);
        target[0] = (byte)(value >> 16);
        target[1] = (byte)(value >> 8);
        target[2] = (byte)value;
        _written += 3;
    }

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        value.CopyTo(_destination[_written..]);
        _written += value.Length;
    }

    /// <summary>Writes <c>opaque x&lt;..255&gt;</c>; the caller has checked the length.</summary>
    public void WriteOpaque8(ReadOnlySpan<byte> value)
    {
        WriteUInt8((byte)value.Length);
        WriteBytes(value);
    }

    /// <summary>Writes <c>opaque x&lt;..2^16-1&gt;</c>; the caller has checked the length.</summary>
    public void WriteOpaque16(ReadOnlySpan<byte> value)
    {
        WriteUInt16((ushort)value.Length);
        WriteBytes(value);
    }

    /// <summary>Our own caller passed a buffer too small for the message: API misuse, so it throws.</summary>
    public static void EnsureCapacity(Span<byte> destination, int required)
    {
        if (destination.Length < required)
        {
            ThrowDestinationTooSmall(required);
        }
    }

    /// <summary>Our own caller passed a value the wire format cannot carry: API misuse, so it throws.</summary>
    public static void EnsureLength(ReadOnlySpan<byte> value, int min, int max, string paramName)
    {
        if (value.Length < min || value.Length > max)
        {
            ThrowBadLength(paramName, min, max);
        }
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void ThrowArgument(string paramName, string message) => throw new ArgumentException(message, paramName);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooSmall(int required) =>
        throw new ArgumentException($"The destination must hold at least {required} bytes.", "destination");

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowBadLength(string paramName, int min, int max) =>
        throw new ArgumentException($"The length must be between {min} and {max}.", paramName);
}
