namespace HotDtls.Transport;

/// <summary>
/// What a synchronous <see cref="IDatagramSender"/> can tell about its last sends: that the kernel refused a datagram as
/// larger than the path allows (EMSGSIZE, <see cref="System.Net.Sockets.SocketError.MessageSize"/>; Linux reports it
/// once it has learnt a smaller path MTU from ICMP). A connection asks right after sending a flight and steps its path
/// MTU down at once (RFC 6347 §4.1.1.1). Senders that batch (<see cref="BatchedDatagramSocket"/>) cannot attribute an
/// error to a connection and do not implement it; retransmission steps down for them.
/// </summary>
internal interface IDatagramSendFeedback
{
    /// <summary>Whether a send since the last call failed with EMSGSIZE; clears the flag. Never allocates.</summary>
    bool TakeMessageTooLarge();
}
