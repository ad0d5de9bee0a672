namespace HotDtls.Handshake;

/// <summary>
/// Where a handshake stands, named for what it expects next (rustls style). The server's states start
/// after the cookie check: no state exists for a peer before that (RFC 6347 §4.2.1).
/// </summary>
internal enum HandshakeState : byte
{
    // Server
    ServerExpectClientKeyExchange,
    ServerAwaitingPsk,
    ServerExpectChangeCipherSpec,
    ServerExpectFinished,

    // Client
    ClientExpectServerHello,
    ClientExpectServerKeyExchange,
    ClientExpectServerHelloDone,
    ClientExpectChangeCipherSpec,
    ClientExpectFinished,

    // Both
    Established,
    Closed,
}

/// <summary>What arrived: a handshake message type, or ChangeCipherSpec (which is not a handshake message in DTLS 1.2).</summary>
internal enum MessageKind : byte
{
    HelloVerifyRequest,
    ServerHello,
    ServerKeyExchange,
    ServerHelloDone,
    ClientKeyExchange,
    ChangeCipherSpec,
    Finished,
}

/// <summary>
/// The one table of legal handshake transitions: (state, message, epoch) → next state. The connection's driver
/// consults it before any handler runs, so a message that is not allowed now never reaches handler code
/// (the class of bug behind CVE-2017-7243 and CVE-2021-42141). Tests walk every row and every missing one.
/// </summary>
/// <remarks>
/// RFC 6347 §4.2.4 flights, as HotDtls runs them:
/// <code>
///   Client                                   Server
///   ClientHello             --------&gt;                        flight 1
///                           &lt;--------  HelloVerifyRequest    flight 2 (stateless)
///   ClientHello + cookie    --------&gt;                        flight 3
///                                      ServerHello            flight 4
///                                      ServerKeyExchange*
///                           &lt;--------  ServerHelloDone
///   ClientKeyExchange
///   [ChangeCipherSpec]
///   Finished (epoch 1)      --------&gt;                        flight 5
///                                      [ChangeCipherSpec]
///                           &lt;--------  Finished (epoch 1)    flight 6
/// </code>
/// The ClientHello that starts a server connection is handled by the cookie path in the engine (reassembled first,
/// in a small bounded cache, when it arrives in fragments), never by this table.
/// </remarks>
internal static class HandshakeTable
{
    internal readonly record struct Row(HandshakeState State, MessageKind Message, ushort Epoch, HandshakeState Next);

    internal static readonly Row[] Rows =
    [
        new(HandshakeState.ServerExpectClientKeyExchange, MessageKind.ClientKeyExchange, 0, HandshakeState.ServerExpectChangeCipherSpec),
        new(HandshakeState.ServerExpectChangeCipherSpec, MessageKind.ChangeCipherSpec, 0, HandshakeState.ServerExpectFinished),
        new(HandshakeState.ServerExpectFinished, MessageKind.Finished, 1, HandshakeState.Established),

        new(HandshakeState.ClientExpectServerHello, MessageKind.HelloVerifyRequest, 0, HandshakeState.ClientExpectServerHello),
        new(HandshakeState.ClientExpectServerHello, MessageKind.ServerHello, 0, HandshakeState.ClientExpectServerKeyExchange),
        new(HandshakeState.ClientExpectServerKeyExchange, MessageKind.ServerKeyExchange, 0, HandshakeState.ClientExpectServerHelloDone),
        new(HandshakeState.ClientExpectServerKeyExchange, MessageKind.ServerHelloDone, 0, HandshakeState.ClientExpectChangeCipherSpec),
        new(HandshakeState.ClientExpectServerHelloDone, MessageKind.ServerHelloDone, 0, HandshakeState.ClientExpectChangeCipherSpec),
        new(HandshakeState.ClientExpectChangeCipherSpec, MessageKind.ChangeCipherSpec, 0, HandshakeState.ClientExpectFinished),
        new(HandshakeState.ClientExpectFinished, MessageKind.Finished, 1, HandshakeState.Established),
    ];

    /// <summary>The state after <paramref name="message"/> in <paramref name="epoch"/>, or false if it is not allowed now.</summary>
    public static bool TryGetNext(HandshakeState state, MessageKind message, ushort epoch, out HandshakeState next)
    {
        foreach (var row in Rows)
        {
            if (row.State == state && row.Message == message && row.Epoch == epoch)
            {
                next = row.Next;
                return true;
            }
        }
        next = state;
        return false;
    }

    /// <summary>Maps a handshake message type to the table's message kind; false for types a PSK handshake never carries.</summary>
    public static bool TryGetKind(HandshakeType type, out MessageKind kind)
    {
        switch (type)
        {
            case HandshakeType.HelloVerifyRequest: kind = MessageKind.HelloVerifyRequest; return true;
            case HandshakeType.ServerHello: kind = MessageKind.ServerHello; return true;
            case HandshakeType.ServerKeyExchange: kind = MessageKind.ServerKeyExchange; return true;
            case HandshakeType.ServerHelloDone: kind = MessageKind.ServerHelloDone; return true;
            case HandshakeType.ClientKeyExchange: kind = MessageKind.ClientKeyExchange; return true;
            case HandshakeType.Finished: kind = MessageKind.Finished; return true;
            default: kind = default; return false;
        }
    }
}
