using HotDtls.Diagnostics;

namespace HotDtls.Tests.Diagnostics;

public sealed class LogTextTests
{
    [Fact]
    public void Plain_text_passes_unchanged() => Assert.Equal("Qt DTLS example client", LogText.Printable("Qt DTLS example client", 128));

    [Fact]
    public void Control_characters_are_escaped_so_a_peer_cannot_forge_log_lines()
    {
        var printable = LogText.Printable("evil\r\n12:00:00 info: forged\u001b[2J", 128);
        Assert.DoesNotContain('\n', printable);
        Assert.DoesNotContain('\r', printable);
        Assert.DoesNotContain('\u001b', printable);
        Assert.Equal("evil\\u000d\\u000a12:00:00 info: forged\\u001b[2J", printable);
    }

    [Fact]
    public void Long_text_is_cut_and_the_cut_is_marked()
    {
        var printable = LogText.Printable(new string('x', 1000), 128);
        Assert.StartsWith(new string('x', 128) + "…", printable);
        Assert.Contains("1000 characters", printable);
    }
}
