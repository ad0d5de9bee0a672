using System.Text;

namespace HotDtls.Tests.Support;

/// <summary>A server handler that records every event and, like the seed, answers each datagram with "to &lt;peer&gt;: ACK".</summary>
internal sealed class RecordingHandler : DtlsServerHandler
{
    public List<DtlsSession> Started { get; } = [];
    public List<DtlsSession> Established { get; } = [];
    public List<(DtlsSession Session, byte[] Plaintext, byte[] Ciphertext)> Datagrams { get; } = [];
    public List<(DtlsSession Session, DtlsCloseReason Reason)> Closed { get; } = [];

    public bool Acknowledge { get; set; } = true;

    public override void OnHandshakeStarted(DtlsSession session) => Started.Add(session);

    public override void OnSessionEstablished(DtlsSession session) => Established.Add(session);

    public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> ciphertext)
    {
        Datagrams.Add((session, plaintext.ToArray(), ciphertext.ToArray()));
        if (Acknowledge)
        {
            session.Send(Encoding.UTF8.GetBytes($"to {session.RemoteEndPoint}: ACK"));
        }
    }

    public override void OnSessionClosed(DtlsSession session, DtlsCloseReason reason) => Closed.Add((session, reason));

    public IEnumerable<string> TextsFrom(System.Net.IPEndPoint peer)
    {
        foreach (var (session, plaintext, _) in Datagrams)
        {
            if (session.RemoteEndPoint.Equals(peer))
            {
                yield return Encoding.UTF8.GetString(plaintext);
            }
        }
    }
}
