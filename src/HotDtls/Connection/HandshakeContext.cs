using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Crypto;
using HotDtls.Handshake;

namespace HotDtls.Connection;

/// <summary>
/// What only a running handshake needs: reassembly, the transcript, the flight being retransmitted and its timer,
/// the handshake deadline, the server's random and the master secret; on a server also the pending PSK lookup, the
/// records deferred while it runs, and its place in the engine's list of handshakes. A connection drops the whole
/// object once it is established (or closed), so an idle session keeps none of it (issue 4: memory per session)
/// and no secret outlives key derivation.
/// </summary>
/// <remarks>
/// After establishment a connection needs from the handshake only the next peer message_seq (to recognise a
/// retransmitted flight 5, RFC 6347 §4.2.4) and, on the server, the 12 bytes of its own verify_data to send
/// flight 6 again: both are kept inline in the connection.
/// </remarks>
internal sealed class HandshakeContext : IDisposable
{
    public HandshakeContext(DtlsOptions options, long deadlineMs)
    {
        Reassembler = new HandshakeReassembler(options.MaxHandshakeMessageLength, options.MaxReassemblyBytes);
        DeadlineMs = deadlineMs;
    }

    public HandshakeReassembler Reassembler { get; }

    public HandshakeTranscript Transcript { get; } = new();

    public OutgoingFlight Flight { get; } = new();

    public byte[] ServerRandom { get; } = new byte[KeySchedule.RandomLength];

    public byte[] MasterSecret { get; } = new byte[KeySchedule.MasterSecretLength];

    /// <summary>When the handshake is abandoned (monotonic milliseconds, <see cref="DtlsOptions.HandshakeTimeout"/>).</summary>
    public long DeadlineMs { get; }

    /// <summary>When the current flight is sent again (RFC 6347 §4.2.4); long.MaxValue when it is not.</summary>
    public long RetransmitAtMs { get; set; } = long.MaxValue;

    /// <summary>The retransmission timer's current period, doubled on each expiry.</summary>
    public long RetransmitTimeoutMs { get; set; }

    /// <summary>Server: the PSK lookup that has not completed yet, for the engine to await.</summary>
    public ValueTask<byte[]?> PendingPskLookup { get; set; }

    /// <summary>Server: cancels the PSK lookup if the connection closes first.</summary>
    public CancellationTokenSource? PskCancellation { get; set; }

    /// <summary>Server: the rest of the datagram that arrived while the PSK lookup ran; allocated on first use.</summary>
    public byte[]? Deferred { get; set; }

    public int DeferredLength { get; set; }

    /// <summary>Server: this connection's node in its engine's list of handshakes in progress, oldest first.</summary>
    public LinkedListNode<ServerConnection>? HandshakeNode { get; set; }

    /// <summary>
    /// Returns the pooled buffers, zeroes the master secret, and leaves the engine's list of handshakes in progress:
    /// a connection is in that list exactly as long as it holds its handshake.
    /// </summary>
    public void Dispose()
    {
        if (HandshakeNode is { List: { } list } node)
        {
            list.Remove(node);
        }
        HandshakeNode = null;
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
