namespace HotDtls.Tests.Support;

/// <summary>Rewrites handshake records into tiny fragments, as a hostile or very constrained peer would send them.</summary>
internal static class Refragmenter
{
    /// <summary>
    /// Splits every epoch-0 handshake message in <paramref name="datagram"/> into fragments of
    /// <paramref name="size"/> bytes, each in its own single-record datagram with a fresh record sequence number
    /// starting at <paramref name="nextSequence"/>. Other records pass unchanged (one datagram each).
    /// </summary>
    public static List<byte[]> Split(byte[] datagram, int size, ref ulong nextSequence, bool reverse = false, bool duplicate = false)
    {
        var output = new List<byte[]>();
        foreach (var (header, body) in Wire.Records(datagram))
        {
            if (header.Type != HotDtls.Records.ContentType.Handshake || header.Epoch != 0)
            {
                output.Add(Wire.Record(header.Type, header.Epoch, header.SequenceNumber, body));
                continue;
            }
            Assert.True(HotDtls.Handshake.HandshakeHeader.TryRead(body, out var hs));
            var message = body.AsSpan(HotDtls.Handshake.HandshakeHeader.Size, hs.FragmentLength).ToArray();
            var fragments = new List<byte[]>();
            for (var offset = 0; offset < message.Length; offset += size)
            {
                var length = Math.Min(size, message.Length - offset);
                fragments.Add(Wire.HandshakeFragment(hs.MsgType, hs.MessageSeq, message.Length, offset, message.AsSpan(offset, length)));
                if (duplicate)
                {
                    // An overlapping fragment that covers this one and the next.
                    var overlap = Math.Min(2 * size, message.Length - offset);
                    fragments.Add(Wire.HandshakeFragment(hs.MsgType, hs.MessageSeq, message.Length, offset, message.AsSpan(offset, overlap)));
                }
            }
            if (reverse)
            {
                fragments.Reverse();
            }
            foreach (var fragment in fragments)
            {
                output.Add(Wire.Record(HotDtls.Records.ContentType.Handshake, 0, nextSequence++, fragment, header.Version));
            }
        }
        return output;
    }

    /// <summary>Gives every epoch-0 record of <paramref name="datagram"/> the next sequence number from <paramref name="nextSequence"/>.</summary>
    public static byte[] Renumber(byte[] datagram, ref ulong nextSequence)
    {
        var parts = new List<byte[]>();
        foreach (var (header, body) in Wire.Records(datagram))
        {
            parts.Add(Wire.Record(header.Type, header.Epoch, header.Epoch == 0 ? nextSequence++ : header.SequenceNumber, body, header.Version));
        }
        return Wire.Concat([.. parts]);
    }
}
