using System.Net;
using HotDtls.Fuzz;
using HotDtls.Fuzz.Targets;
using HotDtls.Tests.Support;

namespace HotDtls.Tests.Fuzz;

/// <summary>
/// Every committed fuzz input — seed corpora and the crashes AFL++ found — replayed through its target in this
/// (non-fuzzing) build, so a fixed crash stays fixed; and the harness's own checks, which must be able to fail.
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
    public void Recorded_OpenSSL_handshakes_replay_to_application_data_with_real_cryptography(string seed)
    {
        // The harness's clock, randomness and cookie secret are fixed, so a recorded OpenSSL conversation replays
        // exactly: the cookie still matches and the same keys decrypt OpenSSL's records, with no fuzzing switch.
        EngineTarget.Run(File.ReadAllBytes(Path.Combine(FuzzDirectory, "corpus", "engine", seed)));

        Assert.True(EngineTarget.LastDelivered > 0);
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
