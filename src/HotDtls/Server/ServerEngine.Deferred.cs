using HotDtls.Connection;
using HotDtls.Diagnostics;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Server;

/// <summary>The engine's part that resumes a handshake once an asynchronous PSK lookup has answered.</summary>
internal sealed partial class ServerEngine
{
    private async Task AwaitPskAsync(ServerConnection connection)
    {
        byte[]? key = null;
        var failed = false;
        try
        {
            key = await connection.PendingPskLookup.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The store is application code: its failure ends one handshake, never the server.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            failed = true;
            Log.PskStoreFailed(_logger, connection.Session!.RemoteEndPoint, exception);
        }
        lock (_gate)
        {
            if (connection.IsClosed || _disposed)
            {
                return;
            }
            var deferred = _deferred.AsSpan(0, connection.TakeDeferred(_deferred));
            var now = NowMs();
            if (connection.ResumeAfterPsk(key, failed, now) == RecordResult.Continue)
            {
                // The rest of flight 5 is read as the datagram was: once CIDs are negotiated the client's Finished is a
                // tls12_cid record (RFC 9146 §4), framed with our CIDs' length and taken only if it carries this
                // connection's CID, as routing by CID would have done.
                var reader = new DatagramReader(deferred, _connectionIds?.Length ?? 0);
                while (!connection.IsClosed && reader.TryReadRecord(out var header, out var offset))
                {
                    ReadOnlySpan<byte> connectionId = default;
                    if (header.Type == ContentType.Tls12Cid)
                    {
                        connectionId = DatagramReader.ConnectionIdOf(deferred, header, offset);
                        if (!_connectionIds!.TryFind(connectionId, out var owner) || owner != connection)
                        {
                            _observer.Counters.UnknownConnectionIdRecords++;
                            _observer.Drop(connection.Peer, DropReason.UnknownConnectionId);
                            continue;
                        }
                    }
                    if (connection.ProcessRecord(header, connectionId, deferred.Slice(offset, header.Length), now) != RecordResult.Continue)
                    {
                        break;
                    }
                }
            }
            deferred.Clear();
            if (!connection.IsEstablished)
            {
                _timers.Schedule(connection, now);
            }
        }
    }
}
