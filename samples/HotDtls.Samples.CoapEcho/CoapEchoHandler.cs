using System.Buffers;

namespace HotDtls.Samples.CoapEcho;

/// <summary>
/// Answers each CoAP request with 2.05 Content echoing its payload (or, without one, its Uri-Path: a GET of
/// coaps://host/echo returns "echo") — piggybacked on the ACK for a confirmable request, as a non-confirmable response
/// for a non-confirmable one — answers a ping with a reset, and sends any other datagram back unchanged.
/// </summary>
internal sealed class CoapEchoHandler : DtlsServerHandler
{
    // Larger replies borrow from the pool rather than the receive thread's stack.
    private const int StackReplyLimit = 2048;

    // Path segments beyond this are left out of the echoed path.
    private const int MaxEchoedPath = 255;

    // Message IDs of the non-confirmable responses; the handler runs on several receive loops at once.
    private int _nextMessageId = Random.Shared.Next(ushort.MaxValue);

    public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
    {
        if (!CoapRequest.TryRead(plaintext, out var request))
        {
            session.Send(plaintext);
            return;
        }
        var maxLength = CoapWriter.MaxReplyLength(plaintext.Length);
        byte[]? rented = null;
        var buffer = maxLength <= StackReplyLimit ? stackalloc byte[StackReplyLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxLength));
        try
        {
            session.Send(buffer[..Reply(request, buffer)]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private int Reply(in CoapRequest request, Span<byte> buffer)
    {
        if (request.IsPing)
        {
            return CoapWriter.WriteReset(buffer, request.MessageId);
        }
        Span<byte> path = stackalloc byte[MaxEchoedPath];
        scoped ReadOnlySpan<byte> payload = request.Payload;
        if (payload.IsEmpty)
        {
            // No longer than the options it comes from, so the reply buffer has room for it.
            payload = path[..request.WriteUriPath(path)];
        }
        return request.Type == CoapType.Confirmable
            ? CoapWriter.WriteResponse(buffer, CoapType.Acknowledgement, request.MessageId, request.Token, payload)
            : CoapWriter.WriteResponse(buffer, CoapType.NonConfirmable,
                (ushort)Interlocked.Increment(ref _nextMessageId), request.Token, payload);
    }
}
