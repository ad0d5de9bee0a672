using System.Net;
using HotDtls.Crypto;
using HotDtls.Fuzz;
using HotDtls.Fuzz.Targets;
using HotDtls.Handshake;
using HotDtls.Records;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Fuzz;

/// <summary>
/// Every committed fuzz input — seed corpora and the crashes AFL++ found — replayed through its target in this
/// (non-fuzzing) build, so a fixed crash stays fixed; that the seeds reach what they were recorded for (every suite,
/// both ECDHE groups, the new hello extensions, real authentication); and the harness's own checks, which must be
/// able to fail.
/// </summary>
public sealed class FuzzTargetTests
{
    private static readonly string FuzzDirectory = Path.Combine(FindRepositoryRoot(), "fuzz");

    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[] { "corpus", "regressions" })
        {
            var root = Path.Combine(FuzzDirectory, kind);
            if (!Directory.Exists(root))
            {
                continue;
            }
            foreach (var folder in Directory.GetDirectories(root))
            {
                foreach (var file in Directory.GetFiles(folder))
                {
                    data.Add(Path.GetFileName(folder), Path.GetRelativePath(FuzzDirectory, file));
                }
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Committed_input_runs_clean(string target, string file)
    {
        var run = FuzzTargets.Find(target);
        Assert.NotNull(run);

        run(File.ReadAllBytes(Path.Combine(FuzzDirectory, file)));
    }

    [Fact]
    public void Every_target_has_a_seed_corpus()
    {
        foreach (var name in FuzzTargets.Names())
        {
            var folder = Path.Combine(FuzzDirectory, "corpus", name);
            Assert.True(Directory.Exists(folder) && Directory.GetFiles(folder).Length > 0, $"fuzz/corpus/{name} is empty");
        }
    }

    [Theory]
    [InlineData("openssl-aes128")]
    [InlineData("openssl-aes256")]
    [InlineData("openssl-mtu256")]
    [InlineData("openssl-identity-128")]
    [InlineData("openssl-lost-flight")]
    [InlineData("openssl-ccm8")]
    // Not openssl-ecdhe-chacha20: in a normal build the server's ephemeral ECDH key is random, so OpenSSL's Finished no
    // longer decrypts on replay (the Fuzz build takes that key from the seeded randomness; hotdtls-ecdhe-* replay there).
    public void Recorded_OpenSSL_handshakes_replay_to_application_data_with_real_cryptography(string seed)
    {
        // The harness's clock, randomness and cookie secret are fixed, so a recorded OpenSSL conversation replays
        // exactly: the cookie still matches and the same keys decrypt OpenSSL's records, with no fuzzing switch.
        EngineTarget.Run(File.ReadAllBytes(Path.Combine(FuzzDirectory, "corpus", "engine", seed)));

        Assert.True(EngineTarget.LastDelivered > 0);
    }

    [Theory]
    [InlineData("real-cid-0-rebind", 1)]
    [InlineData("real-cid-4-rebind", 2)]
    public void Recorded_CID_rebindings_replay_to_moved_and_proven_sessions_with_real_cryptography(string seed, int moves)
    {
        // HotDtls's client offering connection_id (asking for no CID, or for 4 bytes) is rebound to other harness
        // addresses: its tls12_cid records move the session, the server's path_challenge goes to the new address under
        // the engine oracle's amplification bound, and the client's path_response proves it (RFC 9146 §6, rrc).
        EngineTarget.Run(File.ReadAllBytes(Path.Combine(FuzzDirectory, "corpus", "engine", seed)));

        Assert.Equal(moves, EngineTarget.LastStatistics.PeerAddressChanges);
        Assert.Equal(moves, EngineTarget.LastStatistics.PeerAddressesProven);
        Assert.Equal(0, EngineTarget.LastStatistics.UnknownConnectionIdRecords);
        Assert.Equal(4, EngineTarget.LastDelivered);
    }

    [Fact]
    public void Records_seeds_carry_tls12_cid_records_the_target_frames()
    {
        var framed = 0;
        foreach (var seed in Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus", "records"), "hotdtls-cid-*"))
        {
            RecordsTarget.Run(File.ReadAllBytes(seed));
            framed += RecordsTarget.LastConnectionIdRecords;
        }

        Assert.True(framed > 0);
    }

    [Fact]
    public void The_records_target_frames_a_tls12_cid_record_only_with_a_CID_length()
    {
        // One tls12_cid record with a 6-byte CID and a 3-byte body: framed by the 6-byte reader, never by the 0-byte one
        // (which the target asserts); the other lengths read the length field elsewhere and stop.
        byte[] cid = [1, 2, 3, 4, 5, 6];
        var datagram = new byte[RecordHeader.Size + cid.Length + 3];
        new RecordHeader(ContentType.Tls12Cid, ProtocolVersion.Dtls12, 1, 7, 3, (byte)cid.Length).Write(datagram, cid);

        RecordsTarget.Run(datagram);

        Assert.Equal(1, RecordsTarget.LastConnectionIdRecords);
    }

    [Fact]
    public void Sealed_protection_seeds_open_with_real_cryptography()
    {
        // The sealed-* seeds were sealed for real under the target's fixed keys: in this (normal) build each one
        // authenticates, so oracle (a)'s success path and oracle (c)'s refusals run on real records.
        var seeds = Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus", "protection"), "sealed-*");
        Assert.NotEmpty(seeds);
        foreach (var seed in seeds)
        {
            ProtectionTarget.Run(File.ReadAllBytes(seed));

            // sealed-cid-* are tls12_cid records: they open under the CID their input picks and only under it (RFC 9146 §5).
            var sealedWithConnectionId = Path.GetFileName(seed).StartsWith("sealed-cid-", StringComparison.Ordinal);
            Assert.True(sealedWithConnectionId ? ProtectionTarget.LastOpenedWithConnectionId : ProtectionTarget.LastOpened,
                $"{Path.GetFileName(seed)} did not open with the fixed key");
            Assert.False(sealedWithConnectionId ? ProtectionTarget.LastOpened : ProtectionTarget.LastOpenedWithConnectionId,
                $"{Path.GetFileName(seed)} also opened {(sealedWithConnectionId ? "without" : "with")} a CID");
        }
    }

    [Fact]
    public void Sealed_CID_protection_seeds_cover_every_suite_and_the_CID_lengths_a_server_issues()
    {
        var suites = new HashSet<int>();
        var lengths = new HashSet<int>();
        Span<byte> connectionId = stackalloc byte[ProtectionTarget.MaxConnectionIdLength];
        foreach (var seed in Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus", "protection"), "sealed-cid-*"))
        {
            var input = File.ReadAllBytes(seed);
            suites.Add(input[0] % CipherSuiteInfo.All.Count);
            lengths.Add(ProtectionTarget.ConnectionIdOf(input[ProtectionTarget.HeaderLength - 1], connectionId));
        }

        Assert.Equal(CipherSuiteInfo.All.Count, suites.Count);
        Assert.Subset(lengths, new HashSet<int> { 4, 6, 10, 1, ProtectionTarget.MaxConnectionIdLength });
    }

    [Fact]
    public void A_protection_input_sealed_with_a_CID_opens_only_under_that_CID()
    {
        var input = ProtectionTarget.SealedInput(CipherSuiteInfo.ChaCha20Poly1305, ContentType.ApplicationData, 1, 5, "sealed"u8,
            new DeterministicRandom(3), withConnectionId: true);

        ProtectionTarget.Run(input);
        Assert.True(ProtectionTarget.LastOpenedWithConnectionId);
        Assert.False(ProtectionTarget.LastOpened);

        input[ProtectionTarget.HeaderLength - 1]++;   // another sequence number, and so another CID
        ProtectionTarget.Run(input);
        Assert.False(ProtectionTarget.LastOpenedWithConnectionId);
    }

    [Fact]
    public void Protection_seeds_cover_every_suite_of_the_provider_table()
    {
        var covered = new HashSet<int>();
        foreach (var seed in Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus", "protection")))
        {
            covered.Add(File.ReadAllBytes(seed)[0] % CipherSuiteInfo.All.Count);
        }

        Assert.Equal(CipherSuiteInfo.All.Count, covered.Count);
    }

    [Fact]
    public void Protection_inputs_round_trip_for_every_suite_and_content_type()
    {
        foreach (var suite in CipherSuiteInfo.All)
        {
            foreach (var type in new[] { ContentType.ApplicationData, ContentType.Handshake, ContentType.Alert, ContentType.ChangeCipherSpec })
            {
                var input = ProtectionTarget.SealedInput(suite, type, 7, 42, "round trip"u8, new DeterministicRandom(3));

                ProtectionTarget.Run(input);

                Assert.True(ProtectionTarget.LastOpened, $"{suite} {type}");
                Assert.Same(suite, CipherSuiteInfo.All[input[0] % CipherSuiteInfo.All.Count]);
            }
        }
    }

    [Fact]
    public void A_protection_input_with_one_bit_flipped_runs_clean_and_does_not_open()
    {
        var input = ProtectionTarget.SealedInput(CipherSuiteInfo.Aes128Ccm8, ContentType.ApplicationData, 1, 5, "sealed"u8, new DeterministicRandom(3));
        input[^1] ^= 1;

        ProtectionTarget.Run(input);

        Assert.False(ProtectionTarget.LastOpened);
    }

    [Fact]
    public void Handshake_seeds_reach_the_ECDHE_PSK_parsers_for_both_groups()
    {
        var serverGroups = new HashSet<ushort>();
        var clientPointLengths = new HashSet<int>();
        foreach (var seed in Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus", "handshake")))
        {
            var message = File.ReadAllBytes(seed);
            if (!HandshakeHeader.TryRead(message, out var header) || !header.IsComplete)
            {
                continue;
            }
            var body = message.AsSpan(HandshakeHeader.Size);
            if (header.MsgType == HandshakeType.ServerKeyExchange && ServerKeyExchangeEcdhePsk.TryParse(body, out _, out var group, out _))
            {
                serverGroups.Add(group);
            }
            if (header.MsgType == HandshakeType.ClientKeyExchange && ClientKeyExchangeEcdhePsk.TryParse(body, out _, out var point))
            {
                clientPointLengths.Add(point.Length);
            }
        }

        Assert.Contains((ushort)NamedGroup.X25519, serverGroups);
        Assert.Contains((ushort)NamedGroup.Secp256r1, serverGroups);
        Assert.Contains(32, clientPointLengths);
        Assert.Contains(65, clientPointLengths);
    }

    [Fact]
    public void ClientHello_seeds_offer_encrypt_then_mac_supported_groups_and_ec_point_formats()
    {
        bool encryptThenMac = false, groups = false, formats = false;
        foreach (var seed in Directory.GetFiles(Path.Combine(FuzzDirectory, "corpus", "client-hello")))
        {
            if (ClientHello.TryParse(File.ReadAllBytes(seed), out var hello))
            {
                encryptThenMac |= hello.OffersEncryptThenMac;
                groups |= hello.HasSupportedGroups && hello.OffersGroup((ushort)NamedGroup.X25519) && hello.OffersGroup((ushort)NamedGroup.Secp256r1);
                formats |= hello.HasEcPointFormats && hello.AcceptsUncompressedPoints;
            }
        }

        Assert.True(encryptThenMac && groups && formats);
    }

    [Theory]
    [InlineData("0016 0001 00", false)]          // encrypt_then_mac with data
    [InlineData("0016 0000", true)]
    [InlineData("0017 0001 00", false)]          // extended_master_secret with data
    [InlineData("000A 0005 0003 001D 17", false)] // supported_groups, odd list
    [InlineData("000A 0002 0000", false)]        // supported_groups, empty list
    [InlineData("000A 0004 0002 001D", true)]
    [InlineData("000A 0004 0004 001D", false)]   // list length past the extension
    [InlineData("000B 0001 00", false)]          // ec_point_formats, empty list
    [InlineData("000B 0002 0100", true)]
    [InlineData("FF01 0001 00", true)]
    [InlineData("FF01 0002 00 00", false)]       // renegotiation_info with trailing data
    [InlineData("1234 0000 1234 0000", false)]   // a type twice
    [InlineData("1234 0001", false)]             // truncated
    [InlineData("0016 0000 0017 0000 000A 0004 0002 0017 000B 0002 0100 FF01 0001 00 ABCD 0000", true)]
    [InlineData("0036 0001 00", true)]           // connection_id, empty CID (RFC 9146 §3: "send me none")
    [InlineData("0036 0005 04 C1C2C3C4", true)]
    [InlineData("0036 0000", false)]             // connection_id without its length byte
    [InlineData("0036 0003 04 C1C2", false)]     // CID length past the extension
    [InlineData("003D 0000", true)]              // rrc
    [InlineData("003D 0001 00", false)]          // rrc with data
    public void The_hello_oracle_reads_extension_blocks_as_the_library_does(string hex, bool valid)
    {
        var block = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

        Assert.Equal(valid, HelloOracle.ReadExtensions(block).Valid);
        Assert.Equal(valid, HelloExtensions.TryScan(block, out HelloExtensionSummary _));
        ClientHelloTarget.Run(block);
    }

    [Fact]
    public void The_hello_oracle_fails_a_scan_that_disagrees_with_the_block()
    {
        var etmWithData = Convert.FromHexString("0016000100");
        var groups = Convert.FromHexString("000A00040002001D");

        // A scanner that accepted encrypt_then_mac with data, or that missed supported_groups, would be caught.
        Assert.Throws<FuzzOracleException>(() => HelloOracle.CheckScan(etmWithData, scanned: true, default, "test"));
        Assert.Throws<FuzzOracleException>(() => HelloOracle.CheckScan(groups, scanned: true, default, "test"));
    }

    [Fact]
    public void Tests_run_against_a_build_with_the_fuzzing_switch_off()
    {
        Assert.False(FuzzingBuild.Enabled);
    }

    [Fact]
    public void The_records_regression_is_a_fragment_reaching_past_its_message()
    {
        // Keeps the regression file honest: it must still hold the input that once broke the records target.
        var input = File.ReadAllBytes(Path.Combine(FuzzDirectory, "regressions", "records", "fragment-past-message"));
        var reader = new HotDtls.Records.DatagramReader(input);
        var found = false;
        while (reader.TryReadRecord(out var header, out var offset))
        {
            var body = input.AsSpan(offset, header.Length);
            found |= header.Type == HotDtls.Records.ContentType.Handshake && body.Length >= 12
                && ((body[6] << 16) | (body[7] << 8) | body[8]) + ((body[9] << 16) | (body[10] << 8) | body[11])
                    > ((body[1] << 16) | (body[2] << 8) | body[3]);
        }
        Assert.True(found);
    }

    [Fact]
    public void A_cookieless_hello_from_a_stranger_passes_the_harness_with_one_HelloVerifyRequest()
    {
        using var harness = new EngineHarness();
        var hello = Wire.ClientHelloDatagram(new byte[32], []);

        harness.Deliver(0, hello);

        Assert.Equal(1, harness.Sender.Datagrams);
        Assert.True(harness.Sender.Bytes <= hello.Length);
        Assert.False(harness.Engine.HasState(EngineHarness.Peers[0]));
    }

    [Fact]
    public void Engine_steps_round_trip_through_the_input_format()
    {
        using var stream = new MemoryStream();
        var hello = Wire.ClientHelloDatagram(new byte[32], []);
        EngineTarget.WriteStep(stream, peer: 3, advanceMs: 1500, hello);
        var bytes = stream.ToArray();

        Assert.Equal(EngineTarget.StepHeaderLength + hello.Length, bytes.Length);
        Assert.Equal(3, bytes[0]);
        Assert.Equal(1500, bytes[1] | (bytes[2] << 8));
        Assert.Equal(hello.Length, bytes[3] | (bytes[4] << 8));
        EngineTarget.Run(bytes);
    }

    [Fact]
    public void Harness_peers_are_distinct_addresses()
    {
        var seen = new HashSet<EndPoint>();
        foreach (var peer in EngineHarness.Peers)
        {
            Assert.True(seen.Add(ServerHarnessEndPoint(peer)));
        }
    }

    private static EndPoint ServerHarnessEndPoint(SocketAddress address)
        => new IPEndPoint(IPAddress.Any, 0).Create(address);

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
