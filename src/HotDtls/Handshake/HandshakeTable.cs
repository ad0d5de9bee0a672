namespace HotDtls.Handshake;

/// <summary>
/// The one table of the handshake: (state, input, record epoch) → the handler to run, the state after it, and the
/// state to wait in if the handler must wait. The connection's driver consults it before any handler runs, so an
/// input that is not allowed now never reaches handler code (the class of bug behind CVE-2017-7243 and
/// CVE-2021-42141), and only the driver assigns states. Tests walk every row and every missing one.
/// </summary>
/// <remarks>
/// RFC 6347 §4.2.4 flights, as HotDtls runs them:
/// <code>
///   Client                                   Server
///   ClientHello             --------&gt;                        flight 1
///                           &lt;--------  HelloVerifyRequest    flight 2 (stateless: Cookies/HelloGate)
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
/// The server's first row takes the ClientHello that <c>HelloGate</c> admitted with a valid cookie: no server state
/// exists before it. Adding a state (resumption, ECDHE) is adding rows and the actions they name.
/// <para>
/// Session resumption (RFC 5246 §7.3, the abbreviated handshake; RFC 6347 §4.2.4 flights): the server's flight goes
/// first and is retransmitted on its timer until the client's Finished arrives; the client's ChangeCipherSpec and
/// Finished are the final flight, sent again only when the server's flight is seen again.
/// <code>
///   Client                                   Server
///   ClientHello (session_id)  ------&gt;                        flight 1 (and 2, 3: the cookie exchange as above)
///                                      ServerHello (same id)  flight 4: the PSK store is asked first whether the
///                                      [ChangeCipherSpec]               session's identity still resolves
///                           &lt;--------  Finished (epoch 1)
///   [ChangeCipherSpec]
///   Finished (epoch 1)      --------&gt;                        flight 5 (final)
/// </code>
/// A handler that chooses the abbreviated handshake returns <see cref="StepKind.Abbreviate"/> and the driver enters
/// the row's <see cref="Row.Abbreviated"/> state.
/// </para>
/// </remarks>
internal static class HandshakeTable
{
    /// <summary>The epoch column of a local event (<see cref="HandshakeInput.Start"/>, <see cref="HandshakeInput.PskResolved"/>), which arrives in no record.</summary>
    public const ushort NoRecord = ushort.MaxValue;

    /// <summary>One legal transition.</summary>
    /// <param name="State">The state the row applies in.</param>
    /// <param name="Input">The message or event it takes.</param>
    /// <param name="Epoch">The epoch of the record the message must arrive in (<see cref="NoRecord"/> for events).</param>
    /// <param name="Action">The handler to run.</param>
    /// <param name="Next">The state after a handler that returns <see cref="StepKind.Next"/>.</param>
    /// <param name="Wait">The state after a handler that returns <see cref="StepKind.Wait"/>; <see cref="HandshakeState.Closed"/> where waiting is not allowed.</param>
    /// <param name="Abbreviated">The state after a handler that returns <see cref="StepKind.Abbreviate"/> (resumption); <see cref="HandshakeState.Closed"/> where it is not allowed.</param>
    internal readonly record struct Row(
        HandshakeState State, HandshakeInput Input, ushort Epoch, HandshakeAction Action, HandshakeState Next,
        HandshakeState Wait = HandshakeState.Closed, HandshakeState Abbreviated = HandshakeState.Closed);

    internal static readonly Row[] Rows =
    [
        new(HandshakeState.ServerExpectClientHello, HandshakeInput.ClientHello, 0, HandshakeAction.ReadClientHello, HandshakeState.ServerExpectClientKeyExchange,
            HandshakeState.ServerAwaitingSessionPsk, HandshakeState.ServerResumeExpectChangeCipherSpec),
        new(HandshakeState.ServerExpectClientKeyExchange, HandshakeInput.ClientKeyExchange, 0, HandshakeAction.ReadClientKeyExchange, HandshakeState.ServerExpectChangeCipherSpec, HandshakeState.ServerAwaitingPsk),
        new(HandshakeState.ServerAwaitingPsk, HandshakeInput.PskResolved, NoRecord, HandshakeAction.UseResolvedPsk, HandshakeState.ServerExpectChangeCipherSpec),
        new(HandshakeState.ServerExpectChangeCipherSpec, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ServerExpectFinished),
        new(HandshakeState.ServerExpectFinished, HandshakeInput.Finished, 1, HandshakeAction.ReadClientFinished, HandshakeState.Established),
        // Resumption: the store's answer picks the abbreviated handshake or, for an identity it no longer knows, flight 4.
        new(HandshakeState.ServerAwaitingSessionPsk, HandshakeInput.PskResolved, NoRecord, HandshakeAction.UseResolvedSessionPsk, HandshakeState.ServerExpectClientKeyExchange,
            Abbreviated: HandshakeState.ServerResumeExpectChangeCipherSpec),
        new(HandshakeState.ServerResumeExpectChangeCipherSpec, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ServerResumeExpectFinished),
        new(HandshakeState.ServerResumeExpectFinished, HandshakeInput.Finished, 1, HandshakeAction.ReadResumedClientFinished, HandshakeState.Established),

        new(HandshakeState.ClientNotStarted, HandshakeInput.Start, NoRecord, HandshakeAction.SendClientHello, HandshakeState.ClientExpectServerHello),
        new(HandshakeState.ClientExpectServerHello, HandshakeInput.HelloVerifyRequest, 0, HandshakeAction.ReadHelloVerifyRequest, HandshakeState.ClientExpectServerHello),
        new(HandshakeState.ClientExpectServerHello, HandshakeInput.ServerHello, 0, HandshakeAction.ReadServerHello, HandshakeState.ClientExpectServerKeyExchange,
            Abbreviated: HandshakeState.ClientResumeExpectChangeCipherSpec),
        new(HandshakeState.ClientExpectServerKeyExchange, HandshakeInput.ServerKeyExchange, 0, HandshakeAction.ReadServerKeyExchange, HandshakeState.ClientExpectServerHelloDone),
        new(HandshakeState.ClientExpectServerKeyExchange, HandshakeInput.ServerHelloDone, 0, HandshakeAction.ReadServerHelloDone, HandshakeState.ClientExpectChangeCipherSpec),
        new(HandshakeState.ClientExpectServerHelloDone, HandshakeInput.ServerHelloDone, 0, HandshakeAction.ReadServerHelloDone, HandshakeState.ClientExpectChangeCipherSpec),
        new(HandshakeState.ClientExpectChangeCipherSpec, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ClientExpectFinished),
        // RFC 5077 §3.3: a server that announced a ticket sends NewSessionTicket before its ChangeCipherSpec.
        new(HandshakeState.ClientExpectChangeCipherSpec, HandshakeInput.NewSessionTicket, 0, HandshakeAction.ReadNewSessionTicket, HandshakeState.ClientExpectChangeCipherSpecAfterTicket),
        new(HandshakeState.ClientExpectChangeCipherSpecAfterTicket, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ClientExpectFinished),
        new(HandshakeState.ClientExpectFinished, HandshakeInput.Finished, 1, HandshakeAction.ReadServerFinished, HandshakeState.Established),
        // Resumption: the ServerHello echoed our session_id.
        new(HandshakeState.ClientResumeExpectChangeCipherSpec, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ClientResumeExpectFinished),
        new(HandshakeState.ClientResumeExpectChangeCipherSpec, HandshakeInput.NewSessionTicket, 0, HandshakeAction.ReadNewSessionTicket, HandshakeState.ClientResumeExpectChangeCipherSpecAfterTicket),
        new(HandshakeState.ClientResumeExpectChangeCipherSpecAfterTicket, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ClientResumeExpectFinished),
        new(HandshakeState.ClientResumeExpectFinished, HandshakeInput.Finished, 1, HandshakeAction.ReadResumedServerFinished, HandshakeState.Established),
    ];

    private const int StateCount = (int)HandshakeState.Closed + 1;
    private const int InputCount = (int)HandshakeInput.PskResolved + 1;

    // (state, input) → index into Rows + 1; 0: no row. Built once from Rows, which keeps (state, input) unique.
    private static readonly byte[] s_index = BuildIndex();

    // Input → the one epoch its rows name (every message travels in one epoch in all states).
    private static readonly ushort[] s_epochOf = BuildEpochs();

    /// <summary>Looks up (state, input, epoch).</summary>
    /// <returns>
    /// <see cref="TableVerdict.Allowed"/> with the row; <see cref="TableVerdict.WrongEpoch"/> when the state takes
    /// this input but from another epoch (a forged or misplaced record: dropped, never fatal);
    /// <see cref="TableVerdict.NotAllowed"/> when the state does not take it at all.
    /// </returns>
    public static TableVerdict Find(HandshakeState state, HandshakeInput input, ushort epoch, out Row row)
    {
        var index = s_index[((int)state * InputCount) + (int)input];
        if (index == 0)
        {
            row = default;
            return TableVerdict.NotAllowed;
        }
        row = Rows[index - 1];
        return row.Epoch == epoch ? TableVerdict.Allowed : TableVerdict.WrongEpoch;
    }

    /// <summary>
    /// The epoch the table expects <paramref name="type"/>'s records in, to refuse a fragment before it is buffered;
    /// 0 for a type the table never takes (it is refused when complete).
    /// </summary>
    public static ushort RecordEpochOf(HandshakeType type)
        => TryGetInput(type, out var input) ? s_epochOf[(int)input] : (ushort)0;

    /// <summary>Maps a handshake message type to the table's input; false for types a PSK handshake never carries.</summary>
    public static bool TryGetInput(HandshakeType type, out HandshakeInput input)
    {
        switch (type)
        {
            case HandshakeType.ClientHello: input = HandshakeInput.ClientHello; return true;
            case HandshakeType.HelloVerifyRequest: input = HandshakeInput.HelloVerifyRequest; return true;
            case HandshakeType.ServerHello: input = HandshakeInput.ServerHello; return true;
            case HandshakeType.ServerKeyExchange: input = HandshakeInput.ServerKeyExchange; return true;
            case HandshakeType.ServerHelloDone: input = HandshakeInput.ServerHelloDone; return true;
            case HandshakeType.ClientKeyExchange: input = HandshakeInput.ClientKeyExchange; return true;
            case HandshakeType.Finished: input = HandshakeInput.Finished; return true;
            case HandshakeType.NewSessionTicket: input = HandshakeInput.NewSessionTicket; return true;
            default: input = default; return false;
        }
    }

    private static byte[] BuildIndex()
    {
        var index = new byte[StateCount * InputCount];
        for (var i = 0; i < Rows.Length; i++)
        {
            ref var slot = ref index[((int)Rows[i].State * InputCount) + (int)Rows[i].Input];
            if (slot != 0)
            {
                throw new InvalidOperationException($"HandshakeTable: two rows for ({Rows[i].State}, {Rows[i].Input}).");
            }
            slot = (byte)(i + 1);
        }
        return index;
    }

    private static ushort[] BuildEpochs()
    {
        var epochs = new ushort[InputCount];
        var seen = new bool[InputCount];
        foreach (var row in Rows)
        {
            var input = (int)row.Input;
            if (seen[input] && epochs[input] != row.Epoch)
            {
                throw new InvalidOperationException($"HandshakeTable: {row.Input} appears in two epochs.");
            }
            seen[input] = true;
            epochs[input] = row.Epoch;
        }
        return epochs;
    }
}

/// <summary>The table's answer for one (state, input, epoch).</summary>
internal enum TableVerdict : byte
{
    Allowed,
    WrongEpoch,
    NotAllowed,
}
