using HotDtls.Handshake;
namespace HotDtls.Connection;

/// <summary>What a connection reports to whoever owns it (the server engine or a client).</summary>
internal interface IConnectionObserver
{
    void OnEstablished(DtlsConnection connection);

    /// <summary>The server is about to look up the key for the client's PSK identity (the seed's "PSK callback").</summary>
    void OnPskLookup(DtlsConnection connection);

    /// <summary>The application's PSK store threw (or returned a faulted task); the handshake ends with internal_error.</summary>
    void OnPskStoreFailed(DtlsConnection connection, Exception exception);

    void OnApplicationData(DtlsConnection connection, ReadOnlySpan<byte> plaintext);

    void OnClosed(DtlsConnection connection, DtlsCloseReason reason, DtlsError error, AlertDescription? alert);

    /// <summary>A record or message was discarded (RFC 6347 §4.1.2.7: silently, but counted).</summary>
    void OnDropped(DtlsConnection connection, DropReason reason);

    /// <summary>
    /// A protected record opened (authentic, not a replay) and is about to be handled: <paramref name="newest"/> when
    /// its sequence number is above every earlier one, <paramref name="carriedConnectionId"/> for a tls12_cid record.
    /// The server moves a CID session to the record's address here (RFC 9146 §6), before anything answers it.
    /// </summary>
    void OnAuthenticRecord(DtlsConnection connection, bool newest, bool carriedConnectionId)
    {
    }

    /// <summary>
    /// The handshake's flights go out in smaller datagrams from now on (RFC 6347 §4.1.1.1): <paramref name="from"/> →
    /// <paramref name="to"/> bytes, because of <paramref name="reason"/>. Called once per step.
    /// </summary>
    void OnPathMtuReduced(DtlsConnection connection, int from, int to, PathMtuReduction reason)
    {
    }

    /// <summary>
    /// A handshake ended, begun at <paramref name="startedTimestamp"/> (<see cref="TimeProvider.GetTimestamp"/> of the
    /// options' clock): established when <paramref name="closeReason"/> is null (called just before
    /// <see cref="OnEstablished"/>), else closed for that reason with <paramref name="error"/> (just before
    /// <see cref="OnClosed"/>). Metrics time handshakes here; the handshake state is already given back.
    /// </summary>
    void OnHandshakeEnded(DtlsConnection connection, long startedTimestamp, DtlsCloseReason? closeReason, DtlsError error)
    {
    }

    /// <summary>
    /// An alert went out (<paramref name="sent"/>) or an authentic one arrived: counted by description. Alerts are rare
    /// (one per closed association at most, bar warnings), so this is off the steady-state path.
    /// </summary>
    void OnAlert(DtlsConnection connection, Records.AlertLevel level, AlertDescription description, bool sent)
    {
    }

    /// <summary>A client sent its ClientHello (flight 1, or flight 3 when <paramref name="withCookie"/> answers a HelloVerifyRequest).</summary>
    void OnClientHelloSent(DtlsConnection connection, bool withCookie)
    {
    }

    /// <summary>A client read the server's HelloVerifyRequest (RFC 6347 §4.2.1): it sends the ClientHello again with the cookie.</summary>
    void OnHelloVerifyRequest(DtlsConnection connection)
    {
    }

    /// <summary>A client accepted the ServerHello: the suite is chosen (<see cref="DtlsConnection.NegotiatedSuite"/>).</summary>
    void OnServerHello(DtlsConnection connection, bool resumed)
    {
    }

    /// <summary>The retransmission timer expired: the last flight goes out again, for the <paramref name="count"/>th time, just after this call.</summary>
    void OnFlightRetransmitted(DtlsConnection connection, int count)
    {
    }

    /// <summary>A path_response arrived (draft-ietf-tls-dtls-rrc): the server matches it to the challenge it sent.</summary>
    void OnPathResponse(DtlsConnection connection, ulong cookie)
    {
    }
}

/// <summary>Why a handshake stepped its path MTU down (<see cref="IConnectionObserver.OnPathMtuReduced"/>).</summary>
internal enum PathMtuReduction : byte
{
    /// <summary>A flight was retransmitted repeatedly without an answer.</summary>
    Unanswered,

    /// <summary>The socket refused a datagram as too large (EMSGSIZE).</summary>
    MessageTooLarge,
}
