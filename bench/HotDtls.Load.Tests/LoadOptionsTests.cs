namespace HotDtls.Load.Tests;

public class LoadOptionsTests
{
    [Fact]
    public void Echo_defaults_are_the_benchmark_figures()
    {
        var o = LoadOptions.Parse(["echo", "--server", "127.0.0.1:22334"]);
        Assert.Equal(LoadMode.Echo, o.Mode);
        Assert.Equal(("127.0.0.1", 22334), (o.Host, o.Port));
        Assert.Equal((16, 8, 1200), (o.Sessions, o.Window, o.Size));
        Assert.Equal(10, o.DurationSeconds);
        Assert.Equal(1, o.WarmupSeconds);
        Assert.Equal(0, o.Rate);
        Assert.Equal("Qt DTLS example client", o.Identity);
        Assert.Equal(Convert.FromHexString("1a2b3c4d5e6f"), o.Key);
        Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384], o.Suites);
        Assert.Empty(o.Groups);
        Assert.False(o.OffersEcdhe);
        Assert.False(o.Plain);
    }

    [Fact]
    public void The_default_offer_is_plain_PSK_GCM_whatever_the_library_defaults_to()
    {
        // Every figure before the new suites measured PSK AES-128-GCM (AES-256-GCM second): the generator keeps offering
        // exactly that, not DtlsOptions.DefaultCipherSuites (which leads with ECDHE_PSK).
        foreach (var mode in new[] { "handshake", "echo", "hold" })
        {
            var o = LoadOptions.Parse([mode, "--server", "h:1"]);
            Assert.Equal(LoadOptions.DefaultSuites, o.Suites);
            var client = Runner.ClientOptions(o);
            Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256, CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384], client.CipherSuites);
        }
    }

    [Fact]
    public void Cid_offers_connection_id_with_an_empty_CID_of_the_clients_own_and_needs_DTLS()
    {
        var without = LoadOptions.Parse(["hold", "--server", "h:1"]);
        Assert.False(without.ConnectionId);
        Assert.Null(Runner.ClientOptions(without).ConnectionIdLength);

        foreach (var mode in new[] { "handshake", "echo", "hold" })
        {
            var o = LoadOptions.Parse([mode, "--server", "h:1", "--cid"]);
            Assert.True(o.ConnectionId);
            Assert.Equal(0, Runner.ClientOptions(o).ConnectionIdLength);
        }
        var error = Assert.Throws<UsageException>(() => LoadOptions.Parse(["echo", "--server", "h:1", "--plain", "--cid"]));
        Assert.Contains("--cid needs DTLS", error.Message);
    }

    [Fact]
    public void Every_suite_has_one_short_name()
    {
        var named = LoadOptions.SuiteNames.Select(n => n.Suite).ToList();
        Assert.Equal(named.Count, named.Distinct().Count());
        Assert.Equal(Enum.GetValues<CipherSuite>().OrderBy(s => s), named.OrderBy(s => s));
        foreach (var (name, suite) in LoadOptions.SuiteNames)
        {
            Assert.Equal([suite], LoadOptions.ParseSuites(name));
            Assert.Equal(name, LoadOptions.ShortName(suite));
            Assert.Equal(name.StartsWith("ecdhe-", StringComparison.Ordinal), LoadOptions.IsEcdhe(suite));
        }
    }

    [Theory]
    [InlineData("aes128gcm", CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256)]
    [InlineData("aes256gcm", CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    [InlineData("AES256GCM", CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384)]
    [InlineData("tls_psk_with_aes_128_gcm_sha256", CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256)]
    [InlineData("TLS_PSK_WITH_AES_128_CCM_8", CipherSuite.TLS_PSK_WITH_AES_128_CCM_8)]
    [InlineData("TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256", CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256)]
    [InlineData("psk-aes128cbc", CipherSuite.TLS_PSK_WITH_AES_128_CBC_SHA256)]
    [InlineData("ECDHE-CBC", CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256)]
    public void Old_spellings_and_IANA_names_are_read(string name, CipherSuite suite)
        => Assert.Equal([suite], LoadOptions.Parse(["echo", "--server", "h:1", "--suite", name]).Suites);

    [Fact]
    public void A_suite_list_keeps_its_order_and_names_each_suite_once()
    {
        var o = LoadOptions.Parse(["handshake", "--server", "h:1", "--suite", "ecdhe-chacha20, psk-aes128ccm8,TLS_PSK_WITH_AES_128_CCM_8,aes128gcm"]);
        Assert.Equal([CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256, CipherSuite.TLS_PSK_WITH_AES_128_CCM_8,
            CipherSuite.TLS_PSK_WITH_AES_128_GCM_SHA256], o.Suites);
        Assert.True(o.OffersEcdhe);
    }

    [Fact]
    public void Groups_go_to_the_client_in_the_order_given()
    {
        var o = LoadOptions.Parse(["handshake", "--server", "h:1", "--suite", "ecdhe-aes128gcm", "--group", "p256"]);
        Assert.Equal([NamedGroup.Secp256r1], o.Groups);
        var client = Runner.ClientOptions(o);
        Assert.Equal([CipherSuite.TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256], client.CipherSuites);
        Assert.Equal([NamedGroup.Secp256r1], client.NamedGroups);

        var both = LoadOptions.Parse(["echo", "--server", "h:1", "--suite", "ecdhe-cbc", "--group", "P-256,x25519"]);
        Assert.Equal([NamedGroup.Secp256r1, NamedGroup.X25519], Runner.ClientOptions(both).NamedGroups);

        // Without --group the library's default: X25519, then P-256.
        var neither = LoadOptions.Parse(["echo", "--server", "h:1", "--suite", "ecdhe-chacha20"]);
        Assert.Empty(neither.Groups);
        Assert.Equal([NamedGroup.X25519, NamedGroup.Secp256r1], Runner.ClientOptions(neither).NamedGroups);
    }

    [Fact]
    public void Each_mode_gets_its_own_defaults()
    {
        var handshake = LoadOptions.Parse(["handshake", "--server", "h:1"]);
        Assert.Equal((10_000L, 32, 0.0), (handshake.Handshakes, handshake.Concurrency, handshake.WarmupSeconds));
        Assert.Null(handshake.DurationSeconds);

        var hold = LoadOptions.Parse(["hold", "--server", "h:1"]);
        Assert.Equal((1000, 64, 16), (hold.Sessions, hold.Concurrency, hold.Size));

        var ceiling = LoadOptions.Parse(["ceiling"]);
        Assert.True(ceiling.SelfTest);
        Assert.True(ceiling.Plain);
    }

    [Fact]
    public void Failover_asks_for_tickets_and_gives_up_on_a_reconnect_handshake_sooner()
    {
        var o = LoadOptions.Parse(["failover", "--server", "h:1"]);
        Assert.Equal(LoadMode.Failover, o.Mode);
        Assert.Equal((16, 30.0, 200.0, 1000, 3000), (o.Sessions, o.DurationSeconds!.Value, o.IntervalMs, o.TimeoutMs, o.HandshakeTimeoutMs));
        var client = Runner.ClientOptions(o);
        Assert.True(client.UseSessionTickets);
        Assert.Null(client.ConnectionIdLength);
        Assert.Equal(TimeSpan.FromMilliseconds(3000), client.HandshakeTimeout);

        var given = LoadOptions.Parse(["failover", "--server", "h:1", "-k", "300", "-d", "60", "--interval", "50",
            "--timeout", "400", "--handshake-timeout", "8000", "--cid"]);
        Assert.Equal((300, 60.0, 50.0, 400, 8000), (given.Sessions, given.DurationSeconds!.Value, given.IntervalMs, given.TimeoutMs, given.HandshakeTimeoutMs));
        Assert.Equal(0, Runner.ClientOptions(given).ConnectionIdLength);
        // Other modes keep their 10 s and ask for tickets only with --resume ticket.
        var echo = LoadOptions.Parse(["echo", "--server", "h:1"]);
        Assert.Equal(10_000, echo.HandshakeTimeoutMs);
        Assert.False(Runner.ClientOptions(echo).UseSessionTickets);
    }

    [Fact]
    public void Rebind_always_offers_a_CID_and_moves_three_times_by_default()
    {
        var o = LoadOptions.Parse(["rebind", "--server", "h:1"]);
        Assert.Equal(LoadMode.Rebind, o.Mode);
        Assert.Equal((16, 3, 200.0, 1000), (o.Sessions, o.Rebinds, o.IntervalMs, o.TimeoutMs));
        Assert.Null(o.DurationSeconds);
        Assert.True(o.ConnectionId);
        var client = Runner.ClientOptions(o);
        Assert.Equal(0, client.ConnectionIdLength);
        Assert.False(client.UseSessionTickets);

        var given = LoadOptions.Parse(["rebind", "--server", "h:1", "-k", "5", "--rebinds", "7", "--interval", "10", "--timeout", "300"]);
        Assert.Equal((5, 7, 10.0, 300), (given.Sessions, given.Rebinds, given.IntervalMs, given.TimeoutMs));
    }

    [Fact]
    public void Interval_is_in_seconds_for_hold_and_in_milliseconds_for_failover_and_rebind()
    {
        var hold = LoadOptions.Parse(["hold", "--server", "h:1", "--interval", "5"]);
        Assert.Equal((5.0, 200.0), (hold.IntervalSeconds, hold.IntervalMs));
        var failover = LoadOptions.Parse(["failover", "--server", "h:1", "--interval", "5"]);
        Assert.Equal((30.0, 5.0), (failover.IntervalSeconds, failover.IntervalMs));
    }

    [Fact]
    public void Short_and_long_options_are_read()
    {
        var o = LoadOptions.Parse(["echo", "--server", "[::1]:4433", "-k", "4", "-w", "2", "-s", "64", "-d", "2.5",
            "--rate", "5000", "--warmup", "0", "--plain", "--json", "--cpu", "0,2-3", "--threads", "2", "--timeout", "50",
            "--suite", "aes256gcm", "--identity", "me", "--key", "00ff"]);
        Assert.Equal(("::1", 4433), (o.Host, o.Port));
        Assert.Equal((4, 2, 64, 2.5, 5000.0, 0.0), (o.Sessions, o.Window, o.Size, o.DurationSeconds!.Value, o.Rate, o.WarmupSeconds));
        Assert.True(o.Plain && o.Json);
        Assert.Equal([0, 2, 3], o.Cpus);
        Assert.Equal((2, 50), (o.Threads, o.TimeoutMs));
        Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_256_GCM_SHA384], o.Suites);
        Assert.Equal("me", o.Identity);
        Assert.Equal(new byte[] { 0x00, 0xff }, o.Key);
    }

    [Fact]
    public void Batches_are_on_unless_turned_off_and_sockets_are_kept_unless_released()
    {
        Assert.False(LoadOptions.Parse(["echo", "--server", "h:1"]).NoBatch);
        Assert.True(LoadOptions.Parse(["echo", "--server", "h:1", "--no-batch"]).NoBatch);
        Assert.True(LoadOptions.Parse(["ceiling", "--no-batch"]).NoBatch);
        Assert.False(LoadOptions.Parse(["hold", "--server", "h:1"]).ReleaseSockets);
        var hold = LoadOptions.Parse(["hold", "--server", "127.0.0.1:1", "-k", "100000", "--release-sockets"]);
        Assert.True(hold.ReleaseSockets);
        Assert.Equal(100_000, hold.Sessions);
    }

    [Theory]
    [InlineData(new[] { "bogus" }, "Unknown mode 'bogus'")]
    [InlineData(new[] { "echo" }, "echo needs --server HOST:PORT")]
    [InlineData(new[] { "echo", "--server", "localhost" }, "--server needs HOST:PORT")]
    [InlineData(new[] { "echo", "--server", "::1:5" }, "[ADDRESS]:PORT")]
    [InlineData(new[] { "echo", "--server", "h:70000" }, "from 1 to 65535")]
    [InlineData(new[] { "echo", "--server", "h:1", "-k" }, "-k needs a value")]
    [InlineData(new[] { "echo", "--server", "h:1", "-k", "0" }, "-k needs a whole number from 1")]
    [InlineData(new[] { "echo", "--server", "h:1", "-d", "-1" }, "-d needs a number above 0")]
    [InlineData(new[] { "echo", "--server", "h:1", "--frob" }, "Unknown option '--frob'")]
    [InlineData(new[] { "echo", "--server", "h:1", "-k", "2", "-k", "3" }, "-k is given twice")]
    [InlineData(new[] { "handshake", "--server", "h:1", "--plain" }, "--plain has no handshake mode")]
    [InlineData(new[] { "hold", "--server", "h:1", "--rate", "10" }, "--rate belongs to echo")]
    [InlineData(new[] { "ceiling", "--server", "h:1", "--pid", "10" }, "--pid belongs to hold, echo and handshake")]
    [InlineData(new[] { "echo", "--server", "h:1", "--release-sockets" }, "--release-sockets belongs to hold")]
    [InlineData(new[] { "hold", "--server", "h:1", "--no-batch" }, "--no-batch belongs to echo")]
    [InlineData(new[] { "handshake", "--server", "h:1", "--no-batch" }, "--no-batch belongs to echo")]
    [InlineData(new[] { "ceiling", "--self-test", "--server", "h:1" }, "not both")]
    [InlineData(new[] { "echo", "--server", "h:1", "--self-test" }, "--self-test belongs to the ceiling")]
    [InlineData(new[] { "echo", "--server", "h:1", "--suite", "rc4" }, "Unknown suite 'rc4'")]
    [InlineData(new[] { "echo", "--server", "h:1", "--suite", "168" }, "Unknown suite '168'")]
    [InlineData(new[] { "echo", "--server", "h:1", "--suite", "psk-aes128gcm,,aes256gcm" }, "Unknown suite ''")]
    [InlineData(new[] { "echo", "--server", "h:1", "--group", "x25519" }, "--group needs an ECDHE_PSK suite")]
    [InlineData(new[] { "echo", "--server", "h:1", "--suite", "psk-chacha20", "--group", "p256" }, "--group needs an ECDHE_PSK suite")]
    [InlineData(new[] { "echo", "--server", "h:1", "--suite", "ecdhe-chacha20", "--group", "x448" }, "Unknown group 'x448'")]
    [InlineData(new[] { "echo", "--server", "h:1", "--cpu", "x" }, "--cpu needs CPU numbers")]
    [InlineData(new[] { "echo", "--server", "h:1", "--interval", "5" }, "--interval belongs to hold (seconds), failover and rebind")]
    [InlineData(new[] { "failover", "--server", "h:1", "--rebinds", "2" }, "--rebinds belongs to rebind")]
    [InlineData(new[] { "rebind", "--server", "h:1", "--rebinds", "0" }, "--rebinds needs a whole number from 1 to 1000")]
    [InlineData(new[] { "rebind", "--server", "h:1", "-d", "3" }, "it takes --rebinds, not -d")]
    [InlineData(new[] { "failover", "--server", "h:1", "--plain" }, "--plain has no failover mode")]
    [InlineData(new[] { "rebind", "--server", "h:1", "--plain" }, "--plain has no rebind mode")]
    [InlineData(new[] { "rebind", "--server", "h:1", "--resume", "ticket" }, "--resume belongs to handshake mode")]
    [InlineData(new[] { "failover", "--server", "h:1", "--interval", "0" }, "--interval needs a number above 0")]
    [InlineData(new[] { "failover" }, "failover needs --server HOST:PORT")]
    public void Bad_command_lines_say_what_to_change(string[] args, string message)
    {
        var exception = Assert.Throws<UsageException>(() => LoadOptions.Parse(args));
        Assert.Contains(message, exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_key_is_never_echoed_back()
    {
        var exception = Assert.Throws<UsageException>(() => LoadOptions.Parse(["echo", "--server", "h:1", "--key", "secretzz"]));
        Assert.DoesNotContain("secretzz", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ceiling_against_a_server_is_plain_and_no_self_test()
    {
        var o = LoadOptions.Parse(["ceiling", "--server", "127.0.0.1:7"]);
        Assert.False(o.SelfTest);
        Assert.True(o.Plain);
        Assert.Equal("127.0.0.1:7", o.ServerText);
    }

    [Fact]
    public void Resume_belongs_to_handshake_mode_and_names_id_or_ticket()
    {
        Assert.Equal("ticket", LoadOptions.Parse(["handshake", "--server", "127.0.0.1:1", "--resume", "ticket"]).Resume);
        Assert.Contains("handshake mode", Assert.Throws<UsageException>(
            () => LoadOptions.Parse(["echo", "--server", "127.0.0.1:1", "--resume", "id"])).Message, StringComparison.Ordinal);
        Assert.Contains("id (session-ID resumption) or ticket", Assert.Throws<UsageException>(
            () => LoadOptions.Parse(["handshake", "--server", "127.0.0.1:1", "--resume", "both"])).Message, StringComparison.Ordinal);
    }
}
