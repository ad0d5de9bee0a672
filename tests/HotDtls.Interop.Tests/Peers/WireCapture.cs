using System.Collections.Concurrent;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// Every datagram a <see cref="LossyUdpRelay"/> saw, per direction (pass <see cref="Tap"/> as
/// <see cref="LossyUdpRelayOptions.Tap"/>), and the check that the records carry the Connection IDs (RFC 9146) the
/// handshake settled on.
/// </summary>
public sealed class WireCapture
{
    private readonly ConcurrentQueue<byte[]> _toServer = new();
    private readonly ConcurrentQueue<byte[]> _toClient = new();

    /// <summary>Records each datagram in its direction's queue; the relay's arrays are kept as they are, never changed.</summary>
    public Action<RelayDirection, byte[]> Tap => (direction, datagram) =>
        (direction == RelayDirection.ClientToServer ? _toServer : _toClient).Enqueue(datagram);

    /// <summary>Client → server datagrams, in arrival order.</summary>
    public IReadOnlyCollection<byte[]> ToServer => _toServer;

    /// <summary>Server → client datagrams, in arrival order.</summary>
    public IReadOnlyCollection<byte[]> ToClient => _toClient;

    /// <summary>
    /// Asserts RFC 9146 §4 on <paramref name="datagrams"/> (one direction): no epoch-0 record is a tls12_cid record;
    /// from epoch 1 on every record carries <paramref name="cid"/> as a tls12_cid record when it is non-empty, and none
    /// is a tls12_cid record when it is empty (the receiver asked for plain records). At least
    /// <paramref name="minEncrypted"/> protected records must be there, so the check cannot pass on an empty capture.
    /// </summary>
    public static void AssertConnectionIds(IEnumerable<byte[]> datagrams, byte[] cid, int minEncrypted, string context)
    {
        var records = datagrams.SelectMany(d => WireRecord.Parse(d, cid.Length)).ToList();
        var encrypted = records.Where(r => r.Epoch >= 1).ToList();
        Assert.True(encrypted.Count >= minEncrypted,
            $"at least {minEncrypted} protected records expected, {encrypted.Count} seen; {context}");
        Assert.All(records.Where(r => r.Epoch == 0), r => Assert.NotEqual(WireRecord.Tls12Cid, r.ContentType));
        if (cid.Length == 0)
        {
            Assert.All(encrypted, r => Assert.NotEqual(WireRecord.Tls12Cid, r.ContentType));
            return;
        }
        Assert.All(encrypted, r =>
        {
            Assert.Equal(WireRecord.Tls12Cid, r.ContentType);
            Assert.Equal(cid, r.ConnectionId);
        });
    }
}
