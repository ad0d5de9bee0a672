using System.Net;
using HotDtls.Connection;
using HotDtls.Cookies;
using HotDtls.Diagnostics;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Transport;
using Microsoft.Extensions.Logging;

namespace HotDtls.Server;

/// <summary>The engine's ClientHello path: the stateless cookie gate, then a new handshake.</summary>
internal sealed partial class ServerEngine
{
    /// <summary>A ClientHello from a peer without a handshake for it. Returns the address's entry afterwards.</summary>
    private ServerConnection? OnClientHello(SocketAddress from, ServerConnection? entry, in RecordHeader header,
        ReadOnlySpan<byte> body, int datagramLength, long now)
    {
        var decision = _hellos.Check(from, header, body, datagramLength, now);
        switch (decision.Verdict)
        {
            case HelloVerdict.Drop:
                _observer.Drop(from, decision.DropReason);
                return entry;
            case HelloVerdict.Challenge:
                ((IDatagramSender)this).Send(decision.Challenge, from);
                _observer.Counters.HelloVerifyRequestsSent++;
                if (_logger.IsEnabled(LogLevel.Debug))
                {
                    Log.HelloVerifyRequestSent(_logger, from.ToEndPoint());
                }
                return entry;
            case HelloVerdict.Admit:
                try
                {
                    return StartHandshake(from, header, decision.MessageSeq, decision.HelloBody, now);
                }
                finally
                {
                    if (decision.Reassembled)
                    {
                        _hellos.Release(from);
                    }
                }
            default:
                return entry;
        }
    }

    /// <summary>A cookie-verified hello: make room, create the connection, send flight 4 (or refuse). Returns the address's entry.</summary>
    private ServerConnection? StartHandshake(SocketAddress from, in RecordHeader header,
        ushort messageSeq, ReadOnlySpan<byte> helloBody, long now)
    {
        if (_peers.MakeRoom(from, out var predecessor) == Admission.Full)
        {
            _observer.Counters.CountDrop(DropReason.TooManySessions);
            Log.TooManySessions(_logger, from.ToEndPoint(), _peers.Count);
            return predecessor;
        }
        var connection = new ServerConnection(_services, from.Copy(), now);
        connection.Session = new DtlsSession(connection);
        _peers.Add(connection, predecessor);
        _observer.Counters.HandshakesStarted++;
        if (_logger.IsEnabled(LogLevel.Information))
        {
            // Guarded: the argument would make the session's IPEndPoint, which it otherwise makes only when asked.
            Log.HandshakeInProgress(_logger, connection.Session.RemoteEndPoint);
        }
        _observer.CallHandler(HandlerCall.HandshakeStarted, connection.Session, default, default);
        if (connection.Start(header, messageSeq, helloBody, now) == RecordResult.Defer)
        {
            // Resumption: the flight waits for the PSK store to confirm the cached session's identity.
            _ = AwaitPskAsync(connection);
        }
        _timers.Schedule(connection, now);
        return predecessor ?? (connection.IsClosed ? null : connection);
    }
}
