namespace HotDtls.Cluster;

/// <summary>
/// A cluster node's shared keys as they are now (<see cref="DtlsClusterKeys"/>), replaced whole when they rotate — by
/// <see cref="DtlsServer.UpdateClusterKeys"/> or a changed <see cref="DtlsClusterOptions.KeyFile"/> — while the cookie
/// verifiers, the ticket protector and the node-to-node channel read them. Readers take <see cref="Keys"/> once per use
/// and compare <see cref="Version"/> with what they derived their state from.
/// </summary>
internal sealed class ClusterKeyRing
{
    private readonly string? _keyFile;
    private DtlsClusterKeys _keys;
    private int _version;
    private DateTime _fileWriteTime;

    /// <summary>A ring holding <paramref name="keys"/>.</summary>
    public ClusterKeyRing(DtlsClusterKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _keys = keys;
        _version = 1;
    }

    private ClusterKeyRing(DtlsClusterKeys keys, string keyFile, DateTime writeTime)
        : this(keys)
    {
        _keyFile = keyFile;
        _fileWriteTime = writeTime;
    }

    /// <summary>
    /// The ring of a cluster's options: its <see cref="DtlsClusterOptions.Keys"/>, or its key file read now.
    /// </summary>
    /// <exception cref="DtlsException">The key file cannot be read or is not valid (the message says which line and why).</exception>
    public static ClusterKeyRing Create(DtlsClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Keys is { } keys)
        {
            return new ClusterKeyRing(keys);
        }
        var path = options.KeyFile!;
        try
        {
            var writeTime = File.GetLastWriteTimeUtc(path);
            return new ClusterKeyRing(DtlsClusterKeys.Load(path), path, writeTime);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new DtlsException($"Cannot use the cluster key file: {exception.Message}", DtlsExceptionReason.Other, exception);
        }
    }

    /// <summary>The keys now.</summary>
    public DtlsClusterKeys Keys => Volatile.Read(ref _keys);

    /// <summary>Goes up by one each time the keys are replaced.</summary>
    public int Version => Volatile.Read(ref _version);

    /// <summary>The key file the ring reloads from, or null.</summary>
    public string? KeyFile => _keyFile;

    /// <summary>Replaces the keys.</summary>
    public void Replace(DtlsClusterKeys keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        // Keys before version: a reader that sees the new version reads the new keys.
        Volatile.Write(ref _keys, keys);
        Interlocked.Increment(ref _version);
    }

    /// <summary>
    /// Reads the key file again if its modification time changed since it was last read: true if the keys were
    /// replaced. A file that does not read (missing, half-written, invalid) leaves the keys as they were and comes back
    /// as <paramref name="error"/> (a message without secrets); it is tried again on the next call.
    /// </summary>
    public bool TryReloadFile(out string? error)
    {
        error = null;
        if (_keyFile is null)
        {
            return false;
        }
        try
        {
            var writeTime = File.GetLastWriteTimeUtc(_keyFile);
            if (writeTime == _fileWriteTime)
            {
                return false;
            }
            var keys = DtlsClusterKeys.Load(_keyFile);
            _fileWriteTime = writeTime;
            Replace(keys);
            return true;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            error = exception.Message;
            return false;
        }
    }
}
