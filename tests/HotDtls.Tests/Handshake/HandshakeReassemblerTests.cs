using HotDtls.Handshake;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Handshake;

public sealed class HandshakeReassemblerTests
{
    private static readonly byte[] s_clientHello = OpenSslCapture.Body(OpenSslCapture.ClientHelloWithCookie);

    [Fact]
    public void Single_complete_message_is_available_until_advanced()
    {
        using var reassembler = new HandshakeReassembler();

        Assert.Equal(FragmentStatus.Complete, AddWhole(reassembler, HandshakeType.ClientHello, 0, s_clientHello));

        Assert.Equal(s_clientHello.Length, reassembler.BufferedBytes);
        AssertNext(reassembler, HandshakeType.ClientHello, s_clientHello);
        reassembler.Advance();
        Assert.Equal(1, reassembler.NextSequence);
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.False(reassembler.TryGetNext(out _, out _));
    }

    [Fact]
    public void Golden_message_fed_through_its_own_header_completes()
    {
        byte[] message = OpenSslCapture.ClientHelloWithoutCookie;
        Assert.True(HandshakeHeader.TryRead(message, out HandshakeHeader header));
        using var reassembler = new HandshakeReassembler();

        Assert.Equal(FragmentStatus.Complete, reassembler.Add(header, message.AsSpan(HandshakeHeader.Size)));

        AssertNext(reassembler, HandshakeType.ClientHello, OpenSslCapture.Body(message));
    }

    [Fact]
    public void Empty_message_completes_without_a_buffer()
    {
        using var reassembler = new HandshakeReassembler { NextSequence = 3 };

        Assert.Equal(FragmentStatus.Complete, reassembler.Add(new HandshakeHeader(HandshakeType.ServerHelloDone, 0, 3, 0, 0), default));

        Assert.True(reassembler.TryGetNext(out HandshakeType type, out ReadOnlySpan<byte> body));
        Assert.Equal(HandshakeType.ServerHelloDone, type);
        Assert.True(body.IsEmpty);
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Two_byte_fragments_in_order_complete_on_the_last_one()
    {
        AssertReassembles(TwoByteFragments(s_clientHello.Length));
    }

    [Fact]
    public void Two_byte_fragments_reversed_complete()
    {
        List<(int Offset, int Length)> fragments = TwoByteFragments(s_clientHello.Length);
        fragments.Reverse();
        AssertReassembles(fragments);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(42)]
    [InlineData(2024)]
    public void Two_byte_fragments_shuffled_complete(int seed)
    {
        List<(int Offset, int Length)> fragments = TwoByteFragments(s_clientHello.Length);
        Shuffle(fragments, new Random(seed));
        AssertReassembles(fragments);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(99)]
    public void Duplicated_and_overlapping_fragments_complete(int seed)
    {
        var random = new Random(seed);
        var fragments = new List<(int Offset, int Length)>();
        foreach ((int offset, int length) in TwoByteFragments(s_clientHello.Length))
        {
            fragments.Add((offset, length));
            fragments.Add((offset, length));
        }

        // Fragments straddling the 2-byte boundaries, of odd lengths, plus one covering everything.
        for (int i = 0; i < 40; i++)
        {
            int offset = random.Next(s_clientHello.Length);
            fragments.Add((offset, random.Next(s_clientHello.Length - offset + 1)));
        }

        fragments.Add((0, s_clientHello.Length));
        Shuffle(fragments, random);
        AssertReassembles(fragments);
    }

    [Fact]
    public void Fragment_past_the_message_end_is_rejected()
    {
        using var reassembler = new HandshakeReassembler();

        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 10, 0, 9, 2), new byte[2]));
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 10, 0, 0xFFFFFF, 0xFFFFFF), default));
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Fragment_length_that_disagrees_with_the_bytes_given_is_rejected()
    {
        using var reassembler = new HandshakeReassembler();

        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 10, 0, 0, 4), new byte[3]));
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 10, 0, 0, 4), new byte[5]));
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Huge_declared_length_is_rejected_before_anything_is_allocated()
    {
        using var reassembler = new HandshakeReassembler();
        var header = new HandshakeHeader(HandshakeType.ClientHello, 0xFFFFFF, 0, 0, 16);
        var fragment = new byte[16];
        reassembler.Add(header, fragment);

        long before = GC.GetAllocatedBytesForCurrentThread();
        FragmentStatus status = reassembler.Add(header, fragment);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(FragmentStatus.Rejected, status);
        Assert.Equal(0, allocated);
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Message_length_cap_is_inclusive()
    {
        using var reassembler = new HandshakeReassembler();
        int cap = HandshakeReassembler.DefaultMaxMessageLength;

        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, cap + 1, 0, 0, 1), new byte[1]));
        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, cap, 0, 0, 1), new byte[1]));
        Assert.Equal(cap, reassembler.BufferedBytes);
    }

    [Fact]
    public void Sequences_beyond_the_lookahead_are_rejected()
    {
        using var reassembler = new HandshakeReassembler { NextSequence = 5 };
        int lookahead = HandshakeReassembler.DefaultMaxLookahead;

        Assert.Equal(FragmentStatus.Rejected, AddWhole(reassembler, HandshakeType.Finished, 5 + 1000, new byte[12]));
        Assert.Equal(FragmentStatus.Rejected, AddWhole(reassembler, HandshakeType.Finished, (ushort)(5 + lookahead), new byte[12]));
        Assert.Equal(FragmentStatus.Buffered, AddWhole(reassembler, HandshakeType.Finished, (ushort)(5 + lookahead - 1), new byte[12]));
        Assert.Equal(FragmentStatus.Rejected, AddWhole(reassembler, HandshakeType.Finished, ushort.MaxValue, new byte[12]));
        Assert.Equal(12, reassembler.BufferedBytes);
    }

    [Fact]
    public void Flood_of_fragments_far_ahead_buffers_nothing()
    {
        using var reassembler = new HandshakeReassembler();
        for (int i = 1; i <= 1000; i++)
        {
            FragmentStatus status = AddWhole(reassembler, HandshakeType.ClientKeyExchange, (ushort)(HandshakeReassembler.DefaultMaxLookahead + i), new byte[100]);
            Assert.Equal(FragmentStatus.Rejected, status);
        }

        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Zero_length_fragments_neither_grow_nor_allocate()
    {
        using var reassembler = new HandshakeReassembler();
        var header = new HandshakeHeader(HandshakeType.ClientHello, 100, 0, 50, 0);
        var partial = new HandshakeHeader(HandshakeType.ClientHello, 100, 1, 0, 10);

        // Warm up the paths measured below.
        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(header, default));
        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(partial, new byte[10]));
        var partialEmpty = new HandshakeHeader(HandshakeType.ClientHello, 100, 1, 60, 0);
        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(partialEmpty, default));
        int buffered = reassembler.BufferedBytes;

        var changed = false;
        long allocated = Allocations.Least(_ =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                // Without a slot (seq 0) and into an existing partial message (seq 1).
                changed |= reassembler.Add(header, default) != FragmentStatus.Buffered
                    || reassembler.Add(partialEmpty, default) != FragmentStatus.Buffered;
            }
        });

        Assert.False(changed, "A zero-length fragment changed the outcome.");
        Assert.Equal(0, allocated);
        Assert.Equal(buffered, reassembler.BufferedBytes);

        // Only the partial message at seq 1 holds memory, counted at its declared length.
        Assert.Equal(100, buffered);
        Assert.False(reassembler.TryGetNext(out _, out _));
    }

    [Fact]
    public void Inconsistent_length_or_type_is_rejected_and_the_message_still_completes()
    {
        using var reassembler = new HandshakeReassembler();
        int length = s_clientHello.Length;
        Assert.Equal(FragmentStatus.Buffered, AddFragment(reassembler, 0, 0, 10));

        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, length + 1, 0, 10, 10), s_clientHello.AsSpan(10, 10)));
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ServerHello, length, 0, 10, 10), s_clientHello.AsSpan(10, 10)));
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ServerHello, length, 0, 10, 0), default));
        Assert.Equal(length, reassembler.BufferedBytes);

        Assert.Equal(FragmentStatus.Complete, AddFragment(reassembler, 0, 10, length - 10));
        AssertNext(reassembler, HandshakeType.ClientHello, s_clientHello);

        // Once complete, an inconsistent fragment is still refused and changes nothing.
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 5, 0, 0, 5), new byte[5]));
        AssertNext(reassembler, HandshakeType.ClientHello, s_clientHello);
    }

    [Fact]
    public void Buffering_cap_plus_one_is_rejected()
    {
        using var reassembler = new HandshakeReassembler(maxMessageLength: 100, maxBufferedBytes: 150);

        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 100, 0, 0, 1), new byte[1]));
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 51, 1, 0, 1), new byte[1]));
        Assert.Equal(100, reassembler.BufferedBytes);
        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 50, 1, 0, 1), new byte[1]));
        Assert.Equal(150, reassembler.BufferedBytes);
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.Finished, 1, 2, 0, 1), new byte[1]));

        // An empty message needs no buffer, so it still fits; seq 0 is incomplete, hence Buffered.
        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(new HandshakeHeader(HandshakeType.Finished, 0, 2, 0, 0), default));
        Assert.Equal(150, reassembler.BufferedBytes);
    }

    [Fact]
    public void Default_buffering_cap_holds_two_maximal_messages_and_nothing_more()
    {
        using var reassembler = new HandshakeReassembler();
        int max = HandshakeReassembler.DefaultMaxMessageLength;
        Assert.Equal(HandshakeReassembler.DefaultMaxBufferedBytes, 2 * max);

        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, max, 0, 0, 1), new byte[1]));
        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, max, 1, 0, 1), new byte[1]));
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(new HandshakeHeader(HandshakeType.ClientHello, 1, 2, 0, 1), new byte[1]));
        Assert.Equal(HandshakeReassembler.DefaultMaxBufferedBytes, reassembler.BufferedBytes);
    }

    [Fact]
    public void Clear_and_dispose_return_every_buffer()
    {
        var reassembler = new HandshakeReassembler();
        AddWhole(reassembler, HandshakeType.ClientHello, 0, s_clientHello);
        AddFragment(reassembler, 2, 0, 10);
        reassembler.Add(new HandshakeHeader(HandshakeType.Finished, 12, 3, 0, 6), new byte[6]);
        Assert.Equal(s_clientHello.Length * 2 + 12, reassembler.BufferedBytes);

        reassembler.Clear();

        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.False(reassembler.TryGetNext(out _, out _));
        Assert.Equal(0, reassembler.NextSequence);

        // Still usable after Clear, and Dispose releases what was added since.
        Assert.Equal(FragmentStatus.Complete, AddWhole(reassembler, HandshakeType.ClientHello, 0, s_clientHello));
        reassembler.Dispose();
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Sequence_below_next_is_old_and_changes_nothing()
    {
        using var reassembler = new HandshakeReassembler { NextSequence = 2 };

        Assert.Equal(FragmentStatus.Old, AddWhole(reassembler, HandshakeType.ClientHello, 1, s_clientHello));
        Assert.Equal(FragmentStatus.Old, AddWhole(reassembler, HandshakeType.ClientHello, 0, s_clientHello));
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.Equal(2, reassembler.NextSequence);
    }

    [Fact]
    public void Advance_moves_to_a_message_that_is_already_complete()
    {
        using var reassembler = new HandshakeReassembler();
        byte[] keyExchange = OpenSslCapture.Body(OpenSslCapture.ClientKeyExchange);
        byte[] finished = OpenSslCapture.Body(OpenSslCapture.ClientFinished);

        Assert.Equal(FragmentStatus.Buffered, AddWhole(reassembler, HandshakeType.Finished, 1, finished));
        Assert.False(reassembler.TryGetNext(out _, out _));
        Assert.Equal(FragmentStatus.Complete, AddWhole(reassembler, HandshakeType.ClientKeyExchange, 0, keyExchange));

        AssertNext(reassembler, HandshakeType.ClientKeyExchange, keyExchange);
        reassembler.Advance();
        AssertNext(reassembler, HandshakeType.Finished, finished);
        reassembler.Advance();
        Assert.False(reassembler.TryGetNext(out _, out _));
        Assert.Equal(0, reassembler.BufferedBytes);
        Assert.Equal(2, reassembler.NextSequence);
    }

    [Fact]
    public void Complete_is_reported_for_any_fragment_while_next_is_complete()
    {
        using var reassembler = new HandshakeReassembler();
        AddWhole(reassembler, HandshakeType.ClientHello, 0, s_clientHello);

        Assert.Equal(FragmentStatus.Complete, reassembler.Add(new HandshakeHeader(HandshakeType.Finished, 12, 1, 0, 6), new byte[6]));
        Assert.Equal(FragmentStatus.Complete, AddWhole(reassembler, HandshakeType.ClientHello, 0, s_clientHello));
        AssertNext(reassembler, HandshakeType.ClientHello, s_clientHello);
    }

    [Fact]
    public void Moving_next_sequence_releases_messages_left_outside_the_window()
    {
        using var reassembler = new HandshakeReassembler();
        AddWhole(reassembler, HandshakeType.ClientHello, 0, s_clientHello);
        AddWhole(reassembler, HandshakeType.Finished, 3, new byte[12]);

        reassembler.NextSequence = 3;

        Assert.Equal(12, reassembler.BufferedBytes);
        AssertNext(reassembler, HandshakeType.Finished, new byte[12]);
        reassembler.NextSequence = 100;
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    [Fact]
    public void Constructor_refuses_impossible_caps()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeReassembler(maxMessageLength: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeReassembler(maxMessageLength: 0x1000000));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeReassembler(maxBufferedBytes: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeReassembler(maxLookahead: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new HandshakeReassembler(maxLookahead: HandshakeReassembler.MaxLookaheadLimit + 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_fragments_never_throw_and_never_exceed_the_caps(int seed)
    {
        var random = new Random(seed);
        using var reassembler = new HandshakeReassembler(maxMessageLength: 300, maxBufferedBytes: 500, maxLookahead: 3);
        var data = new byte[400];
        int completed = 0;
        for (int i = 0; i < 50_000; i++)
        {
            // Mostly honest fragments (type and length fixed per message_seq) so messages do complete,
            // salted with lies about type, length, offset, fragment length and sequence.
            var sequence = (ushort)Math.Max(0, reassembler.NextSequence - 1 + random.Next(6));
            bool lie = random.Next(8) == 0;
            int length = lie ? random.Next(320) : sequence * 37 % 301;
            var type = (HandshakeType)(lie ? random.Next(3) : sequence % 3);
            int offset = lie ? random.Next(length + 20) : random.Next(length + 1);
            int fragmentLength = lie ? random.Next(Math.Max(1, length - offset + 10)) : random.Next(Math.Min(64, length - offset) + 1);
            var header = new HandshakeHeader(type, length, sequence, offset, fragmentLength);
            int given = random.Next(10) == 0 ? random.Next(data.Length) : fragmentLength;

            FragmentStatus status = reassembler.Add(header, data.AsSpan(0, Math.Min(given, data.Length)));

            Assert.InRange(reassembler.BufferedBytes, 0, 500);
            if (status == FragmentStatus.Complete)
            {
                Assert.True(reassembler.TryGetNext(out _, out ReadOnlySpan<byte> body));
                Assert.InRange(body.Length, 0, 300);
                reassembler.Advance();
                completed++;
            }

            else if (i % 100 == 99)
            {
                // A lie that arrived first fixes a message's type and length, so honest fragments of it are
                // refused from then on; the engine gets out of that by moving on, as here.
                reassembler.Advance();
            }

            if (reassembler.NextSequence > 1000)
            {
                reassembler.NextSequence = 0;
            }
        }

        Assert.InRange(completed, 10, 50_000);
        reassembler.Clear();
        Assert.Equal(0, reassembler.BufferedBytes);
    }

    private static void AssertReassembles(List<(int Offset, int Length)> fragments)
    {
        using var reassembler = new HandshakeReassembler();
        var covered = new bool[s_clientHello.Length];
        int remaining = s_clientHello.Length;
        foreach ((int offset, int length) in fragments)
        {
            for (int i = offset; i < offset + length; i++)
            {
                if (!covered[i])
                {
                    covered[i] = true;
                    remaining--;
                }
            }

            FragmentStatus expected = remaining == 0 ? FragmentStatus.Complete : FragmentStatus.Buffered;
            Assert.Equal(expected, AddFragment(reassembler, 0, offset, length));
            Assert.Equal(s_clientHello.Length, reassembler.BufferedBytes);
        }

        AssertNext(reassembler, HandshakeType.ClientHello, s_clientHello);
    }

    private static FragmentStatus AddFragment(HandshakeReassembler reassembler, ushort sequence, int offset, int length) =>
        reassembler.Add(
            new HandshakeHeader(HandshakeType.ClientHello, s_clientHello.Length, sequence, offset, length),
            s_clientHello.AsSpan(offset, length));

    private static FragmentStatus AddWhole(HandshakeReassembler reassembler, HandshakeType type, ushort sequence, byte[] body) =>
        reassembler.Add(new HandshakeHeader(type, body.Length, sequence, 0, body.Length), body);

    private static void AssertNext(HandshakeReassembler reassembler, HandshakeType expectedType, byte[] expectedBody)
    {
        Assert.True(reassembler.TryGetNext(out HandshakeType type, out ReadOnlySpan<byte> body));
        Assert.Equal(expectedType, type);
        Assert.Equal(expectedBody, body.ToArray());
    }

    private static List<(int Offset, int Length)> TwoByteFragments(int length)
    {
        var fragments = new List<(int Offset, int Length)>();
        for (int offset = 0; offset < length; offset += 2)
        {
            fragments.Add((offset, Math.Min(2, length - offset)));
        }

        return fragments;
    }

    private static void Shuffle<T>(List<T> items, Random random)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    [Fact]
    public void An_owned_buffer_reassembler_reuses_one_buffer_for_every_message()
    {
        using var reassembler = HandshakeReassembler.WithOwnedBuffer(512);
        var first = new byte[400];
        Array.Fill(first, (byte)1);
        Assert.Equal(FragmentStatus.Complete, AddWhole(reassembler, HandshakeType.ClientHello, 0, first));
        Assert.True(reassembler.TryGetNext(out _, out var firstBody));
        ref readonly var firstStart = ref firstBody[0];
        reassembler.Advance();

        var second = new byte[200];
        Array.Fill(second, (byte)2);
        var header = new HandshakeHeader(HandshakeType.ClientHello, second.Length, 1, 100, 100);
        Assert.Equal(FragmentStatus.Buffered, reassembler.Add(header, second.AsSpan(100, 100)));
        header = new HandshakeHeader(HandshakeType.ClientHello, second.Length, 1, 0, 100);
        Assert.Equal(FragmentStatus.Complete, reassembler.Add(header, second.AsSpan(0, 100)));
        Assert.True(reassembler.TryGetNext(out _, out var secondBody));

        Assert.True(System.Runtime.CompilerServices.Unsafe.AreSame(
            ref System.Runtime.CompilerServices.Unsafe.AsRef(in firstStart), ref System.Runtime.CompilerServices.Unsafe.AsRef(in secondBody[0])));
        Assert.Equal(second, secondBody.ToArray());
    }

    [Fact]
    public void An_owned_buffer_reassembler_holds_one_message_and_refuses_longer_ones()
    {
        using var reassembler = HandshakeReassembler.WithOwnedBuffer(256);
        var header = new HandshakeHeader(HandshakeType.ClientHello, 257, 0, 0, 10);
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(header, new byte[10]));

        header = new HandshakeHeader(HandshakeType.ClientHello, 256, 1, 0, 10);
        Assert.Equal(FragmentStatus.Rejected, reassembler.Add(header, new byte[10]));
        Assert.Equal(0, reassembler.BufferedBytes);
    }
}
