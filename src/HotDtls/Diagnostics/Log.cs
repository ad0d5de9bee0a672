using System.Net;
using Microsoft.Extensions.Logging;

namespace HotDtls.Diagnostics;

/// <summary>
/// Every message HotDtls logs, source-generated with stable event ids. The seed's reporting maps onto levels:
/// info for progress, warning for odd but harmless input, error for failures. Keys never appear here;
/// PSK identities do, since they travel in clear text anyway.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Server is listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, EndPoint endPoint);

    [LoggerMessage(2, LogLevel.Information, "{Peer}: handshake is in progress")]
    public static partial void HandshakeInProgress(ILogger logger, EndPoint peer);

    [LoggerMessage(3, LogLevel.Information, "{Peer}: PSK callback, received a client's identity: '{Identity}'")]
    public static partial void PskIdentity(ILogger logger, EndPoint peer, string identity);

    [LoggerMessage(4, LogLevel.Information, "Connection with {Peer} encrypted. {CipherSuite}")]
    public static partial void Encrypted(ILogger logger, EndPoint peer, CipherSuite? cipherSuite);

    [LoggerMessage(21, LogLevel.Information, "{Peer}: session resumed (abbreviated handshake)")]
    public static partial void SessionResumed(ILogger logger, EndPoint peer);

    [LoggerMessage(5, LogLevel.Information, "{Peer}: session closed ({Reason})")]
    public static partial void SessionClosed(ILogger logger, EndPoint peer, DtlsCloseReason reason);

    // The seed's words (Qt's DTLS server example): an empty datagram is how some clients probe after a restart.
    [LoggerMessage(6, LogLevel.Warning, "{Peer}: 0 byte dgram, could be a re-connect attempt?")]
    public static partial void EmptyDatagram(ILogger logger, EndPoint peer);

    [LoggerMessage(7, LogLevel.Error, "{Peer}: failed to decrypt a datagram (record authentication failed; dropped)")]
    public static partial void DecryptionFailed(ILogger logger, EndPoint peer);

    [LoggerMessage(8, LogLevel.Error, "{Peer}: handshake failed: {Description}; sent fatal alert {Alert}")]
    public static partial void HandshakeFailed(ILogger logger, EndPoint peer, string description, AlertDescription? alert);

    [LoggerMessage(9, LogLevel.Debug, "{Peer}: dropped a record or fragment ({Reason})")]
    public static partial void Dropped(ILogger logger, EndPoint peer, string reason);

    [LoggerMessage(10, LogLevel.Warning, "{Peer}: received alert {Alert}; the session ends")]
    public static partial void PeerAlert(ILogger logger, EndPoint peer, AlertDescription? alert);

    [LoggerMessage(11, LogLevel.Warning, "{Peer}: ClientHello dropped: {Count} sessions is the MaxSessions limit")]
    public static partial void TooManySessions(ILogger logger, EndPoint peer, int count);

    [LoggerMessage(12, LogLevel.Error, "{Peer}: the PSK store failed; the handshake ends with internal_error")]
    public static partial void PskStoreFailed(ILogger logger, EndPoint peer, Exception exception);

    [LoggerMessage(13, LogLevel.Error, "Unexpected failure while processing a datagram from {Peer}; it was dropped")]
    public static partial void DatagramFailed(ILogger logger, EndPoint peer, Exception exception);

    [LoggerMessage(14, LogLevel.Information, "Server stopped; close_notify sent to {Count} peers")]
    public static partial void Stopped(ILogger logger, int count);

    [LoggerMessage(15, LogLevel.Debug, "{Peer}: sent HelloVerifyRequest")]
    public static partial void HelloVerifyRequestSent(ILogger logger, EndPoint peer);

    [LoggerMessage(16, LogLevel.Information, "{Peer}: handshake timed out")]
    public static partial void HandshakeTimedOut(ILogger logger, EndPoint peer);

    [LoggerMessage(17, LogLevel.Warning, "Sending a datagram to {Peer} failed: {Error}")]
    public static partial void SendFailed(ILogger logger, EndPoint peer, System.Net.Sockets.SocketError error);

    [LoggerMessage(19, LogLevel.Error, "{Peer}: the application's DtlsServerHandler threw; the server carries on")]
    public static partial void HandlerFailed(ILogger logger, EndPoint peer, Exception exception);

    [LoggerMessage(20, LogLevel.Error, "Unexpected failure in the server's timer; it keeps running")]
    public static partial void TimerFailed(ILogger logger, Exception exception);

    [LoggerMessage(18, LogLevel.Error, "The receive loop failed: {Error}; the server keeps receiving")]
    public static partial void ReceiveFailed(ILogger logger, System.Net.Sockets.SocketError error);

    [LoggerMessage(30, LogLevel.Information,
        "{Peer}: moved to {NewPeer} (Connection ID); until the new address proves it is reachable, the server sends it no more than it receives from it")]
    public static partial void PeerMoved(ILogger logger, IPEndPoint peer, IPEndPoint newPeer);

    [LoggerMessage(31, LogLevel.Warning, "{Peer}: a newer record came from {NewPeer}, but the session stays: another peer holds that address or a new handshake runs at the old one")]
    public static partial void PeerMoveRefused(ILogger logger, IPEndPoint peer, IPEndPoint newPeer);

    [LoggerMessage(32, LogLevel.Information,
        "Connection ID records are not steered to their receive loop by the kernel ({Reason}); loops hand them to each other instead")]
    public static partial void ConnectionIdSteeringUnavailable(ILogger logger, string reason);

    [LoggerMessage(40, LogLevel.Information,
        "{Peer}: handshake flight retransmitted without an answer; sending it again in datagrams of {Mtu} bytes instead of {PreviousMtu} (RFC 6347 §4.1.1.1)")]
    public static partial void PathMtuReducedOnLoss(ILogger logger, IPEndPoint peer, int previousMtu, int mtu);

    [LoggerMessage(41, LogLevel.Warning,
        "{Peer}: the socket refused a {PreviousMtu}-byte datagram as too large (EMSGSIZE); handshake flights now go out in datagrams of {Mtu} bytes")]
    public static partial void PathMtuReducedOnMessageSize(ILogger logger, IPEndPoint peer, int previousMtu, int mtu);

    // The client's steps (DtlsClientOptions.LoggerFactory, category "HotDtls.Client"). All at Debug: ConnectAsync's
    // result or exception already says how the handshake ended, so an application decides what its users see.

    [LoggerMessage(50, LogLevel.Debug, "{Peer}: sent ClientHello")]
    public static partial void ClientHelloSent(ILogger logger, EndPoint peer);

    [LoggerMessage(51, LogLevel.Debug, "{Peer}: received HelloVerifyRequest (cookie exchange, RFC 6347 §4.2.1)")]
    public static partial void HelloVerifyRequestReceived(ILogger logger, EndPoint peer);

    [LoggerMessage(52, LogLevel.Debug, "{Peer}: sent ClientHello with the server's cookie")]
    public static partial void ClientHelloWithCookieSent(ILogger logger, EndPoint peer);

    [LoggerMessage(53, LogLevel.Debug, "{Peer}: received ServerHello: {CipherSuite}, full handshake")]
    public static partial void ServerHelloReceived(ILogger logger, EndPoint peer, CipherSuite? cipherSuite);

    [LoggerMessage(54, LogLevel.Debug, "{Peer}: received ServerHello: {CipherSuite}, resuming the saved session (abbreviated handshake)")]
    public static partial void ServerHelloResumed(ILogger logger, EndPoint peer, CipherSuite? cipherSuite);

    [LoggerMessage(55, LogLevel.Debug, "{Peer}: no answer; retransmitting the last flight ({Count} unanswered)")]
    public static partial void FlightRetransmitted(ILogger logger, EndPoint peer, int count);

    [LoggerMessage(56, LogLevel.Debug, "{Peer}: handshake complete, session established. {CipherSuite}")]
    public static partial void ClientEstablished(ILogger logger, EndPoint peer, CipherSuite? cipherSuite);

    [LoggerMessage(57, LogLevel.Debug, "{Peer}: received alert {Alert}")]
    public static partial void ClientAlertReceived(ILogger logger, EndPoint peer, AlertDescription? alert);

    [LoggerMessage(58, LogLevel.Debug, "{Peer}: sent fatal alert {Alert}: {Description}")]
    public static partial void ClientAlertSent(ILogger logger, EndPoint peer, AlertDescription? alert, string description);

    [LoggerMessage(59, LogLevel.Debug, "{Peer}: session closed ({Reason})")]
    public static partial void ClientClosed(ILogger logger, EndPoint peer, DtlsCloseReason reason);

    [LoggerMessage(60, LogLevel.Debug, "{Peer}: the host reports that nothing listens there (ICMP port unreachable; {Count} in a row)")]
    public static partial void PortUnreachable(ILogger logger, EndPoint peer, int count);
    // The key log (DtlsOptions.KeyLogPath), either role.

    [LoggerMessage(70, LogLevel.Warning,
        "Key logging is ON: the master secret of every session is written to {File}; whoever reads it can decrypt those sessions. Turn it off outside debugging")]
    public static partial void KeyLoggingEnabled(ILogger logger, string file);

    [LoggerMessage(71, LogLevel.Warning, "Writing the key log {File} failed ({Error}); sessions go on, their lines are lost (reported once)")]
    public static partial void KeyLogWriteFailed(ILogger logger, string file, string error);

    // A cluster node (DtlsServerOptions.Cluster, docs/scaling.md).

    [LoggerMessage(80, LogLevel.Information, "Cluster keys replaced: {Cookie} cookie secret(s), {Ticket} ticket key(s), {Channel} channel key(s); the first of each is now current")]
    public static partial void ClusterKeysChanged(ILogger logger, int cookie, int ticket, int channel);

    [LoggerMessage(81, LogLevel.Error, "The cluster key file changed but cannot be used ({Error}); the keys stay as they were. Fix the file: it is read again at the next heartbeat")]
    public static partial void ClusterKeyFileUnreadable(ILogger logger, string error);

    // The node-to-node channel (HotDtls.Cluster.ClusterChannel). Never a key, never a payload byte.

    [LoggerMessage(82, LogLevel.Information, "Cluster node {Node}: the node-to-node channel is listening on {EndPoint}")]
    public static partial void ClusterChannelListening(ILogger logger, byte node, EndPoint endPoint);

    [LoggerMessage(83, LogLevel.Error, "The node-to-node channel cannot listen on {EndPoint}: {Advice}")]
    public static partial void ClusterChannelBindFailed(ILogger logger, EndPoint endPoint, string advice);

    [LoggerMessage(84, LogLevel.Information, "Cluster node {Node} is up (an authenticated frame from {Source})")]
    public static partial void ClusterNodeUp(ILogger logger, byte node, EndPoint source);

    [LoggerMessage(85, LogLevel.Information, "Cluster node {Node} is down: nothing authenticated heard from it for {Timeout}; records for its sessions are dropped until it is back")]
    public static partial void ClusterNodeDown(ILogger logger, byte node, TimeSpan timeout);

    [LoggerMessage(86, LogLevel.Warning, "The node-to-node channel's receive failed: {Error}; it carries on")]
    public static partial void ClusterChannelReceiveFailed(ILogger logger, System.Net.Sockets.SocketError error);

    [LoggerMessage(87, LogLevel.Error, "A frame from {Source} on the node-to-node channel failed in the server; the channel carries on")]
    public static partial void ClusterFrameFailed(ILogger logger, EndPoint source, Exception exception);

    [LoggerMessage(88, LogLevel.Information, "Cluster node {Node} now sends from {NewAddress} (was {OldAddress}): frames to it go there (a restarted pod with a new address)")]
    public static partial void ClusterNodeAddressChanged(ILogger logger, byte node, EndPoint newAddress, EndPoint oldAddress);
}
