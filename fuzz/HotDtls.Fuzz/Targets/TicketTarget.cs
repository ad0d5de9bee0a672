using System.Buffers.Binary;
using System.Security.Cryptography;
using HotDtls.Crypto;

namespace HotDtls.Fuzz.Targets;

/// <summary>
/// RFC 5077 session tickets (<see cref="SessionTicketProtector"/>): what a client presents is opened after the
/// cookie check, so it is peer input. The input is <c>[selector][payload]</c>:
/// <code>
///   selector bit 0-1  key set: 0 {A, B} (A seals), 1 {B, A} (B seals), 2 {C}, 3 random keys that rotate
///            bit 2-4  when the ticket is opened, relative to when it was sealed (<see cref="ClockOffsetsMs"/>)
///            bit 5-6  mode: 0 and 3 open the payload as a ticket; 1 seal the state it describes; 2 seal it raw
///   open:     payload = a ticket (key_name 16 | nonce 12 | AES-256-GCM(state) | tag 16)
///   seal:     payload = suite (2) | flags (1: bit 0 EMS, bit 1 issued half a lifetime ago, bits 2-7 which bit to flip)
///                       | master_secret (48, zero-padded) | psk_identity (the rest; over 512 bytes must be refused)
///   raw:      payload = nonce (12) | StatePlaintext, sealed by this target with the set's sealing key (a key holder
///                       running other code, or a bug in the sealing side): what lies behind the tag is parsed too
/// </code>
/// Oracles: TryOpen never throws; it opens exactly what an independent AES-GCM open with the set's keys and an
/// independent reading of the state accept (so never a ticket no key of its own sealed, nor one expired, issued more
/// than 60 s in the future, or of another length than its identity says), and then to the same suite, EMS flag,
/// master secret, identity and issue time; a refused ticket writes no master secret. A ticket it seals opens to exactly
/// the state sealed while it is live, on any server holding the key (set 0 and 1 share A and B) and not with another
/// key (set 2, or another random key); with one bit flipped in any byte, a byte less or more, it does not open; random
/// keys rotate without losing a live ticket and without holding more than a lifetime's worth of keys. The protector
/// does its own AES-GCM: the fuzzing build's switch does not reach it, so every oracle holds in both builds.
/// </summary>
internal static class TicketTarget
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    public static readonly TimeSpan Rotation = TimeSpan.FromMinutes(10);

    /// <summary>Key A is the resumption harness's ticket key, so tickets from the resumption seeds open here too.</summary>
    public static readonly byte[] KeyA = ResumptionOptions.TicketKey;
    public static readonly byte[] KeyB = Convert.FromHexString(
        "486F74447466732D66757A7A2D6B2D42" + "F0E0D0C0B0A090807060504030201000FFEEDDCCBBAA99887766554433221100");
    public static readonly byte[] KeyC = Convert.FromHexString(
        "486F74447466732D66757A7A2D6B2D43" + "0F1E2D3C4B5A69788796A5B4C3D2E1F00F1E2D3C4B5A69788796A5B4C3D2E1F0");

    public const int ModeOpen = 0;
    public const int ModeSeal = 1;
    public const int ModeRaw = 2;
    public const int RotatingKeys = 3;

    /// <summary>
    /// When the ticket is opened, from when it was sealed: at once, a minute on, the last millisecond of its lifetime,
    /// its end, 60 s early (the most allowed) and one millisecond more, one rotation on, long expired.
    /// </summary>
    public static readonly long[] ClockOffsetsMs =
    [
        0, 60_000, (long)Lifetime.TotalMilliseconds - 1, (long)Lifetime.TotalMilliseconds, -60_000, -60_001,
        (long)Rotation.TotalMilliseconds, (3 * (long)Lifetime.TotalMilliseconds) + 1,
    ];

    private const int StateFixedLength = 2 + 2 + 1 + 8 + KeySchedule.MasterSecretLength + 2;
    private const int Overhead = SessionTicketProtector.KeyNameLength + SessionTicketProtector.NonceLength + SessionTicketProtector.TagLength;
    private const int MinTicketLength = Overhead + StateFixedLength;
    private const int MaxTicketLength = MinTicketLength + SessionTicketProtector.MaxIdentityLength;
    // Fills the master secret buffer before an open: a refused ticket must leave it so.
    private const byte Canary = 0xA5;

    // Per thread: the tests replay inputs from classes that xUnit runs in parallel.
    [ThreadStatic]
    private static bool t_lastOpened;
    [ThreadStatic]
    private static byte[]? t_lastSealed;

    /// <summary>Whether the last input's ticket opened on this thread (seeds are checked to reach the success path).</summary>
    public static bool LastOpened
    {
        get => t_lastOpened;
        private set => t_lastOpened = value;
    }

    /// <summary>The ticket the last seal-mode input on this thread sealed (tests tamper with it further).</summary>
    public static byte[]? LastSealed
    {
        get => t_lastSealed;
        private set => t_lastSealed = value;
    }

    public static void Run(ReadOnlySpan<byte> input)
    {
        LastOpened = false;
        LastSealed = null;
        if (input.IsEmpty)
        {
            return;
        }
        var selector = input[0];
        var keySet = selector & 3;
        var offsetMs = ClockOffsetsMs[(selector >> 2) & 7];
        var payload = input[1..];
        switch ((selector >> 5) & 3)
        {
            case ModeSeal:
                SealAndOpen(keySet, offsetMs, payload);
                break;
            case ModeRaw:
                OpenRaw(keySet == RotatingKeys ? 0 : keySet, offsetMs, payload);
                break;
            default:
                Open(keySet, offsetMs, payload);
                break;
        }
    }

    /// <summary>A protector for key set <paramref name="keySet"/> on <paramref name="time"/>.</summary>
    public static SessionTicketProtector Create(int keySet, ManualTimeProvider time, int randomSeed = 5)
        => new(keySet == RotatingKeys ? [] : Keys(keySet), Rotation, Lifetime, time, new DeterministicRandom(randomSeed));

    private static byte[][] Keys(int keySet) => keySet switch
    {
        0 => [KeyA, KeyB],
        1 => [KeyB, KeyA],
        _ => [KeyC],
    };

    /// <summary>A ticket presented to the protector <paramref name="offsetMs"/> after it started.</summary>
    private static void Open(int keySet, long offsetMs, ReadOnlySpan<byte> ticket)
    {
        var time = new ManualTimeProvider();
        using var protector = Create(keySet, time);
        time.Advance(TimeSpan.FromMilliseconds(offsetMs));
        CheckOpen(protector, keySet == RotatingKeys ? null : Keys(keySet), time, ticket);
    }

    /// <summary>The payload sealed by a holder of the set's sealing key as it stands, then opened.</summary>
    private static void OpenRaw(int keySet, long offsetMs, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < SessionTicketProtector.NonceLength)
        {
            return;
        }
        var key = Keys(keySet)[0];
        var state = payload[SessionTicketProtector.NonceLength..];
        var ticket = new byte[Overhead + state.Length];
        key.AsSpan(0, SessionTicketProtector.KeyNameLength).CopyTo(ticket);
        payload[..SessionTicketProtector.NonceLength].CopyTo(ticket.AsSpan(SessionTicketProtector.KeyNameLength));
        using (var aead = new AesGcm(key.AsSpan(SessionTicketProtector.KeyNameLength), SessionTicketProtector.TagLength))
        {
            aead.Encrypt(ticket.AsSpan(SessionTicketProtector.KeyNameLength, SessionTicketProtector.NonceLength), state,
                ticket.AsSpan(SessionTicketProtector.KeyNameLength + SessionTicketProtector.NonceLength, state.Length),
                ticket.AsSpan(ticket.Length - SessionTicketProtector.TagLength), key.AsSpan(0, SessionTicketProtector.KeyNameLength));
        }
        var time = new ManualTimeProvider();
        using var protector = Create(keySet, time);
        time.Advance(TimeSpan.FromMilliseconds(offsetMs));
        CheckOpen(protector, Keys(keySet), time, ticket);
    }

    /// <summary>
    /// Opens <paramref name="ticket"/> and holds the result against <see cref="ExpectOpen"/> (when the keys are known)
    /// and the bounds a session may have. Returns whether it opened.
    /// </summary>
    private static bool CheckOpen(SessionTicketProtector protector, byte[][]? keys, TimeProvider time, ReadOnlySpan<byte> ticket)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        Span<byte> secret = stackalloc byte[KeySchedule.MasterSecretLength];
        secret.Fill(Canary);
        var opened = protector.TryOpen(ticket, secret, out var state);
        LastOpened = opened;
        if (!opened)
        {
            if (secret.ContainsAnyExcept(Canary) || state != default)
            {
                throw new FuzzOracleException("a refused ticket wrote a master secret or a state");
            }
        }
        else
        {
            if (state.PskIdentity is null || state.PskIdentity.Length > SessionTicketProtector.MaxIdentityLength
                || ticket.Length != SessionTicketProtector.GetTicketLength(state.PskIdentity.Length))
            {
                throw new FuzzOracleException($"a ticket of {ticket.Length} bytes opened to an identity of {state.PskIdentity?.Length} bytes");
            }
            if (!Live(state.IssuedUnixMs, now))
            {
                throw new FuzzOracleException($"a ticket issued {now - (Int128)state.IssuedUnixMs} ms ago opened (lifetime {Lifetime}, 60 s of clock skew)");
            }
        }
        if (keys is null)
        {
            return opened;
        }
        Span<byte> expectedSecret = stackalloc byte[KeySchedule.MasterSecretLength];
        var expected = ExpectOpen(ticket, keys, now, expectedSecret, out var expectedState);
        if (opened != expected)
        {
            throw new FuzzOracleException(opened
                ? "TryOpen accepted a ticket that no key of its own sealed, or whose state an independent reading refuses"
                : "TryOpen refused a live, well-formed ticket sealed by one of its keys");
        }
        if (opened && (!secret.SequenceEqual(expectedSecret) || state.Suite != expectedState.Suite
            || state.ExtendedMasterSecret != expectedState.ExtendedMasterSecret || state.IssuedUnixMs != expectedState.IssuedUnixMs
            || !state.PskIdentity.AsSpan().SequenceEqual(expectedState.PskIdentity)))
        {
            throw new FuzzOracleException("TryOpen opened a ticket to another state than it holds");
        }
        return opened;
    }

    /// <summary>
    /// The long way: the length RFC 5077's layout and the identity cap allow, a key whose name the ticket carries, an
    /// AES-256-GCM open with the name as AAD, then the state read field by field. 128-bit time arithmetic, so no issue
    /// time can wrap around.
    /// </summary>
    /// <remarks>
    /// <code>
    ///   StatePlaintext: version FE FD | suite (2) | EMS (1) = 0 or 1 | issued_unix_ms (8) | master_secret (48)
    ///                   | identity length (2) | identity — exactly to the end
    /// </code>
    /// </remarks>
    public static bool ExpectOpen(ReadOnlySpan<byte> ticket, byte[][] keys, long nowMs, Span<byte> masterSecret, out TicketState state)
    {
        state = default;
        if (ticket.Length is < MinTicketLength or > MaxTicketLength)
        {
            return false;
        }
        byte[]? key = null;
        foreach (var candidate in keys)
        {
            if (ticket[..SessionTicketProtector.KeyNameLength].SequenceEqual(candidate.AsSpan(0, SessionTicketProtector.KeyNameLength)))
            {
                key = candidate;
            }
        }
        if (key is null)
        {
            return false;
        }
        var plaintext = new byte[ticket.Length - Overhead];
        try
        {
            using var aead = new AesGcm(key.AsSpan(SessionTicketProtector.KeyNameLength), SessionTicketProtector.TagLength);
            aead.Decrypt(ticket.Slice(SessionTicketProtector.KeyNameLength, SessionTicketProtector.NonceLength),
                ticket[(SessionTicketProtector.KeyNameLength + SessionTicketProtector.NonceLength)..^SessionTicketProtector.TagLength],
                ticket[^SessionTicketProtector.TagLength..], plaintext, ticket[..SessionTicketProtector.KeyNameLength]);
        }
        catch (CryptographicException)
        {
            return false;
        }
        var issued = BinaryPrimitives.ReadInt64BigEndian(plaintext.AsSpan(5));
        var identityLength = BinaryPrimitives.ReadUInt16BigEndian(plaintext.AsSpan(13 + KeySchedule.MasterSecretLength));
        if (plaintext[0] != 0xFE || plaintext[1] != 0xFD || plaintext[4] > 1 || plaintext.Length != StateFixedLength + identityLength
            || !Live(issued, nowMs))
        {
            return false;
        }
        plaintext.AsSpan(13, KeySchedule.MasterSecretLength).CopyTo(masterSecret);
        state = new TicketState((CipherSuite)BinaryPrimitives.ReadUInt16BigEndian(plaintext.AsSpan(2)), plaintext[4] == 1,
            plaintext[StateFixedLength..], issued);
        return true;
    }

    /// <summary>Issued less than a lifetime ago, and at most 60 s in the future (clock skew between servers).</summary>
    private static bool Live(long issuedMs, long nowMs)
        => (Int128)nowMs - issuedMs < (Int128)Lifetime.TotalMilliseconds && (Int128)issuedMs - nowMs <= 60_000;

    /// <summary>A state the input describes, sealed by the protector, then opened after a while and tampered with.</summary>
    private static void SealAndOpen(int keySet, long offsetMs, ReadOnlySpan<byte> payload)
    {
        Span<byte> fixedPart = stackalloc byte[3 + KeySchedule.MasterSecretLength];
        fixedPart.Clear();
        payload[..Math.Min(payload.Length, fixedPart.Length)].CopyTo(fixedPart);
        var identity = payload.Length > fixedPart.Length ? payload[fixedPart.Length..] : default;
        var suite = (CipherSuite)BinaryPrimitives.ReadUInt16BigEndian(fixedPart);
        var flags = fixedPart[2];
        var masterSecret = fixedPart[3..];

        var time = new ManualTimeProvider();
        using var protector = Create(keySet, time);
        var sealedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
        var issued = (flags & 2) != 0 ? sealedAt - ((long)Lifetime.TotalMilliseconds / 2) : 0;
        var ticket = new byte[SessionTicketProtector.GetTicketLength(identity.Length)];
        if (protector.TrySeal(suite, (flags & 1) != 0, masterSecret, identity, issued, ticket.AsSpan(0, ticket.Length - 1), out _))
        {
            throw new FuzzOracleException("TrySeal wrote a ticket into a buffer one byte too small");
        }
        var sealedOk = protector.TrySeal(suite, (flags & 1) != 0, masterSecret, identity, issued, ticket, out var written);
        if (sealedOk != (identity.Length <= SessionTicketProtector.MaxIdentityLength) || (sealedOk && written != ticket.Length))
        {
            throw new FuzzOracleException($"TrySeal with an identity of {identity.Length} bytes returned {sealedOk}, {written} bytes");
        }
        if (!sealedOk)
        {
            return;
        }
        if (issued == 0)
        {
            issued = sealedAt;
        }

        time.Advance(TimeSpan.FromMilliseconds(offsetMs));
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var keys = keySet == RotatingKeys ? null : Keys(keySet);
        var opened = CheckOpen(protector, keys, time, ticket);
        LastSealed = ticket;
        if (opened != Live(issued, now))
        {
            throw new FuzzOracleException(opened
                ? $"a ticket issued {now - issued} ms ago opened"
                : $"a ticket this protector sealed {now - issued} ms ago, within its lifetime, did not open");
        }
        if (opened)
        {
            Span<byte> secret = stackalloc byte[KeySchedule.MasterSecretLength];
            _ = protector.TryOpen(ticket, secret, out var state);
            if (!secret.SequenceEqual(masterSecret) || state.Suite != suite || state.ExtendedMasterSecret != ((flags & 1) != 0)
                || state.IssuedUnixMs != issued || !state.PskIdentity.AsSpan().SequenceEqual(identity))
            {
                throw new FuzzOracleException("a ticket opened to another state than the one sealed");
            }
            CheckTampering(protector, ticket, flags >> 2);
        }
        LastOpened = opened;
        CheckOtherServers(keySet, offsetMs, ticket, opened);
        if (keySet == RotatingKeys && protector.KeyCount > (Lifetime / Rotation) + 2)
        {
            throw new FuzzOracleException($"the protector holds {protector.KeyCount} random keys, more than a lifetime's worth");
        }
    }

    /// <summary>
    /// One bit flipped at the first and last byte of each field (key_name, nonce, encrypted state, tag) and at a byte
    /// the input picks, a byte less at either end, a byte more: none opens. Each refused open costs AES-GCM an
    /// exception, so the fuzzer walks the bytes across inputs rather than all of them in one; the tests flip every bit
    /// of a ticket once (<c>TicketTargetTests</c>).
    /// </summary>
    public static void CheckTampering(SessionTicketProtector protector, byte[] ticket, int choice)
    {
        const int NonceStart = SessionTicketProtector.KeyNameLength;
        const int StateStart = NonceStart + SessionTicketProtector.NonceLength;
        var tagStart = ticket.Length - SessionTicketProtector.TagLength;
        ReadOnlySpan<int> positions =
        [
            0, NonceStart - 1, NonceStart, StateStart - 1, StateStart, tagStart - 1, tagStart, ticket.Length - 1,
            choice * ticket.Length / 64,
        ];
        var tampered = new byte[ticket.Length + 1];
        for (var i = 0; i < positions.Length; i++)
        {
            var bit = (choice + i) & 7;
            ticket.CopyTo(tampered, 0);
            tampered[positions[i]] ^= (byte)(1 << bit);
            RequireRefused(protector, tampered.AsSpan(0, ticket.Length), $"a ticket with bit {bit} of byte {positions[i]} flipped");
        }
        ticket.CopyTo(tampered, 0);
        tampered[^1] = 0;
        RequireRefused(protector, ticket.AsSpan(0, ticket.Length - 1), "a ticket a byte short");
        RequireRefused(protector, ticket.AsSpan(1), "a ticket without its first byte");
        RequireRefused(protector, tampered, "a ticket with a byte more");
    }

    public static void RequireRefused(SessionTicketProtector protector, ReadOnlySpan<byte> ticket, string what)
    {
        Span<byte> secret = stackalloc byte[KeySchedule.MasterSecretLength];
        if (protector.TryOpen(ticket, secret, out _))
        {
            throw new FuzzOracleException(what + " opened");
        }
    }

    /// <summary>
    /// The same ticket at another server at the same moment: one holding the same configured keys in another order
    /// opens it as this one did (RFC 5077 §5.5's shared keys); one with other keys, or other random keys, does not.
    /// </summary>
    private static void CheckOtherServers(int keySet, long offsetMs, byte[] ticket, bool opened)
    {
        var time = new ManualTimeProvider();
        Span<byte> secret = stackalloc byte[KeySchedule.MasterSecretLength];
        int[] others = keySet switch
        {
            0 => [1, 2],
            1 => [0, 2],
            _ => [0],
        };
        using var stranger = keySet == RotatingKeys ? Create(RotatingKeys, time, randomSeed: 6) : null;
        time.Advance(TimeSpan.FromMilliseconds(offsetMs));
        if (stranger is not null && stranger.TryOpen(ticket, secret, out _))
        {
            throw new FuzzOracleException("a ticket sealed under one random key opened with another");
        }
        foreach (var other in others)
        {
            var otherTime = new ManualTimeProvider();
            using var protector = Create(other, otherTime);
            otherTime.Advance(TimeSpan.FromMilliseconds(offsetMs));
            var shares = keySet is 0 or 1 && other is 0 or 1;
            if (protector.TryOpen(ticket, secret, out _) != (shares && opened))
            {
                throw new FuzzOracleException(shares
                    ? $"a ticket sealed with key set {keySet} {(opened ? "did not open" : "opened")} with set {other}, which holds the same keys"
                    : $"a ticket sealed with key set {keySet} opened with set {other}, which holds none of its keys");
            }
        }
    }

    /// <summary>The input that opens <paramref name="ticket"/> with key set <paramref name="keySet"/> at clock index <paramref name="clock"/>.</summary>
    public static byte[] OpenInput(int keySet, int clock, ReadOnlySpan<byte> ticket) => [(byte)(keySet | (clock << 2)), .. ticket];

    /// <summary>The input that seals a state and opens it (see the layout above).</summary>
    public static byte[] SealInput(int keySet, int clock, CipherSuite suite, byte flags, ReadOnlySpan<byte> identity)
    {
        var input = new byte[1 + 3 + KeySchedule.MasterSecretLength + identity.Length];
        input[0] = (byte)(keySet | (clock << 2) | (ModeSeal << 5));
        BinaryPrimitives.WriteUInt16BigEndian(input.AsSpan(1), (ushort)suite);
        input[3] = flags;
        for (var i = 0; i < KeySchedule.MasterSecretLength; i++)
        {
            input[4 + i] = (byte)(0x30 + i);
        }
        identity.CopyTo(input.AsSpan(4 + KeySchedule.MasterSecretLength));
        return input;
    }

    /// <summary>The input that seals a raw StatePlaintext with the set's sealing key and opens it.</summary>
    public static byte[] RawInput(int keySet, int clock, ReadOnlySpan<byte> statePlaintext)
        => [(byte)(keySet | (clock << 2) | (ModeRaw << 5)), .. new byte[SessionTicketProtector.NonceLength], .. statePlaintext];

    /// <summary>A StatePlaintext as the protector writes it (for raw seeds, which then break one field at a time).</summary>
    public static byte[] StatePlaintext(CipherSuite suite, bool extendedMasterSecret, long issuedUnixMs, ReadOnlySpan<byte> identity)
    {
        var state = new byte[StateFixedLength + identity.Length];
        state[0] = 0xFE;
        state[1] = 0xFD;
        BinaryPrimitives.WriteUInt16BigEndian(state.AsSpan(2), (ushort)suite);
        state[4] = extendedMasterSecret ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64BigEndian(state.AsSpan(5), issuedUnixMs);
        state.AsSpan(13, KeySchedule.MasterSecretLength).Fill(0x4D);
        BinaryPrimitives.WriteUInt16BigEndian(state.AsSpan(13 + KeySchedule.MasterSecretLength), (ushort)identity.Length);
        identity.CopyTo(state.AsSpan(StateFixedLength));
        return state;
    }
}
