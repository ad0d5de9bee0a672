using System.Text;

namespace HotDtls.Tests.Support;

/// <summary>A server handler that records every event and, like the seed, answers each datagram with "to &lt;peer&gt;: ACK".</summary>
internal sealed class RecordingHandler : DtlsServerHandler
{
    public List<DtlsSession> Started { get; } = [];
    public List<DtlsSession> Established { get; } = [];
    public List<(DtlsSession Session, byte[] Plaintext)> Datagrams { get; } = [];
    public List<(DtlsSession Session, byte[] Datagram)> ProtectedDatagrams { get; } = [];

    /// <summary>Whether the engine shows this handler each established peer's datagrams before decryption.</summary>
    public bool ObserveProtected { get; init; }

    public override bool ObservesProtectedDatagrams => ObserveProtected;

    public override void OnProtectedDatagram(DtlsSession session, ReadOnlySpan<byte> datagram)
        => ProtectedDatagrams.Add((session, datagram.ToArray()));
    public List<(DtlsSession Session, DtlsCloseReason Reason)> Closed { get; } = [];

    public bool Acknowledge { get; set; } = true;

    public override void OnHandshakeStarted(DtlsSession session) => Started.Add(session);

    public override void OnSessionEstablished(DtlsSession session) => Established.Add(session);

    public override void OnDatagram(DtlsSession session, ReadOnlySpan<byte> plaintext)
    {
        Datagrams.Add((session, plaintext.ToArray()));
        if (Acknowledge)
        {
            session.Send(Encoding.UTF8.GetBytes($"to {session.RemoteEndPoint}: ACK"));
        }
    }

    public override void OnSessionClosed(DtlsSession session, DtlsCloseReason reason) => Closed.Add((session, reason));

    public IEnumerable<string> TextsFrom(System.Net.IPEndPoint peer)
    {
        foreach (var (session, plaintext) in Datagrams)
        {
            if (session.RemoteEndPoint.Equals(peer))
            {
                yield return Encoding.UTF8.GetString(plaintext);
            }
        }
    }
}
