using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace HotDtls.Records;

/// <summary>rrc_msg_type of draft-ietf-tls-dtls-rrc.</summary>
internal enum ReturnRoutabilityCheckType : byte
{
    /// <summary>"Is this address yours?": the receiver answers with a path_response carrying the same cookie.</summary>
    PathChallenge = 0,

    /// <summary>The answer to a path_challenge.</summary>
    PathResponse = 1,

    /// <summary>The address was not validated (sent by a peer instead of a response; HotDtls never sends it).</summary>
    PathDrop = 2,
}

/// <summary>
/// The body of a return_routability_check record (draft-ietf-tls-dtls-rrc), always protected:
/// <code>
/// struct {
///     rrc_msg_type msg_type;     // offset 0, 1 byte
///     opaque cookie[8];          // offset 1
/// } return_routability_check;
/// </code>
/// A server that moved a Connection ID session to a new address sends a path_challenge there; only the real peer,
/// receiving it at that address, can answer with the cookie under the session's keys.
/// </summary>
internal readonly struct ReturnRoutabilityCheck
{
    /// <summary>Bytes in a return_routability_check body.</summary>
    public const int Size = 1 + sizeof(ulong);

    /// <summary>Creates a message.</summary>
    public ReturnRoutabilityCheck(ReturnRoutabilityCheckType type, ulong cookie)
    {
        Type = type;
        Cookie = cookie;
    }

    /// <summary>challenge, response or drop (or the raw byte of an unknown type).</summary>
    public ReturnRoutabilityCheckType Type { get; }

    /// <summary>The 8 random bytes that tie a response to its challenge.</summary>
    public ulong Cookie { get; }

    /// <summary>Decodes a body: false unless it is exactly <see cref="Size"/> bytes.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, out ReturnRoutabilityCheck message)
    {
        if (source.Length != Size)
        {
            message = default;
            return false;
        }
        message = new ReturnRoutabilityCheck((ReturnRoutabilityCheckType)source[0], BinaryPrimitives.ReadUInt64BigEndian(source[1..]));
        return true;
    }

    /// <summary>Writes the message into the first <see cref="Size"/> bytes of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            ThrowDestinationTooShort();
        }
        destination[0] = (byte)Type;
        BinaryPrimitives.WriteUInt64BigEndian(destination[1..], Cookie);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowDestinationTooShort() =>
        throw new ArgumentException($"The destination must hold at least {Size} bytes.", "destination");
}
