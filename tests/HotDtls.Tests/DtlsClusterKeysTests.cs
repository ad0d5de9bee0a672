namespace HotDtls.Tests;

public sealed class DtlsClusterKeysTests
{
    private const string CookieA = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    private const string CookieB = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    private const string Ticket = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    private const string Channel = "abababababababababababababababababababababababababababababababab";

    private static string File(params string[] lines) => string.Join('\n', lines);

    [Fact]
    public void A_key_file_reads_each_kind_current_first_and_ignores_comments_and_blank_lines()
    {
        var keys = DtlsClusterKeys.Parse(File(
            "# cluster keys",
            "",
            $"cookie-secret {CookieA}   # current",
            $"ticket-key\t{Ticket}",
            $"  cookie-secret {CookieB}",
            $"channel-key {Channel}\r"));

        Assert.Equal(2, keys.CookieSecrets.Count);
        Assert.Equal(Convert.FromHexString(CookieA), keys.CookieSecrets[0]);
        Assert.Equal(Convert.FromHexString(CookieB), keys.CookieSecrets[1]);
        Assert.Equal(Convert.FromHexString(Ticket), Assert.Single(keys.SessionTicketKeys));
        Assert.Equal(Convert.FromHexString(Channel), Assert.Single(keys.ChannelKeys));
    }

    [Theory]
    [InlineData("cookie-secret 0011", "line 1", "cookie-secret is 32 to 64 bytes")]
    [InlineData("ticket-key 00112233", "line 2", "ticket-key is 48 bytes")]
    [InlineData("cookie-secret zz", "line 1", "not hex")]
    [InlineData("cookie_secret 00", "line 1", "does not start with cookie-secret")]
    [InlineData("cookie-secret", "line 1", "expected '<kind> <hex>'")]
    public void A_bad_line_is_named_without_its_secret(string firstLine, string where, string what)
    {
        var text = firstLine.StartsWith("ticket", StringComparison.Ordinal)
            ? File($"cookie-secret {CookieA}", firstLine, $"channel-key {Channel}")
            : File(firstLine, $"ticket-key {Ticket}", $"channel-key {Channel}");
        var exception = Assert.Throws<FormatException>(() => DtlsClusterKeys.Parse(text, "keys.txt"));

        Assert.StartsWith("keys.txt", exception.Message, StringComparison.Ordinal);
        Assert.Contains(what, exception.Message, StringComparison.Ordinal);
        if (!what.Contains("bytes", StringComparison.Ordinal))
        {
            Assert.Contains(where, exception.Message, StringComparison.Ordinal);
        }
        Assert.DoesNotContain(CookieA, exception.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Ticket, exception.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Each_kind_needs_one_or_two_secrets()
    {
        var missing = Assert.Throws<FormatException>(() => DtlsClusterKeys.Parse(File($"cookie-secret {CookieA}", $"ticket-key {Ticket}")));
        Assert.Contains("one or two channel-key entries", missing.Message, StringComparison.Ordinal);

        var three = Assert.Throws<FormatException>(() => DtlsClusterKeys.Parse(File(
            $"cookie-secret {CookieA}", $"cookie-secret {CookieB}", $"cookie-secret {CookieA}", $"ticket-key {Ticket}", $"channel-key {Channel}")));
        Assert.Contains("one or two cookie-secret entries", three.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_constructor_copies_the_secrets()
    {
        var cookie = Convert.FromHexString(CookieA);
        var keys = new DtlsClusterKeys([cookie], [Convert.FromHexString(Ticket)], [Convert.FromHexString(Channel)]);
        cookie[0] ^= 0xFF;

        Assert.Equal(Convert.FromHexString(CookieA), keys.CookieSecrets[0]);
    }

    [Fact]
    public void Load_reads_a_file_and_a_missing_one_throws_an_IO_error()
    {
        var path = Path.Combine(Path.GetTempPath(), $"hotdtls-keys-{Guid.NewGuid():N}.txt");
        try
        {
            System.IO.File.WriteAllText(path, File($"cookie-secret {CookieA}", $"ticket-key {Ticket}", $"channel-key {Channel}"));
            Assert.Single(DtlsClusterKeys.Load(path).CookieSecrets);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
        Assert.Throws<FileNotFoundException>(() => DtlsClusterKeys.Load(path));
    }
}
