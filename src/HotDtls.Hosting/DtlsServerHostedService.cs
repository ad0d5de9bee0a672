using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace HotDtls.Hosting;

/// <summary>
/// Runs the container's <see cref="DtlsServer"/> with the host: the options are checked when the host is starting,
/// the port is bound when it starts, and every peer is sent close_notify when it begins to stop. Registered by
/// <c>AddDtlsServer</c> (<see cref="DtlsServiceCollectionExtensions"/>);
/// resolve it to reach the running server (for example its <see cref="DtlsServer.LocalEndPoint"/> when the
/// configured port is 0).
/// </summary>
/// <remarks>
/// The server stops in <see cref="StoppingAsync"/>, before any hosted service's <c>StopAsync</c>: the handler may use
/// services that stop then, and no datagram reaches it after that point.
/// </remarks>
public sealed class DtlsServerHostedService : IHostedLifecycleService, IAsyncDisposable
{
    private readonly IOptions<DtlsServerOptions> _options;
    private readonly DtlsServerHandler _handler;
    private readonly ILoggerFactory? _loggerFactory;
    private DtlsServer? _server;

    internal DtlsServerHostedService(IOptions<DtlsServerOptions> options, DtlsServerHandler handler, ILoggerFactory? loggerFactory)
    {
        _options = options;
        _handler = handler;
        _loggerFactory = loggerFactory;
    }

    /// <summary>The server, once the host is starting (<see langword="null"/> before); stopped once the host is stopping.</summary>
    public DtlsServer? Server => Volatile.Read(ref _server);

    /// <summary>The options the server runs with (bound and validated when the host is starting).</summary>
    public DtlsServerOptions Options => _options.Value;

    /// <summary>
    /// Reads and validates the options and creates the server, before any hosted service starts: bad configuration
    /// fails the host's start with an <see cref="OptionsValidationException"/> naming the key.
    /// </summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_server is null)
        {
            var server = new DtlsServer(_options.Value, _handler, _loggerFactory);
            // Publishes the fully constructed server to health checks on other threads.
            Volatile.Write(ref _server, server);
        }
        return Task.CompletedTask;
    }

    /// <summary>Binds the port and starts receiving.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <exception cref="DtlsException">The port cannot be bound (in use, not this machine's address, no permission).</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await StartingAsync(cancellationToken).ConfigureAwait(false);
        await _server!.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Nothing to do once every service has started.</summary>
    /// <param name="cancellationToken">Unused.</param>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Sends close_notify to every peer, stops receiving and closes the sockets.</summary>
    /// <param name="cancellationToken">Ends the wait for the receive loops (the host's shutdown timeout).</param>
    public Task StoppingAsync(CancellationToken cancellationToken) => Server?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    /// <summary>Stops the server if <see cref="StoppingAsync"/> has not (a host that skipped it).</summary>
    /// <param name="cancellationToken">Ends the wait for the receive loops.</param>
    public Task StopAsync(CancellationToken cancellationToken) => StoppingAsync(cancellationToken);

    /// <summary>Nothing to do once every service has stopped.</summary>
    /// <param name="cancellationToken">Unused.</param>
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Stops the server if it is still running (a host disposed without stopping).</summary>
    public ValueTask DisposeAsync() => Server?.DisposeAsync() ?? ValueTask.CompletedTask;
}
