using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace HotDtls.Diagnostics;

/// <summary>
/// The NSS key log (the SSLKEYLOGFILE format Wireshark reads): one line per session as its master secret is derived,
/// <c>CLIENT_RANDOM &lt;client random, 64 hex&gt; &lt;master secret, 96 hex&gt;</c>. Whoever reads the file can decrypt
/// every session in it, so it exists only when the application asked for it twice (<see cref="DtlsOptions.KeyLogPath"/>
/// and the <see cref="DtlsOptions.KeyLoggingSwitch"/> AppContext switch, checked when the options are validated).
/// </summary>
/// <remarks>
/// Called once per handshake, never per datagram. Several receive loops share one writer, hence the lock. A failing
/// write must not end a handshake: it is reported once and the session carries on without its line.
/// </remarks>
internal sealed class KeyLogWriter : IDisposable
{
    /// <summary>"CLIENT_RANDOM " + 32 bytes in hex + " " + 48 bytes in hex + "\n".</summary>
    public const int LineLength = 14 + 2 * ClientRandomLength + 1 + 2 * MasterSecretLength + 1;

    private const int ClientRandomLength = 32;
    private const int MasterSecretLength = 48;

    private readonly Stream _stream;
    private readonly ILogger _logger;
    private readonly string _name;
    private readonly Lock _lock = new();
    // Set by the first failed write so that a full disk reports once, not once per handshake.
    private int _failureReported;

    /// <param name="stream">Where the lines go; owned (disposed) by the writer.</param>
    /// <param name="logger">Where the "key logging is on" and write-failure warnings go.</param>
    /// <param name="name">The file's name, for those warnings.</param>
    public KeyLogWriter(Stream stream, ILogger logger, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(logger);
        _stream = stream;
        _logger = logger;
        _name = name;
        Log.KeyLoggingEnabled(logger, name);
    }

    /// <summary>
    /// Opens <paramref name="path"/> for appending, shared so that Wireshark (or another process logging to the same
    /// file) may read and write it meanwhile.
    /// </summary>
    /// <exception cref="IOException">The file cannot be opened.</exception>
    /// <exception cref="UnauthorizedAccessException">The process may not write it.</exception>
    public static KeyLogWriter Open(string path, ILogger logger)
    {
        // bufferSize 0: each line goes to the file as it is written; nothing waits in a buffer for a crash to lose.
        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
        return new KeyLogWriter(stream, logger, path);
    }

    /// <summary>Appends one session's line. Never throws: a failure is logged (once) and the line is lost.</summary>
    public void Write(ReadOnlySpan<byte> clientRandom, ReadOnlySpan<byte> masterSecret)
    {
        Span<byte> line = stackalloc byte[LineLength];
        try
        {
            Format(clientRandom, masterSecret, line);
            lock (_lock)
            {
                // .NET's FileMode.Append does not open with O_APPEND: another writer of the same file (the other role
                // in this process, or another process) moves the end, so each line seeks to it first.
                if (_stream.CanSeek)
                {
                    _stream.Seek(0, SeekOrigin.End);
                }
                _stream.Write(line);
                _stream.Flush();
            }
        }
#pragma warning disable CA1031 // Whatever the file does (full disk, closed, revoked permission), the handshake goes on.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            // The exception's message may name the path, never the secret: the line is not in it.
            if (Interlocked.Exchange(ref _failureReported, 1) == 0)
            {
                Log.KeyLogWriteFailed(_logger, _name, exception.GetType().Name);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(line);
        }
    }

    /// <summary>Writes the line for one session into <paramref name="line"/> (<see cref="LineLength"/> bytes).</summary>
    internal static void Format(ReadOnlySpan<byte> clientRandom, ReadOnlySpan<byte> masterSecret, Span<byte> line)
    {
        if (clientRandom.Length != ClientRandomLength || masterSecret.Length != MasterSecretLength || line.Length != LineLength)
        {
            ThrowLengths();
        }
        "CLIENT_RANDOM "u8.CopyTo(line);
        var at = WriteHex(clientRandom, line, 14);
        line[at++] = (byte)' ';
        at = WriteHex(masterSecret, line, at);
        line[at] = (byte)'\n';
    }

    private static int WriteHex(ReadOnlySpan<byte> value, Span<byte> line, int at)
    {
        ReadOnlySpan<byte> digits = "0123456789abcdef"u8;
        foreach (var b in value)
        {
            line[at++] = digits[b >> 4];
            line[at++] = digits[b & 0xF];
        }
        return at;
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private static void ThrowLengths()
        => throw new ArgumentException($"A key log line takes a {ClientRandomLength}-byte client random and a {MasterSecretLength}-byte master secret.");

    public void Dispose()
    {
        lock (_lock)
        {
            _stream.Dispose();
        }
    }
}
