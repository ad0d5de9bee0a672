namespace HotDtls.Cli.Tests;

/// <summary>`hotdtls connect` as a real process against `hotdtls serve`.</summary>
public sealed class ConnectCommandTests
{
    [Fact]
    public async Task Connect_with_resume_reconnects_with_the_saved_session_and_reports_both_handshakes()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeCommandTests.ServeProcess.StartAsync(cts.Token, "--resume");
        using var connect = ServeCommandTests.StartCli("connect", "127.0.0.1", serve.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--count", "1", "--interval", "100", "--resume");
        var output = ServeCommandTests.Lines(connect.StandardOutput);
        var seen = new List<string>();

        var full = await ServeCommandTests.WaitForLineAsync(output, "New session: full handshake took", seen, cts.Token);
        await ServeCommandTests.WaitForLineAsync(output, "Reconnecting to", seen, cts.Token);
        var resumed = await ServeCommandTests.WaitForLineAsync(output, "Session resumed: abbreviated handshake took", seen, cts.Token);

        Assert.Matches(@"took \d+\.\d\d ms", full);
        Assert.Matches(@"took \d+\.\d\d ms", resumed);
        await connect.WaitForExitAsync(cts.Token);
        Assert.Equal(0, connect.ExitCode);
    }

    [Fact]
    public async Task Connect_without_resume_connects_once()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var serve = await ServeCommandTests.ServeProcess.StartAsync(cts.Token);
        using var connect = ServeCommandTests.StartCli("connect", "127.0.0.1", serve.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--count", "1", "--interval", "100");
        var stdout = await connect.StandardOutput.ReadToEndAsync(cts.Token);
        await connect.WaitForExitAsync(cts.Token);

        Assert.Equal(0, connect.ExitCode);
        Assert.Contains("encrypted", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Reconnecting", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Session resumed", stdout, StringComparison.Ordinal);
    }
}
