using HotDtls.Crypto;
using HotDtls.Fuzz;
using HotDtls.Fuzz.Targets;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Fuzz;

/// <summary>
/// The <c>ticket</c> and <c>resumption</c> fuzz targets and their seeds: the seeds reach what they are named for with
/// real cryptography (a ticket opens, an abbreviated handshake runs), the oracles' independent readings agree with the
/// library on real tickets and hellos, and the promises the targets check hold where a test can set them up.
/// (<see cref="FuzzTargetTests"/> replays every committed input through its target.)
/// </summary>
public sealed class TicketTargetTests
{
    private static readonly string Corpus = Path.Combine(FindRepositoryRoot(), "fuzz", "corpus");

    [Theory]
    [InlineData("ticket-open", true)]
    [InlineData("ticket-open-shared-key", true)]
    [InlineData("ticket-open-last-ms", true)]
    [InlineData("ticket-open-early", true)]
    [InlineData("ticket-open-identity-512", true)]
    [InlineData("ticket-open-rotating", true)]
    [InlineData("ticket-open-recorded-0", true)]
    [InlineData("ticket-seal", true)]
    [InlineData("ticket-seal-rotating", true)]
    [InlineData("ticket-raw", true)]
    [InlineData("ticket-open-foreign-key", false)]
    [InlineData("ticket-open-expired", false)]
    [InlineData("ticket-open-future", false)]
    [InlineData("ticket-open-short-1", false)]
    [InlineData("ticket-open-long-1", false)]
    [InlineData("ticket-seal-expired", false)]
    [InlineData("ticket-seal-future", false)]
    [InlineData("ticket-seal-identity-513", false)]
    [InlineData("ticket-raw-version", false)]
    [InlineData("ticket-raw-ems-2", false)]
    [InlineData("ticket-raw-trailing-byte", false)]
    [InlineData("ticket-raw-issued-min", false)]
    public void Ticket_seeds_open_or_not_as_named(string seed, bool opens)
    {
        TicketTarget.Run(File.ReadAllBytes(Path.Combine(Corpus, "ticket", seed)));

        Assert.Equal(opens, TicketTarget.LastOpened);
    }

    [Fact]
    public void Every_single_bit_flip_of_a_sealed_ticket_is_refused()
    {
        TicketTarget.Run(TicketTarget.SealInput(0, 0, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, 1, "Qt DTLS example client"u8));
        var ticket = TicketTarget.LastSealed!;
        using var protector = TicketTarget.Create(1, new ManualTimeProvider());
        Span<byte> secret = stackalloc byte[KeySchedule.MasterSecretLength];
        Assert.True(protector.TryOpen(ticket, secret, out _));

        var opened = 0;
        for (var bit = 0; bit < ticket.Length * 8; bit++)
        {
            var tampered = (byte[])ticket.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            opened += protector.TryOpen(tampered, secret, out _) ? 1 : 0;
        }

        Assert.Equal(0, opened);
    }

    [Fact]
    public void The_ticket_oracle_reads_real_tickets_as_the_protector_does()
    {
        var time = new ManualTimeProvider();
        using var protector = TicketTarget.Create(0, time);
        var ticket = new byte[SessionTicketProtector.GetTicketLength(3)];
        Assert.True(protector.TrySeal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, true, new byte[48], "abc"u8, 0, ticket, out _));
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        Span<byte> secret = stackalloc byte[KeySchedule.MasterSecretLength];

        Assert.True(TicketTarget.ExpectOpen(ticket, [TicketTarget.KeyB, TicketTarget.KeyA], now, secret, out var state));
        Assert.Equal(CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, state.Suite);
        Assert.Equal("abc"u8.ToArray(), state.PskIdentity);
        Assert.Equal(now, state.IssuedUnixMs);
        // Another key set, an hour later, or a byte flipped: the oracle refuses, as the protector must.
        Assert.False(TicketTarget.ExpectOpen(ticket, [TicketTarget.KeyC], now, secret, out _));
        Assert.False(TicketTarget.ExpectOpen(ticket, [TicketTarget.KeyA], now + (long)TicketTarget.Lifetime.TotalMilliseconds, secret, out _));
        ticket[^1] ^= 1;
        Assert.False(TicketTarget.ExpectOpen(ticket, [TicketTarget.KeyA], now, secret, out _));
    }

    [Fact]
    public void A_seal_input_opens_on_a_server_sharing_the_key_and_not_on_a_foreign_one()
    {
        // The target's own cross-server checks run inside: they throw if set 1 refused or set 2 opened A's ticket.
        TicketTarget.Run(TicketTarget.SealInput(0, 1, CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, 3, "shared"u8));

        Assert.True(TicketTarget.LastOpened);
    }

    [Theory]
    [InlineData("resumption-resume-session-id")]
    [InlineData("resumption-resume-ticket")]
    public void Resumption_seeds_replay_to_an_abbreviated_handshake_with_real_cryptography(string seed)
    {
        ResumptionTarget.Run(File.ReadAllBytes(Path.Combine(Corpus, "resumption", seed)));

        Assert.Equal(1, ResumptionTarget.LastResumed);
        Assert.True(ResumptionTarget.LastDelivered >= 3);
    }

    [Theory]
    [InlineData("resumption-full-session-id")]
    [InlineData("resumption-full-ticket")]
    public void Full_handshake_seeds_replay_to_application_data_without_resuming(string seed)
    {
        ResumptionTarget.Run(File.ReadAllBytes(Path.Combine(Corpus, "resumption", seed)));

        Assert.Equal(0, ResumptionTarget.LastResumed);
        Assert.True(ResumptionTarget.LastDelivered > 0);
    }

    [Fact]
    public void The_resumption_harness_opens_a_ticket_only_after_the_cookie()
    {
        using var harness = new EngineHarness(resumption: true);
        var ticket = RecordedTicket();
        byte[] HelloWith(byte[] cookie) => Wire.Record(ContentType.Handshake, 0, 0, Wire.Handshake(HandshakeType.ClientHello, 0, TicketHello(cookie, ticket)));

        harness.Deliver(0, HelloWith([]));
        var verifyRequest = harness.Sender.Datagrams;
        harness.Deliver(0, HelloWith(new byte[32]));
        Assert.Equal(0, harness.Engine.Tickets!.OpenAttempts);
        Assert.Equal(2, harness.Sender.Datagrams);
        Assert.Equal(1, verifyRequest);

        // The right cookie: the engine now opens the ticket.
        var sent = new List<byte[]>();
        using var answering = new EngineHarness((datagram, _) => sent.Add(datagram), resumption: true);
        answering.Deliver(0, HelloWith([]));
        answering.Deliver(0, HelloWith(Wire.CookieOf(sent[0])!));
        Assert.Equal(1, answering.Engine.Tickets!.OpenAttempts);
    }

    [Fact]
    public void Handshake_seeds_reach_NewSessionTicket_and_the_session_ticket_extension_both_ways()
    {
        bool newSessionTicket = false, serverHelloTicket = false, clientHelloTicket = false;
        foreach (var seed in Directory.GetFiles(Path.Combine(Corpus, "handshake")))
        {
            var message = File.ReadAllBytes(seed);
            if (!HandshakeHeader.TryRead(message, out var header) || !header.IsComplete)
            {
                continue;
            }
            var body = message.AsSpan(HandshakeHeader.Size);
            newSessionTicket |= header.MsgType == HandshakeType.NewSessionTicket && NewSessionTicket.TryParse(body, out _, out var ticket)
                && ticket.Length > 0;
            serverHelloTicket |= header.MsgType == HandshakeType.ServerHello && ServerHello.TryParse(body, out var serverHello)
                && serverHello.HasSessionTicket;
            clientHelloTicket |= header.MsgType == HandshakeType.ClientHello && ClientHello.TryParse(body, out var clientHello)
                && clientHello.SessionTicket.Length > 0;
        }

        Assert.True(newSessionTicket && serverHelloTicket && clientHelloTicket);
    }

    [Theory]
    [InlineData("0023 0000", true)]                 // session_ticket, asking for one
    [InlineData("0023 0003 010203", true)]          // session_ticket with a ticket (no inner length)
    [InlineData("0036 0001 00", true)]              // connection_id, empty CID
    [InlineData("0036 0003 02 AABB", true)]
    [InlineData("0036 0000", false)]                // connection_id without its length byte
    [InlineData("0036 0003 03 AABB", false)]        // CID length past the extension
    [InlineData("003D 0000", true)]                 // rrc
    [InlineData("003D 0001 00", false)]             // rrc with data
    [InlineData("0023 0000 0023 0000", false)]      // session_ticket twice
    public void The_hello_oracle_reads_session_ticket_connection_id_and_rrc_as_the_library_does(string hex, bool valid)
    {
        var block = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

        var expected = HelloOracle.ReadExtensions(block);
        var scanned = HelloExtensions.TryScan(block, out HelloExtensionSummary summary);

        Assert.Equal(valid, expected.Valid);
        Assert.Equal(valid, scanned);
        HelloOracle.CheckScan(block, scanned, summary, "test");
        Assert.False(expected.HasUnknown);
    }

    private static byte[] TicketHello(byte[] cookie, byte[] ticket)
    {
        var buffer = new byte[1024];
        ushort[] suites = [(ushort)CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256];
        var length = ClientHello.Write(buffer, ProtocolVersion.Dtls12, new byte[32], new byte[32], cookie, suites, true, true,
            offerSessionTicket: true, sessionTicket: ticket);
        return buffer[..length];
    }

    /// <summary>The ticket of the recorded ticket resumption (sealed with the harness's fixed key).</summary>
    private static byte[] RecordedTicket() => File.ReadAllBytes(Path.Combine(Corpus, "ticket", "ticket-open-recorded-0"))[1..];

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "HotDtls.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("HotDtls.sln not found above the test binaries");
    }
}
