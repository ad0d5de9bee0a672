using System.Net;

namespace HotDtls.Transport;

/// <summary>Where a connection's datagrams go: a socket in production, a list in tests and fuzzers.</summary>
internal interface IDatagramSender
{
    /// <summary>Sends one datagram to <paramref name="peer"/>; failures are the sender's to count, never thrown.</summary>
    void Send(ReadOnlySpan<byte> datagram, SocketAddress peer);
}
