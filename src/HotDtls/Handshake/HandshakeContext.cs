using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Handshake;

/// <summary>
/// What only a running handshake needs: reassembly, the transcript, the flight being retransmitted, the server's
/// random and the master secret. A connection drops the whole object once it is established (or closed), so an
/// idle session keeps none of it (issue 4: memory per session) and no secret outlives key derivation.
/// </summary>
/// <remarks>
/// After establishment a connection needs from the handshake only the next peer message_seq (to recognise a
/// retransmitted flight 5, RFC 6347 §4.2.4) and, on the server, the 12 bytes of its own verify_data to send
/// flight 6 again: both are kept inline in the connection.
/// </remarks>
internal sealed class HandshakeContext : IDisposable
{
    public HandshakeContext(DtlsOptions options)
    {
        Reassembler = new HandshakeReassembler(options.MaxHandshakeMessageLength, options.MaxReassemblyBytes);
    }

    public HandshakeReassembler Reassembler { get; }

    public HandshakeTranscript Transcript { get; } = new();

    public OutgoingFlight Flight { get; } = new();

    public byte[] ServerRandom { get; } = new byte[KeySchedule.RandomLength];

    public byte[] MasterSecret { get; } = new byte[KeySchedule.MasterSecretLength];

    /// <summary>Returns the pooled buffers and zeroes the master secret.</summary>
    public void Dispose()
    {
        Reassembler.Dispose();
        Transcript.Dispose();
        CryptographicOperations.ZeroMemory(MasterSecret);
    }
}

/// <summary>A client random (RFC 5246 §7.4.1.2) held inline in its connection: no array, no header.</summary>
[InlineArray(KeySchedule.RandomLength)]
internal struct RandomBytes
{
    private byte _element0;
}

/// <summary>A Finished verify_data (RFC 5246 §7.4.9) held inline in its connection.</summary>
[InlineArray(Finished.VerifyDataLength)]
internal struct VerifyDataBytes
{
    private byte _element0;
}
