using System.Net;

namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// One <c>openssl s_client</c> connection that saves or reuses a session (<c>-sess_out</c> / <c>-sess_in</c>) and
/// reports whether the handshake was new or a resumption: without <c>-brief</c>, s_client prints
/// <c>New, TLSv1.2, Cipher is …</c> or <c>Reused, TLSv1.2, Cipher is …</c> on stdout once the handshake is done.
/// </summary>
internal static class OpenSslSessionClient
{
    /// <summary>Connects, waits for the summary line, closes (close_notify), and returns "New" or "Reused".</summary>
    /// <param name="server">The server.</param>
    /// <param name="suite">The one suite offered.</param>
    /// <param name="sessionArguments">E.g. <c>-sess_out path -no_ticket</c>, or <c>-sess_in path</c>.</param>
    /// <param name="cancellationToken">Gives up.</param>
    public static async Task<string> ConnectAsync(IPEndPoint server, CipherSuite suite, IReadOnlyList<string> sessionArguments,
        CancellationToken cancellationToken)
    {
        var credentials = PeerCredentials.Default;
        var arguments = new List<string>
        {
            "s_client", "-dtls1_2", "-nocommands",
            "-connect", $"{server.Address}:{server.Port}",
            "-psk", credentials.KeyHex, "-psk_identity", credentials.Identity,
            "-cipher", InteropSuites.OpenSslCipherString(suite),
        };
        arguments.AddRange(sessionArguments);
        await using var process = PeerProcess.Start(arguments, static _ => { });
        while (true)
        {
            var line = await PeerWait.ReadLineAsync(process.StdoutLines, "s_client's New/Reused line", () => process.Diagnostics,
                cancellationToken).ConfigureAwait(false);
            if (line.StartsWith("New, ", StringComparison.Ordinal) || line.StartsWith("Reused, ", StringComparison.Ordinal))
            {
                // Closing stdin makes s_client send close_notify and exit, with its session written by then.
                process.CloseStdin();
                await PeerWait.ForAsync(process.Exited, "s_client to exit", () => process.Diagnostics, cancellationToken)
                    .ConfigureAwait(false);
                return line[..line.IndexOf(',', StringComparison.Ordinal)];
            }
        }
    }
}
