using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

/// <summary>
/// Tests of the one handshake table (s2n-tls style): every row is found with its action and states, every
/// (state, input, epoch) not in it is refused — as a wrong epoch where the state takes the input from another epoch,
/// as not allowed otherwise — and the table is compared with the RFC 6347 §4.2.4 flights written out here by hand.
/// </summary>
public sealed class HandshakeTableTests
{
    /// <summary>Epochs a record can claim: the two HotDtls uses, a renegotiation epoch, the extreme, and "no record".</summary>
    private static readonly ushort[] s_epochs = [0, 1, 2, ushort.MaxValue - 1, HandshakeTable.NoRecord];

    /// <summary>The expected table, written independently of the source so a changed row must be changed here too.</summary>
    private static readonly (HandshakeState State, HandshakeInput Input, ushort Epoch, HandshakeAction Action, HandshakeState Next, HandshakeState Wait, HandshakeState Abbreviated)[] s_expected =
    [
        // Server: flight 3 (admitted by the cookie check), flight 5, and the wait for an asynchronous PSK store.
        // The ClientHello may name a cached session: wait for the PSK store to confirm its identity, or go straight to
        // the abbreviated handshake when the store answers at once.
        (HandshakeState.ServerExpectClientHello, HandshakeInput.ClientHello, 0, HandshakeAction.ReadClientHello, HandshakeState.ServerExpectClientKeyExchange, HandshakeState.ServerAwaitingSessionPsk, HandshakeState.ServerResumeExpectChangeCipherSpec),
        (HandshakeState.ServerExpectClientKeyExchange, HandshakeInput.ClientKeyExchange, 0, HandshakeAction.ReadClientKeyExchange, HandshakeState.ServerExpectChangeCipherSpec, HandshakeState.ServerAwaitingPsk, HandshakeState.Closed),
        (HandshakeState.ServerAwaitingPsk, HandshakeInput.PskResolved, HandshakeTable.NoRecord, HandshakeAction.UseResolvedPsk, HandshakeState.ServerExpectChangeCipherSpec, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ServerExpectChangeCipherSpec, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ServerExpectFinished, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ServerExpectFinished, HandshakeInput.Finished, 1, HandshakeAction.ReadClientFinished, HandshakeState.Established, HandshakeState.Closed, HandshakeState.Closed),
        // Server resumption (RFC 5246 §7.3): the store's answer picks the abbreviated flight or flight 4; then the
        // client's ChangeCipherSpec and Finished.
        (HandshakeState.ServerAwaitingSessionPsk, HandshakeInput.PskResolved, HandshakeTable.NoRecord, HandshakeAction.UseResolvedSessionPsk, HandshakeState.ServerExpectClientKeyExchange, HandshakeState.Closed, HandshakeState.ServerResumeExpectChangeCipherSpec),
        (HandshakeState.ServerResumeExpectChangeCipherSpec, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ServerResumeExpectFinished, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ServerResumeExpectFinished, HandshakeInput.Finished, 1, HandshakeAction.ReadResumedClientFinished, HandshakeState.Established, HandshakeState.Closed, HandshakeState.Closed),
        // Client: flight 1 on start, then flights 2, 4, 6.
        (HandshakeState.ClientNotStarted, HandshakeInput.Start, HandshakeTable.NoRecord, HandshakeAction.SendClientHello, HandshakeState.ClientExpectServerHello, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ClientExpectServerHello, HandshakeInput.HelloVerifyRequest, 0, HandshakeAction.ReadHelloVerifyRequest, HandshakeState.ClientExpectServerHello, HandshakeState.Closed, HandshakeState.Closed),
        // A ServerHello echoing our session_id starts the abbreviated handshake.
        (HandshakeState.ClientExpectServerHello, HandshakeInput.ServerHello, 0, HandshakeAction.ReadServerHello, HandshakeState.ClientExpectServerKeyExchange, HandshakeState.Closed, HandshakeState.ClientResumeExpectChangeCipherSpec),
        (HandshakeState.ClientExpectServerKeyExchange, HandshakeInput.ServerKeyExchange, 0, HandshakeAction.ReadServerKeyExchange, HandshakeState.ClientExpectServerHelloDone, HandshakeState.Closed, HandshakeState.Closed),
        // ServerKeyExchange is optional for PSK when the server has no identity hint (RFC 4279 §2).
        (HandshakeState.ClientExpectServerKeyExchange, HandshakeInput.ServerHelloDone, 0, HandshakeAction.ReadServerHelloDone, HandshakeState.ClientExpectChangeCipherSpec, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ClientExpectServerHelloDone, HandshakeInput.ServerHelloDone, 0, HandshakeAction.ReadServerHelloDone, HandshakeState.ClientExpectChangeCipherSpec, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ClientExpectChangeCipherSpec, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ClientExpectFinished, HandshakeState.Closed, HandshakeState.Closed),
        // RFC 5077 §3.3: NewSessionTicket before the server's ChangeCipherSpec (full and abbreviated handshakes).
        (HandshakeState.ClientExpectChangeCipherSpec, HandshakeInput.NewSessionTicket, 0, HandshakeAction.ReadNewSessionTicket, HandshakeState.ClientExpectChangeCipherSpecAfterTicket, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ClientExpectChangeCipherSpecAfterTicket, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ClientExpectFinished, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ClientResumeExpectChangeCipherSpec, HandshakeInput.NewSessionTicket, 0, HandshakeAction.ReadNewSessionTicket, HandshakeState.ClientResumeExpectChangeCipherSpecAfterTicket, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ClientResumeExpectChangeCipherSpecAfterTicket, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ClientResumeExpectFinished, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ClientExpectFinished, HandshakeInput.Finished, 1, HandshakeAction.ReadServerFinished, HandshakeState.Established, HandshakeState.Closed, HandshakeState.Closed),
        // Client resumption: the server's ChangeCipherSpec and Finished, answered with our final flight.
        (HandshakeState.ClientResumeExpectChangeCipherSpec, HandshakeInput.ChangeCipherSpec, 0, HandshakeAction.ActivateReadEpoch, HandshakeState.ClientResumeExpectFinished, HandshakeState.Closed, HandshakeState.Closed),
        (HandshakeState.ClientResumeExpectFinished, HandshakeInput.Finished, 1, HandshakeAction.ReadResumedServerFinished, HandshakeState.Established, HandshakeState.Closed, HandshakeState.Closed),
    ];

    public static TheoryData<int> RowIndexes()
    {
        var data = new TheoryData<int>();
        for (var i = 0; i < HandshakeTable.Rows.Length; i++)
        {
            data.Add(i);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(RowIndexes))]
    public void Every_row_is_found_with_its_action_and_states(int index)
    {
        var row = HandshakeTable.Rows[index];

        Assert.Equal(TableVerdict.Allowed, HandshakeTable.Find(row.State, row.Input, row.Epoch, out var found));

        Assert.Equal(row, found);
    }

    [Fact]
    public void The_table_is_exactly_the_documented_flights()
    {
        var actual = new List<(HandshakeState, HandshakeInput, ushort, HandshakeAction, HandshakeState, HandshakeState, HandshakeState)>();
        foreach (var row in HandshakeTable.Rows)
        {
            actual.Add((row.State, row.Input, row.Epoch, row.Action, row.Next, row.Wait, row.Abbreviated));
        }

        Assert.Equal(s_expected.Length, actual.Count);
        foreach (var row in s_expected)
        {
            Assert.Contains(row, actual);
        }
    }

    [Fact]
    public void Every_combination_not_in_the_table_is_refused_and_says_why()
    {
        var allowed = new HashSet<(HandshakeState, HandshakeInput, ushort)>();
        var takes = new HashSet<(HandshakeState, HandshakeInput)>();
        foreach (var row in s_expected)
        {
            allowed.Add((row.State, row.Input, row.Epoch));
            takes.Add((row.State, row.Input));
        }
        var checkedCombinations = 0;
        foreach (var state in Enum.GetValues<HandshakeState>())
        {
            foreach (var input in Enum.GetValues<HandshakeInput>())
            {
                foreach (var epoch in s_epochs)
                {
                    if (allowed.Contains((state, input, epoch)))
                    {
                        continue;
                    }
                    checkedCombinations++;
                    var expected = takes.Contains((state, input)) ? TableVerdict.WrongEpoch : TableVerdict.NotAllowed;
                    Assert.True(expected == HandshakeTable.Find(state, input, epoch, out _),
                        $"({state}, {input}, epoch {epoch}) must be {expected}");
                }
            }
        }

        var states = Enum.GetValues<HandshakeState>().Length;
        var inputs = Enum.GetValues<HandshakeInput>().Length;
        Assert.Equal((states * inputs * s_epochs.Length) - s_expected.Length, checkedCombinations);
    }

    [Theory]
    [InlineData((byte)HandshakeState.Established)]
    [InlineData((byte)HandshakeState.Closed)]
    public void States_after_the_handshake_take_nothing(byte stateValue)
    {
        var state = (HandshakeState)stateValue;
        foreach (var input in Enum.GetValues<HandshakeInput>())
        {
            foreach (var epoch in s_epochs)
            {
                Assert.Equal(TableVerdict.NotAllowed, HandshakeTable.Find(state, input, epoch, out _));
            }
        }
    }

    [Fact]
    public void Waiting_for_the_psk_store_takes_only_its_answer()
    {
        foreach (var input in Enum.GetValues<HandshakeInput>())
        {
            var verdict = HandshakeTable.Find(HandshakeState.ServerAwaitingPsk, input, HandshakeTable.NoRecord, out _);
            Assert.Equal(input == HandshakeInput.PskResolved ? TableVerdict.Allowed : TableVerdict.NotAllowed, verdict);
        }
        // The answer is a local event: it never arrives in a record.
        Assert.Equal(TableVerdict.WrongEpoch, HandshakeTable.Find(HandshakeState.ServerAwaitingPsk, HandshakeInput.PskResolved, 0, out _));
    }

    [Fact]
    public void Only_the_psk_lookups_may_wait()
    {
        // The ClientKeyExchange of a full handshake, and the ClientHello naming a cached session (its identity is
        // checked with the store before the abbreviated flight goes out).
        foreach (var row in HandshakeTable.Rows)
        {
            var expected = row.Input switch
            {
                HandshakeInput.ClientKeyExchange => HandshakeState.ServerAwaitingPsk,
                HandshakeInput.ClientHello => HandshakeState.ServerAwaitingSessionPsk,
                _ => HandshakeState.Closed,
            };
            Assert.Equal(expected, row.Wait);
        }
    }

    [Fact]
    public void Only_the_hellos_and_the_resumption_lookup_may_choose_the_abbreviated_handshake()
    {
        foreach (var row in HandshakeTable.Rows)
        {
            var expected = (row.State, row.Input) switch
            {
                (HandshakeState.ServerExpectClientHello, HandshakeInput.ClientHello) => HandshakeState.ServerResumeExpectChangeCipherSpec,
                (HandshakeState.ServerAwaitingSessionPsk, HandshakeInput.PskResolved) => HandshakeState.ServerResumeExpectChangeCipherSpec,
                (HandshakeState.ClientExpectServerHello, HandshakeInput.ServerHello) => HandshakeState.ClientResumeExpectChangeCipherSpec,
                _ => HandshakeState.Closed,
            };
            Assert.Equal(expected, row.Abbreviated);
        }
    }

    [Fact]
    public void Waiting_for_the_resumption_lookup_takes_only_its_answer()
    {
        foreach (var input in Enum.GetValues<HandshakeInput>())
        {
            var verdict = HandshakeTable.Find(HandshakeState.ServerAwaitingSessionPsk, input, HandshakeTable.NoRecord, out _);
            Assert.Equal(input == HandshakeInput.PskResolved ? TableVerdict.Allowed : TableVerdict.NotAllowed, verdict);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Walking_the_server_resumption_rows_reaches_established(bool pskLookupWaits)
    {
        var state = HandshakeState.ServerExpectClientHello;
        Assert.Equal(TableVerdict.Allowed, HandshakeTable.Find(state, HandshakeInput.ClientHello, 0, out var hello));
        state = pskLookupWaits ? hello.Wait : hello.Abbreviated;
        if (pskLookupWaits)
        {
            Assert.Equal(TableVerdict.Allowed, HandshakeTable.Find(state, HandshakeInput.PskResolved, HandshakeTable.NoRecord, out var resolved));
            state = resolved.Abbreviated;
        }
        Assert.Equal(HandshakeState.ServerResumeExpectChangeCipherSpec, state);
        // The client sends no ClientKeyExchange in an abbreviated handshake.
        Assert.Equal(TableVerdict.NotAllowed, HandshakeTable.Find(state, HandshakeInput.ClientKeyExchange, 0, out _));
        // Finished before ChangeCipherSpec is no row (HOSTILE 30).
        Assert.Equal(TableVerdict.NotAllowed, HandshakeTable.Find(state, HandshakeInput.Finished, 1, out _));
        state = Take(state, HandshakeInput.ChangeCipherSpec, 0, wait: false);
        state = Take(state, HandshakeInput.Finished, 1, wait: false);
        Assert.Equal(HandshakeState.Established, state);
    }

    [Fact]
    public void Walking_the_client_resumption_rows_reaches_established()
    {
        var state = Take(HandshakeState.ClientNotStarted, HandshakeInput.Start, HandshakeTable.NoRecord, wait: false);
        state = Take(state, HandshakeInput.HelloVerifyRequest, 0, wait: false);
        Assert.Equal(TableVerdict.Allowed, HandshakeTable.Find(state, HandshakeInput.ServerHello, 0, out var hello));
        state = hello.Abbreviated;
        // No ServerKeyExchange or ServerHelloDone in an abbreviated handshake.
        Assert.Equal(TableVerdict.NotAllowed, HandshakeTable.Find(state, HandshakeInput.ServerKeyExchange, 0, out _));
        Assert.Equal(TableVerdict.NotAllowed, HandshakeTable.Find(state, HandshakeInput.ServerHelloDone, 0, out _));
        state = Take(state, HandshakeInput.ChangeCipherSpec, 0, wait: false);
        state = Take(state, HandshakeInput.Finished, 1, wait: false);
        Assert.Equal(HandshakeState.Established, state);
    }

    [Fact]
    public void Finished_travels_in_epoch_1_local_events_in_no_record_and_everything_else_in_epoch_0()
    {
        // CVE-2021-42141 class: an epoch-0 Finished, or a ServerHello smuggled into epoch 1, must never advance.
        foreach (var row in HandshakeTable.Rows)
        {
            var expected = row.Input switch
            {
                HandshakeInput.Finished => 1,
                HandshakeInput.Start or HandshakeInput.PskResolved => HandshakeTable.NoRecord,
                _ => 0,
            };
            Assert.Equal(expected, row.Epoch);
        }
    }

    [Theory]
    [InlineData((byte)HandshakeType.Finished, 1)]
    [InlineData((byte)HandshakeType.ClientHello, 0)]
    [InlineData((byte)HandshakeType.ServerHello, 0)]
    [InlineData((byte)HandshakeType.ClientKeyExchange, 0)]
    [InlineData((byte)HandshakeType.HelloRequest, 0)]
    [InlineData((byte)HandshakeType.Certificate, 0)]
    [InlineData(200, 0)]
    public void The_epoch_a_fragment_must_arrive_in_comes_from_the_table(byte type, ushort expected)
        => Assert.Equal(expected, HandshakeTable.RecordEpochOf((HandshakeType)type));

    [Fact]
    public void Server_states_take_only_client_messages_and_client_states_only_server_messages()
    {
        HandshakeInput[] fromServer = [HandshakeInput.HelloVerifyRequest, HandshakeInput.ServerHello, HandshakeInput.ServerKeyExchange, HandshakeInput.ServerHelloDone, HandshakeInput.NewSessionTicket];
        HandshakeInput[] fromClient = [HandshakeInput.ClientHello, HandshakeInput.ClientKeyExchange, HandshakeInput.PskResolved];
        foreach (var row in HandshakeTable.Rows)
        {
            var isServerState = row.State.ToString().StartsWith("Server", StringComparison.Ordinal);
            Assert.DoesNotContain(row.Input, isServerState ? fromServer : fromClient);
        }
    }

    [Theory]
    [InlineData((byte)HandshakeType.ClientHello, (byte)HandshakeInput.ClientHello)]
    [InlineData((byte)HandshakeType.HelloVerifyRequest, (byte)HandshakeInput.HelloVerifyRequest)]
    [InlineData((byte)HandshakeType.ServerHello, (byte)HandshakeInput.ServerHello)]
    [InlineData((byte)HandshakeType.ServerKeyExchange, (byte)HandshakeInput.ServerKeyExchange)]
    [InlineData((byte)HandshakeType.ServerHelloDone, (byte)HandshakeInput.ServerHelloDone)]
    [InlineData((byte)HandshakeType.ClientKeyExchange, (byte)HandshakeInput.ClientKeyExchange)]
    [InlineData((byte)HandshakeType.Finished, (byte)HandshakeInput.Finished)]
    [InlineData((byte)HandshakeType.NewSessionTicket, (byte)HandshakeInput.NewSessionTicket)]
    public void Psk_handshake_types_map_to_their_input(byte type, byte expected)
    {
        Assert.True(HandshakeTable.TryGetInput((HandshakeType)type, out var input));
        Assert.Equal((HandshakeInput)expected, input);
    }

    [Fact]
    public void Types_a_psk_handshake_never_carries_have_no_input()
    {
        // The certificate messages do not exist in a PSK handshake; HelloRequest is renegotiation. Also every
        // undefined wire byte.
        var known = new HashSet<byte>
        {
            (byte)HandshakeType.ClientHello, (byte)HandshakeType.HelloVerifyRequest, (byte)HandshakeType.ServerHello,
            (byte)HandshakeType.ServerKeyExchange, (byte)HandshakeType.ServerHelloDone, (byte)HandshakeType.ClientKeyExchange,
            (byte)HandshakeType.Finished, (byte)HandshakeType.NewSessionTicket,
        };
        for (var value = 0; value <= byte.MaxValue; value++)
        {
            if (known.Contains((byte)value))
            {
                continue;
            }
            Assert.False(HandshakeTable.TryGetInput((HandshakeType)value, out _), $"handshake type {value}");
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Walking_the_server_rows_reaches_established(bool pskLookupWaits)
    {
        var state = HandshakeState.ServerExpectClientHello;
        state = Take(state, HandshakeInput.ClientHello, 0, wait: false);
        state = Take(state, HandshakeInput.ClientKeyExchange, 0, wait: pskLookupWaits);
        if (pskLookupWaits)
        {
            Assert.Equal(HandshakeState.ServerAwaitingPsk, state);
            state = Take(state, HandshakeInput.PskResolved, HandshakeTable.NoRecord, wait: false);
        }
        state = Take(state, HandshakeInput.ChangeCipherSpec, 0, wait: false);
        state = Take(state, HandshakeInput.Finished, 1, wait: false);
        Assert.Equal(HandshakeState.Established, state);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Walking_the_client_rows_reaches_established(bool cookieExchange, bool withServerKeyExchange)
    {
        var state = Take(HandshakeState.ClientNotStarted, HandshakeInput.Start, HandshakeTable.NoRecord, wait: false);
        if (cookieExchange)
        {
            state = Take(state, HandshakeInput.HelloVerifyRequest, 0, wait: false);
        }
        state = Take(state, HandshakeInput.ServerHello, 0, wait: false);
        if (withServerKeyExchange)
        {
            state = Take(state, HandshakeInput.ServerKeyExchange, 0, wait: false);
        }
        state = Take(state, HandshakeInput.ServerHelloDone, 0, wait: false);
        state = Take(state, HandshakeInput.ChangeCipherSpec, 0, wait: false);
        state = Take(state, HandshakeInput.Finished, 1, wait: false);
        Assert.Equal(HandshakeState.Established, state);
    }

    private static HandshakeState Take(HandshakeState state, HandshakeInput input, ushort epoch, bool wait)
    {
        Assert.True(TableVerdict.Allowed == HandshakeTable.Find(state, input, epoch, out var row), $"{input} in {state}");
        return wait ? row.Wait : row.Next;
    }
}
