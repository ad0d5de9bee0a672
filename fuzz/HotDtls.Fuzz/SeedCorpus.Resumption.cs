using System.Text;
using HotDtls.Fuzz.Targets;

namespace HotDtls.Fuzz;

/// <summary>
/// The resumption seeds (<c>resumption DIR</c>, normal build): HotDtls's client against the harness with resumption
/// and tickets on (<see cref="ResumptionOptions"/>), a full handshake that gives a session_id and one that gives a
/// ticket, each then resumed from another port. Recorded with real cryptography and the plain PSK suite (no ephemeral
/// key), so they replay to the abbreviated handshake and application data in both builds: the fuzzing build decrypts an
/// authentic record as any other. Their hellos, NewSessionTickets and datagrams feed the other targets
/// (<c>resumption-*</c>), and the <c>ticket</c> target gets tickets sealed with its fixed keys, the recorded ones,
/// truncations and broken states (<c>ticket-*</c>).
/// </summary>
internal static partial class SeedCorpus
{
    private static readonly List<byte[]> s_recordedTickets = [];

    public static int WriteResumption(string directory, TextWriter log)
    {
        if (FuzzingBuild.Enabled)
        {
            log.WriteLine("resumption needs a normal build, so its records really authenticate (dotnet run --project fuzz/HotDtls.Fuzz -c Release -- resumption DIR)");
            return 2;
        }
        var corpus = new Corpus(directory, "resumption");
        const CipherSuite Psk = CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        RecordResumption(corpus, "full-session-id", static s => s.Suites(Psk).TakeTickets(false).Handshake(0).Echo(0, 1).Save(0, ticket: false).CloseNotify(0));
        RecordResumption(corpus, "full-ticket", static s => s.Suites(Psk).TakeTickets(true).Handshake(0).Echo(0, 1).Save(0, ticket: true).CloseNotify(0));
        RecordResumption(corpus, "resume-session-id", static s => s.Suites(Psk).TakeTickets(false).Handshake(0).Echo(0, 1).Save(0, ticket: false)
            .CloseNotify(0).Resume(1).Echo(1, 2).CloseNotify(1));
        RecordResumption(corpus, "resume-ticket", static s => s.Suites(Psk).TakeTickets(true).Handshake(0).Echo(0, 1).Save(0, ticket: true)
            .CloseNotify(0).Resume(1).Echo(1, 2).CloseNotify(1));
        corpus.Flush(log);

        var tickets = new Corpus(directory, "ticket");
        foreach (var (name, input) in TicketSeeds())
        {
            tickets.AddNamed("ticket", name, input);
        }
        tickets.Flush(log);
        return 0;
    }

    private static void RecordResumption(Corpus corpus, string name, Func<Script, Script> script)
    {
        using var run = new Script(corpus, resumption: true);
        script(run);
        corpus.AddNamed("resumption", name, run.Steps.ToArray());
    }

    /// <summary>The ticket target's seeds: each mode, key set and clock edge once, over tickets sealed for real.</summary>
    private static List<(string Name, byte[] Input)> TicketSeeds()
    {
        const CipherSuite Psk = CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256;
        const CipherSuite EcdheCbc = CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256;
        var seeds = new List<(string, byte[])>();
        var client = Encoding.UTF8.GetBytes("Qt DTLS example client");
        var time = new ManualTimeProvider();
        byte[] typical, empty, longest, rotating;
        using (var protector = TicketTarget.Create(0, time))
        {
            typical = Seal(protector, Psk, true, client);
            empty = Seal(protector, EcdheCbc, false, []);
            longest = Seal(protector, Psk, true, Encoding.UTF8.GetBytes(new string('m', 512)));
        }
        using (var protector = TicketTarget.Create(TicketTarget.RotatingKeys, time))
        {
            rotating = Seal(protector, Psk, true, client);
        }
        // Open: clock indexes 0 at once, 1 a minute on, 2 last millisecond, 3 expired, 4 60 s early, 5 a millisecond more, 6 rotation.
        seeds.Add(("open", TicketTarget.OpenInput(0, 0, typical)));
        seeds.Add(("open-shared-key", TicketTarget.OpenInput(1, 1, typical)));
        seeds.Add(("open-foreign-key", TicketTarget.OpenInput(2, 0, typical)));
        seeds.Add(("open-last-ms", TicketTarget.OpenInput(0, 2, typical)));
        seeds.Add(("open-expired", TicketTarget.OpenInput(0, 3, typical)));
        seeds.Add(("open-early", TicketTarget.OpenInput(0, 4, typical)));
        seeds.Add(("open-future", TicketTarget.OpenInput(0, 5, typical)));
        seeds.Add(("open-empty-identity", TicketTarget.OpenInput(0, 0, empty)));
        seeds.Add(("open-identity-512", TicketTarget.OpenInput(0, 1, longest)));
        seeds.Add(("open-rotating", TicketTarget.OpenInput(TicketTarget.RotatingKeys, 6, rotating)));
        seeds.Add(("open-short-1", TicketTarget.OpenInput(0, 0, typical.AsSpan(0, typical.Length - 1))));
        seeds.Add(("open-no-tag", TicketTarget.OpenInput(0, 0, typical.AsSpan(0, typical.Length - 16))));
        seeds.Add(("open-name-nonce", TicketTarget.OpenInput(0, 0, typical.AsSpan(0, 28))));
        seeds.Add(("open-nothing", TicketTarget.OpenInput(0, 0, [])));
        seeds.Add(("open-long-1", TicketTarget.OpenInput(0, 0, [.. typical, 0])));
        for (var i = 0; i < s_recordedTickets.Count; i++)
        {
            seeds.Add(($"open-recorded-{i}", TicketTarget.OpenInput(0, 0, s_recordedTickets[i])));
        }
        // Seal: flags bit 0 EMS, bit 1 issued half a lifetime ago, bits 2-7 which byte and bit to flip.
        seeds.Add(("seal", TicketTarget.SealInput(0, 0, Psk, 1, client)));
        seeds.Add(("seal-shared-key", TicketTarget.SealInput(1, 1, EcdheCbc, 0x1E, [])));
        seeds.Add(("seal-foreign-key", TicketTarget.SealInput(2, 2, Psk, 0x21, client)));
        seeds.Add(("seal-half-life-expired", TicketTarget.SealInput(0, 2, Psk, 0x43, client)));
        seeds.Add(("seal-expired", TicketTarget.SealInput(0, 3, Psk, 1, client)));
        seeds.Add(("seal-future", TicketTarget.SealInput(1, 5, Psk, 1, client)));
        seeds.Add(("seal-rotating", TicketTarget.SealInput(TicketTarget.RotatingKeys, 6, Psk, 0xFD, client)));
        seeds.Add(("seal-rotating-expired", TicketTarget.SealInput(TicketTarget.RotatingKeys, 7, Psk, 1, client)));
        seeds.Add(("seal-identity-512", TicketTarget.SealInput(0, 0, Psk, 0x81, Encoding.UTF8.GetBytes(new string('m', 512)))));
        seeds.Add(("seal-identity-513", TicketTarget.SealInput(0, 0, Psk, 1, Encoding.UTF8.GetBytes(new string('m', 513)))));
        // Raw: what lies behind the tag, one field broken at a time.
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var state = TicketTarget.StatePlaintext(Psk, true, now, client);
        seeds.Add(("raw", TicketTarget.RawInput(0, 0, state)));
        seeds.Add(("raw-version", TicketTarget.RawInput(1, 0, [0xFE, 0xFF, .. state.AsSpan(2)])));
        seeds.Add(("raw-ems-2", TicketTarget.RawInput(0, 0, [.. state.AsSpan(0, 4), 2, .. state.AsSpan(5)])));
        seeds.Add(("raw-trailing-byte", TicketTarget.RawInput(0, 0, [.. state, 0])));
        seeds.Add(("raw-short-identity", TicketTarget.RawInput(0, 0, state.AsSpan(0, state.Length - 1))));
        seeds.Add(("raw-issued-min", TicketTarget.RawInput(2, 0, TicketTarget.StatePlaintext(Psk, true, long.MinValue, client))));
        seeds.Add(("raw-issued-max", TicketTarget.RawInput(0, 0, TicketTarget.StatePlaintext(Psk, true, long.MaxValue, client))));
        seeds.Add(("raw-identity-512", TicketTarget.RawInput(0, 4, TicketTarget.StatePlaintext(Psk, false, now, Encoding.UTF8.GetBytes(new string('r', 512))))));
        return seeds;
    }

    private static byte[] Seal(Crypto.SessionTicketProtector protector, CipherSuite suite, bool extendedMasterSecret, byte[] identity)
    {
        var ticket = new byte[Crypto.SessionTicketProtector.GetTicketLength(identity.Length)];
        var masterSecret = new byte[Crypto.KeySchedule.MasterSecretLength];
        masterSecret.AsSpan().Fill(0x6D);
        if (!protector.TrySeal(suite, extendedMasterSecret, masterSecret, identity, 0, ticket, out _))
        {
            throw new InvalidOperationException("the ticket seed did not seal");
        }
        return ticket;
    }

    private sealed partial class Script
    {
        private bool _takeTickets;
        private DtlsSavedSession? _saved;
        private DtlsSavedSession? _offered;

        /// <summary>Whether the next clients ask for a ticket (the server then issues one instead of a session_id).</summary>
        public Script TakeTickets(bool take)
        {
            _takeTickets = take;
            return this;
        }

        /// <summary>Keeps the session of the client on <paramref name="peer"/>, which must carry a ticket or a session_id as asked.</summary>
        public Script Save(int peer, bool ticket)
        {
            var saved = _clients[peer]!.Engine.SaveSession()
                ?? throw new InvalidOperationException($"peer {peer}'s session cannot be resumed");
            if (saved.HasTicket != ticket || (!ticket && saved.SessionId.IsEmpty))
            {
                throw new InvalidOperationException($"peer {peer}'s session has {(saved.HasTicket ? "a ticket" : "no ticket")}, expected {(ticket ? "one" : "a session_id")}");
            }
            if (saved.HasTicket)
            {
                s_recordedTickets.Add(saved.Ticket.ToArray());
            }
            _saved = saved;
            return this;
        }

        /// <summary>A new client on <paramref name="peer"/> offers the saved session; the handshake must be the abbreviated one.</summary>
        public Script Resume(int peer)
        {
            _offered = _saved;
            Handshake(peer);
            _offered = null;
            if (!_clients[peer]!.Engine.IsResumed)
            {
                throw new InvalidOperationException($"peer {peer} ran a full handshake instead of resuming");
            }
            return this;
        }

        /// <summary>Client options in a resumption recording (the others' clients stay as they were recorded).</summary>
        private void ConfigureResumption(DtlsClientOptions options)
        {
            if (!_harness.Options.EnableSessionTickets)
            {
                return;
            }
            options.UseSessionTickets = _takeTickets;
            options.Session = _offered;
        }
    }
}
