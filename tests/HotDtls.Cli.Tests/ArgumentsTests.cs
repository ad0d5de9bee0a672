using System.Net;

namespace HotDtls.Cli.Tests;

public sealed class ArgumentsTests
{
    [Fact]
    public void Defaults_are_the_Qt_examples()
    {
        var arguments = Arguments.Parse([]);
        Assert.Equal(IPAddress.Loopback, arguments.Address);
        Assert.Equal(22334, arguments.Port);
        Assert.Equal("Qt DTLS example server", arguments.Hint);
        Assert.Equal("Qt DTLS example client", arguments.Identity);
        Assert.Equal(Convert.FromHexString("1a2b3c4d5e6f"), arguments.Key);
    }

    [Fact]
    public void Options_and_positionals_are_read()
    {
        var arguments = Arguments.Parse(["10.1.2.3", "5684", "--identity", "dev", "--key", "00ff", "--count", "0", "--interval", "250", "-v"]);
        Assert.Equal("10.1.2.3", arguments.Host);
        Assert.Equal(5684, arguments.Port);
        Assert.Equal("dev", arguments.Identity);
        Assert.Equal(new byte[] { 0x00, 0xff }, arguments.Key);
        Assert.Equal(0, arguments.Count);
        Assert.Equal(TimeSpan.FromMilliseconds(250), arguments.Interval);
        Assert.True(arguments.Verbose);
    }

    [Fact]
    public void Echo_and_quiet_are_off_unless_asked_for()
    {
        var plain = Arguments.Parse([]);
        Assert.False(plain.Echo);
        Assert.False(plain.Quiet);

        var bench = Arguments.Parse(["--echo", "-q"]);
        Assert.True(bench.Echo);
        Assert.True(bench.Quiet);
    }

    [Fact]
    public void No_resume_is_off_unless_asked_for()
    {
        Assert.False(Arguments.Parse([]).NoResume);
        Assert.True(Arguments.Parse(["--no-resume"]).NoResume);
    }

    [Fact]
    public void Resume_is_off_unless_asked_for()
    {
        Assert.False(Arguments.Parse([]).Resume);
        Assert.True(Arguments.Parse(["127.0.0.1", "22334", "--resume"]).Resume);
    }

    [Fact]
    public void Loops_and_receive_strategy_are_read()
    {
        Assert.Null(Arguments.Parse([]).Loops);
        Assert.Equal(DtlsReceiveStrategy.Batched, Arguments.Parse([]).Receive);

        var arguments = Arguments.Parse(["--loops", "3", "--receive", "async"]);

        Assert.Equal(3, arguments.Loops);
        Assert.Equal(DtlsReceiveStrategy.Async, arguments.Receive);
        Assert.Equal(DtlsReceiveStrategy.BlockingThread, Arguments.Parse(["--receive", "blocking"]).Receive);
        Assert.Equal(DtlsReceiveStrategy.Batched, Arguments.Parse(["--receive", "batched"]).Receive);
    }

    [Fact]
    public void Suites_and_groups_are_read_in_order_and_applied()
    {
        Assert.Null(Arguments.Parse([]).Suites);
        Assert.Null(Arguments.Parse([]).Groups);

        var arguments = Arguments.Parse(["--suites", "PSK_WITH_AES_128_CCM_8, tls_ecdhe_psk_with_chacha20_poly1305_sha256", "--groups", "p256,x25519"]);

        Assert.Equal([CipherSuite.TLS_PSK_WITH_AES_128_CCM_8, CipherSuite.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256], arguments.Suites);
        Assert.Equal([NamedGroup.Secp256r1, NamedGroup.X25519], arguments.Groups);
        var options = new DtlsClientOptions { PskIdentity = "i", PskKey = [1] };
        arguments.ApplyTo(options);
        Assert.Equal(arguments.Suites, options.CipherSuites);
        Assert.Equal(arguments.Groups, options.NamedGroups);
        var untouched = new DtlsClientOptions { PskIdentity = "i", PskKey = [1] };
        Arguments.Parse([]).ApplyTo(untouched);
        Assert.Equal(DtlsOptions.DefaultCipherSuites, untouched.CipherSuites);
    }

    [Theory]
    [InlineData(new[] { "--suites", "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256" }, "not a suite HotDtls speaks")]
    [InlineData(new[] { "--suites", "168" }, "not a suite HotDtls speaks")]
    [InlineData(new[] { "--suites", "," }, "at least one")]
    [InlineData(new[] { "--suites", "PSK_WITH_AES_128_CCM,TLS_PSK_WITH_AES_128_CCM" }, "twice")]
    [InlineData(new[] { "--groups", "secp384r1" }, "x25519 or secp256r1")]
    [InlineData(new[] { "--port", "70000" }, "0 to 65535")]
    [InlineData(new[] { "--port" }, "needs a value")]
    [InlineData(new[] { "--bogus" }, "Unknown option")]
    [InlineData(new[] { "--loops", "0" }, "1 to 1024")]
    [InlineData(new[] { "--receive", "epoll" }, "'batched', 'blocking' or 'async'")]
    [InlineData(new[] { "--address", "nowhere" }, "IP address")]
    [InlineData(new[] { "--interval", "0" }, "milliseconds")]
    [InlineData(new[] { "a", "1", "extra" }, "Unexpected argument")]
    public void Bad_arguments_say_what_is_wrong(string[] args, string expected)
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(args));
        Assert.Contains(expected, error.Message);
    }

    [Theory]
    [InlineData("xyz")]
    [InlineData("abc")]
    public void A_bad_key_is_refused_without_echoing_it(string key)
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(["--key", key]));
        Assert.DoesNotContain(key, error.Message);
    }

    [Fact]
    public void An_overlong_key_is_refused()
    {
        var error = Assert.Throws<UsageException>(() => Arguments.Parse(["--key", new string('a', 130)]));
        Assert.Contains("1 to 64 bytes", error.Message);
    }
}
