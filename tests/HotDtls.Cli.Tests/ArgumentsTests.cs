using System.Net;

namespace HotDtls.Cli.Tests;

public sealed class ArgumentsTests
{
    private static string? NoEnvironment(string name) => null;

    [Fact]
    public void Defaults_are_the_Qt_examples()
    {
        var arguments = Arguments.Parse(["serve"], NoEnvironment);
        Assert.Equal(IPAddress.Loopback, arguments.Address);
        Assert.Equal(22334, arguments.Port);
        Assert.Equal("Qt DTLS example server", arguments.Hint);
        Assert.Equal("Qt DTLS example client", arguments.Identity);
        Assert.Equal(Convert.FromHexString("1a2b3c4d5e6f"), arguments.Key);
    }

    [Fact]
    public void Options_and_positionals_are_read()
    {
        var arguments = Arguments.Parse(["connect", "10.1.2.3", "5684", "--identity", "dev", "--key", "00ff", "--count", "0", "--interval", "250", "--timeout", "2.5", "-v"], NoEnvironment);
        Assert.Equal("10.1.2.3", arguments.Host);
        Assert.Equal(5684, arguments.Port);
        Assert.Equal("dev", arguments.Identity);
        Assert.Equal(new byte[] { 0x00, 0xff }, arguments.Key);
        Assert.Equal(0, arguments.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(250), arguments.Interval);
        Assert.Equal(TimeSpan.FromSeconds(2.5), arguments.Timeout);
        Assert.True(arguments.Verbose);
    }

    [Fact]
    public void Echo_and_quiet_are_off_unless_asked_for()
    {
        var plain = Arguments.Parse(["serve"], NoEnvironment);
        Assert.False(plain.Echo);
        Assert.False(plain.Quiet);

        var bench = Arguments.Parse(["serve", "--echo", "-q"], NoEnvironment);
        Assert.True(bench.Echo);
        Assert.True(bench.Quiet);
    }

    [Fact]
    public void No_resume_is_off_unless_asked_for()
    {
        Assert.False(Arguments.Parse(["serve"], NoEnvironment).NoResume);
        Assert.True(Arguments.Parse(["serve", "--no-resume"], NoEnvironment).NoResume);
    }

    [Fact]
    public void Serve_resumes_sessions_only_with_resume()
    {
        Assert.False(Arguments.Parse(["serve"], NoEnvironment).ServeResume);
        Assert.True(Arguments.Parse(["serve", "--resume"], NoEnvironment).ServeResume);
        var both = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", "--resume", "--no-resume"], NoEnvironment));
        Assert.Contains("contradict", both.Message);
    }

    [Fact]
    public void Resume_is_off_unless_asked_for()
    {
        Assert.False(Arguments.Parse(["connect", "127.0.0.1"], NoEnvironment).Resume);
        Assert.True(Arguments.Parse(["connect", "127.0.0.1", "22334", "--resume"], NoEnvironment).Resume);
    }

    [Fact]
    public void Loops_and_receive_strategy_are_read()
    {
        Assert.Null(Arguments.Parse(["serve"], NoEnvironment).Loops);
        Assert.Equal(DtlsReceiveStrategy.Batched, Arguments.Parse(["serve"], NoEnvironment).Receive);

        var arguments = Arguments.Parse(["serve", "--loops", "3", "--receive", "async"], NoEnvironment);

        Assert.Equal(3, arguments.Loops);
        Assert.Equal(DtlsReceiveStrategy.Async, arguments.Receive);
        Assert.Equal(DtlsReceiveStrategy.BlockingThread, Arguments.Parse(["serve", "--receive", "blocking"], NoEnvironment).Receive);
        Assert.Equal(DtlsReceiveStrategy.Batched, Arguments.Parse(["serve", "--receive", "batched"], NoEnvironment).Receive);
    }

    [Fact]
    public void Suites_and_groups_are_read_in_order_and_applied()
    {
        Assert.Null(Arguments.Parse(["serve"], NoEnvironment).Suites);
        Assert.Null(Arguments.Parse(["serve"], NoEnvironment).Groups);

        var arguments = Arguments.Parse(["serve", "--suites", "PSK_WITH_AES_128_CCM_8, tls_ecdhe_psk_with_chacha20_poly1305_sha256", "--groups", "p256,x25519"], NoEnvironment);

        Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256], arguments.Suites);
        Assert.Equal([NamedGroup.Secp256r1, NamedGroup.X25519], arguments.Groups);
        var options = new DtlsClientOptions { PskIdentity = "i", PskKey = [1] };
        arguments.ApplyTo(options);
        Assert.Equal(arguments.Suites, options.CipherSuites);
        Assert.Equal(arguments.Groups, options.NamedGroups);
        var untouched = new DtlsClientOptions { PskIdentity = "i", PskKey = [1] };
        Arguments.Parse(["serve"], NoEnvironment).ApplyTo(untouched);
        Assert.Equal(DtlsOptions.DefaultCipherSuites, untouched.CipherSuites);
    }

    [Theory]
    [InlineData(new[] { "--suites", "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256" }, "not a suite HotDtls speaks")]
    [InlineData(new[] { "--suites", "168" }, "not a suite HotDtls speaks")]
    [InlineData(new[] { "--suites", "," }, "at least one")]
    [InlineData(new[] { "--suites", "PSK_WITH_AES_128_CCM,TLS_PSK_WITH_AES_128_CCM" }, "twice")]
    [InlineData(new[] { "--groups", "secp384r1" }, "x25519 or secp256r1")]
    [InlineData(new[] { "--port", "70000" }, "0 to 65535")]
    [InlineData(new[] { "--port" }, "Required argument missing for option: '--port'")]
    [InlineData(new[] { "--bogus" }, "Unrecognized command or argument '--bogus'")]
    [InlineData(new[] { "--loops", "0" }, "1 to 1024")]
    [InlineData(new[] { "--receive", "epoll" }, "'batched', 'blocking' or 'async'")]
    [InlineData(new[] { "--address", "nowhere" }, "IP address")]
    [InlineData(new[] { "--cid-length", "3" }, "0 or 4 to 10")]
    [InlineData(new[] { "--cid-length", "6", "--no-cid" }, "contradict")]
    public void Bad_serve_arguments_say_what_is_wrong(string[] args, string expected)
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", .. args], NoEnvironment));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("xyz")]
    [InlineData("abc")]
    public void A_bad_key_is_refused_without_echoing_it(string key)
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", "--key", key], NoEnvironment));
        Assert.DoesNotContain(key, error.Message);
    }

    [Fact]
    public void An_overlong_key_is_refused()
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", "--key", new string('a', 130)], NoEnvironment));
        Assert.Contains("1 to 64 bytes", error.Message);
    }

    [Theory]
    [InlineData(new[] { "connect", "h", "--interval", "0" }, "milliseconds")]
    [InlineData(new[] { "connect", "h", "--timeout", "0" }, "seconds above 0")]
    [InlineData(new[] { "connect", "h", "1", "extra" }, "Unrecognized command or argument 'extra'")]
    [InlineData(new[] { "connect" }, "Required argument missing")]
    [InlineData(new[] { "serve", "10.1.2.3", "23012" }, "Unrecognized command or argument '10.1.2.3'")]
    [InlineData(new[] { "serve", "--count", "3" }, "Unrecognized command or argument '--count'")]
    [InlineData(new[] { "connect", "h", "--echo" }, "Unrecognized command or argument '--echo'")]
    public void Positionals_and_options_of_the_other_command_are_refused(string[] args, string expected)
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(args, NoEnvironment));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void The_key_comes_from_key_then_key_file_then_HOTDTLS_KEY_then_the_seed()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "  0a0b0c\n");
            string? Environment(string name) => name == "HOTDTLS_KEY" ? "ffee" : null;

            Assert.Equal(new byte[] { 0x01 }, Arguments.Parse(["serve", "--key", "01", "--key-file", file], Environment).Key);
            Assert.Equal(new byte[] { 0x0a, 0x0b, 0x0c }, Arguments.Parse(["serve", "--key-file", file], Environment).Key);
            Assert.Equal(new byte[] { 0xff, 0xee }, Arguments.Parse(["connect", "h"], Environment).Key);
            Assert.Equal(Convert.FromHexString("1a2b3c4d5e6f"), Arguments.Parse(["connect", "h"], NoEnvironment).Key);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_bad_key_in_a_file_or_the_environment_is_refused_without_echoing_it()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "secretzz");
            var fromFile = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", "--key-file", file], NoEnvironment));
            Assert.Contains("--key-file", fromFile.Message);
            Assert.DoesNotContain("secretzz", fromFile.Message);

            var fromEnvironment = Assert.Throws<UsageException>(() => Arguments.Parse(["serve"], _ => "secretzz"));
            Assert.Contains("HOTDTLS_KEY", fromEnvironment.Message);
            Assert.DoesNotContain("secretzz", fromEnvironment.Message);
        }
        finally
        {
            File.Delete(file);
        }
        var missing = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", "--key-file", "/nonexistent/hotdtls.key"], NoEnvironment));
        Assert.Contains("cannot read", missing.Message);
    }

    [Fact]
    public void A_config_file_fills_in_what_the_command_line_leaves_out()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """
                { "HotDtls": { "Server": { "EndPoint": "0.0.0.0:5684", "Psk": { "IdentityHint": "gateway", "Key": "0a0b" },
                  "CipherSuites": [ "TLS_PSK_WITH_AES_128_CCM_8" ], "ReceiveLoops": 2, "EnableSessionTickets": true } } }
                """);

            var fromFile = Arguments.Parse(["serve", "--config", file], NoEnvironment);
            Assert.Equal(IPAddress.Any, fromFile.Address);
            Assert.Equal(5684, fromFile.Port);
            Assert.Equal("gateway", fromFile.Hint);
            Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_CCM_8], fromFile.Suites);
            Assert.Equal(2, fromFile.Loops);
            Assert.True(fromFile.File.Options!.EnableSessionTickets);
            Assert.NotNull(fromFile.File.PskStore);
            Assert.False(fromFile.KeyGiven);

            var overridden = Arguments.Parse(["serve", "--config", file, "--port", "7000", "--hint", "cli", "--loops", "1"], NoEnvironment);
            Assert.Equal(7000, overridden.Port);
            Assert.Equal("cli", overridden.Hint);
            Assert.Equal(1, overridden.Loops);
            Assert.Equal(IPAddress.Any, overridden.Address);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void A_config_file_with_a_bad_value_is_a_usage_error()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, """{ "HotDtls": { "Server": { "EndPoint": "127.0.0.1:70000" } } }""");
            var error = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", "--config", file], NoEnvironment));
            Assert.Contains("HotDtls:Server:EndPoint", error.Message);

            File.WriteAllText(file, """{ "Port": 5684 }""");
            var unknown = Assert.Throws<UsageException>(() => Arguments.Parse(["serve", "--config", file], NoEnvironment));
            Assert.Contains("Port", unknown.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Theory]
    [InlineData("127.0.0.1", 59925, "to (127.0.0.1:59925): ACK")]
    [InlineData("::1", 59925, "to (::1:59925): ACK")]
    public void The_reply_is_the_seeds_with_the_peer_in_parentheses(string address, int port, string expected)
        => Assert.Equal(expected, ServeCommand.AckHandler.ReplyTo(new IPEndPoint(IPAddress.Parse(address), port)));
}
