using HotDtls.Handshake;

namespace HotDtls.Tests.Handshake;

/// <summary>
/// Tests of the one handshake table (s2n-tls style): every row is walked, every (state, message, epoch) not in it
/// is rejected, and the table itself is compared with the RFC 6347 §4.2.4 flights written out here by hand.
/// </summary>
public sealed class HandshakeStateTests
{
    /// <summary>Epochs a record can claim: the two HotDtls uses, a renegotiation epoch, and the extreme.</summary>
    private static readonly ushort[] s_epochs = [0, 1, 2, ushort.MaxValue];

    /// <summary>The expected table, written independently of the source so a changed row must be changed here too.</summary>
    private static readonly (HandshakeState State, MessageKind Message, ushort Epoch, HandshakeState Next)[] s_expected =
    [
        // Server: flight 5 (flight 3 is the stateless cookie path).
        (HandshakeState.ServerExpectClientKeyExchange, MessageKind.ClientKeyExchange, 0, HandshakeState.ServerExpectChangeCipherSpec),
        (HandshakeState.ServerExpectChangeCipherSpec, MessageKind.ChangeCipherSpec, 0, HandshakeState.ServerExpectFinished),
        (HandshakeState.ServerExpectFinished, MessageKind.Finished, 1, HandshakeState.Established),
        // Client: flights 2, 4, 6.
        (HandshakeState.ClientExpectServerHello, MessageKind.HelloVerifyRequest, 0, HandshakeState.ClientExpectServerHello),
        (HandshakeState.ClientExpectServerHello, MessageKind.ServerHello, 0, HandshakeState.ClientExpectServerKeyExchange),
        (HandshakeState.ClientExpectServerKeyExchange, MessageKind.ServerKeyExchange, 0, HandshakeState.ClientExpectServerHelloDone),
        // ServerKeyExchange is optional for PSK when the server has no identity hint (RFC 4279 §2).
        (HandshakeState.ClientExpectServerKeyExchange, MessageKind.ServerHelloDone, 0, HandshakeState.ClientExpectChangeCipherSpec),
        (HandshakeState.ClientExpectServerHelloDone, MessageKind.ServerHelloDone, 0, HandshakeState.ClientExpectChangeCipherSpec),
        (HandshakeState.ClientExpectChangeCipherSpec, MessageKind.ChangeCipherSpec, 0, HandshakeState.ClientExpectFinished),
        (HandshakeState.ClientExpectFinished, MessageKind.Finished, 1, HandshakeState.Established),
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
    public void Every_row_returns_its_next_state(int index)
    {
        var row = HandshakeTable.Rows[index];

        Assert.True(HandshakeTable.TryGetNext(row.State, row.Message, row.Epoch, out var next));

        Assert.Equal(row.Next, next);
    }

    [Fact]
    public void The_table_is_exactly_the_documented_flights()
    {
        var actual = HandshakeTable.Rows.Select(r => (r.State, r.Message, r.Epoch, r.Next)).ToList();

        Assert.Equal(s_expected.Length, actual.Count);
        foreach (var row in s_expected)
        {
            Assert.Contains(row, actual);
        }
    }

    [Fact]
    public void No_two_rows_share_a_key()
    {
        var keys = HandshakeTable.Rows.Select(r => (r.State, r.Message, r.Epoch)).ToList();

        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void Every_combination_not_in_the_table_is_rejected_and_keeps_the_state()
    {
        var allowed = s_expected.Select(r => (r.State, r.Message, r.Epoch)).ToHashSet();
        var checkedCombinations = 0;

        foreach (var state in Enum.GetValues<HandshakeState>())
        {
            foreach (var message in Enum.GetValues<MessageKind>())
            {
                foreach (var epoch in s_epochs)
                {
                    if (allowed.Contains((state, message, epoch)))
                    {
                        continue;
                    }
                    checkedCombinations++;
                    Assert.False(HandshakeTable.TryGetNext(state, message, epoch, out var next),
                        $"({state}, {message}, epoch {epoch}) must be rejected");
                    Assert.Equal(state, next);
                }
            }
        }

        // 11 states × 7 kinds × 4 epochs, minus the 10 rows.
        Assert.Equal(11 * 7 * 4 - 10, checkedCombinations);
    }

    [Theory]
    [InlineData((byte)HandshakeState.Established)]
    [InlineData((byte)HandshakeState.Closed)]
    [InlineData((byte)HandshakeState.ServerAwaitingPsk)]
    public void States_that_wait_for_nothing_accept_no_message(byte stateValue)
    {
        var state = (HandshakeState)stateValue;
        foreach (var message in Enum.GetValues<MessageKind>())
        {
            foreach (var epoch in s_epochs)
            {
                Assert.False(HandshakeTable.TryGetNext(state, message, epoch, out _));
            }
        }
    }

    [Fact]
    public void Finished_is_allowed_only_in_epoch_1_and_everything_else_only_in_epoch_0()
    {
        // CVE-2021-42141 class: an epoch-0 Finished, or a ServerHello smuggled into epoch 1, must never advance.
        foreach (var row in HandshakeTable.Rows)
        {
            Assert.Equal(row.Message == MessageKind.Finished ? 1 : 0, row.Epoch);
        }
    }

    [Fact]
    public void Server_states_accept_only_client_messages_and_client_states_only_server_messages()
    {
        MessageKind[] fromServer = [MessageKind.HelloVerifyRequest, MessageKind.ServerHello, MessageKind.ServerKeyExchange, MessageKind.ServerHelloDone];
        foreach (var row in HandshakeTable.Rows)
        {
            var isServerState = row.State.ToString().StartsWith("Server", StringComparison.Ordinal);
            if (isServerState)
            {
                Assert.DoesNotContain(row.Message, fromServer);
            }
            else
            {
                Assert.NotEqual(MessageKind.ClientKeyExchange, row.Message);
            }
        }
    }

    [Theory]
    [InlineData((byte)HandshakeType.HelloVerifyRequest, (byte)MessageKind.HelloVerifyRequest)]
    [InlineData((byte)HandshakeType.ServerHello, (byte)MessageKind.ServerHello)]
    [InlineData((byte)HandshakeType.ServerKeyExchange, (byte)MessageKind.ServerKeyExchange)]
    [InlineData((byte)HandshakeType.ServerHelloDone, (byte)MessageKind.ServerHelloDone)]
    [InlineData((byte)HandshakeType.ClientKeyExchange, (byte)MessageKind.ClientKeyExchange)]
    [InlineData((byte)HandshakeType.Finished, (byte)MessageKind.Finished)]
    public void Psk_handshake_types_map_to_their_kind(byte type, byte expected)
    {
        Assert.True(HandshakeTable.TryGetKind((HandshakeType)type, out var kind));
        Assert.Equal((MessageKind)expected, kind);
    }

    [Fact]
    public void Types_a_psk_handshake_never_carries_have_no_kind()
    {
        // ClientHello goes through the cookie path (server) or is never received (client); the certificate messages
        // do not exist in a PSK handshake; HelloRequest is renegotiation. Also every undefined wire byte.
        var known = new HashSet<byte>
        {
            (byte)HandshakeType.HelloVerifyRequest, (byte)HandshakeType.ServerHello, (byte)HandshakeType.ServerKeyExchange,
            (byte)HandshakeType.ServerHelloDone, (byte)HandshakeType.ClientKeyExchange, (byte)HandshakeType.Finished,
        };
        for (var value = 0; value <= byte.MaxValue; value++)
        {
            if (known.Contains((byte)value))
            {
                continue;
            }
            Assert.False(HandshakeTable.TryGetKind((HandshakeType)value, out _), $"handshake type {value}");
        }
    }

    [Fact]
    public void Walking_the_server_rows_reaches_established()
    {
        var state = HandshakeState.ServerExpectClientKeyExchange;
        (MessageKind, ushort)[] flight5 = [(MessageKind.ClientKeyExchange, 0), (MessageKind.ChangeCipherSpec, 0), (MessageKind.Finished, 1)];
        foreach (var (message, epoch) in flight5)
        {
            Assert.True(HandshakeTable.TryGetNext(state, message, epoch, out state));
        }
        Assert.Equal(HandshakeState.Established, state);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Walking_the_client_rows_reaches_established(bool withServerKeyExchange)
    {
        var state = HandshakeState.ClientExpectServerHello;
        var messages = new List<(MessageKind, ushort)> { (MessageKind.HelloVerifyRequest, 0), (MessageKind.ServerHello, 0) };
        if (withServerKeyExchange)
        {
            messages.Add((MessageKind.ServerKeyExchange, 0));
        }
        messages.AddRange([(MessageKind.ServerHelloDone, 0), (MessageKind.ChangeCipherSpec, 0), (MessageKind.Finished, 1)]);
        foreach (var (message, epoch) in messages)
        {
            Assert.True(HandshakeTable.TryGetNext(state, message, epoch, out state), $"{message} in {state}");
        }
        Assert.Equal(HandshakeState.Established, state);
    }
}
