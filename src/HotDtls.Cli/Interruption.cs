using System.Runtime.InteropServices;

namespace HotDtls.Cli;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM turned into cancellation: the default would kill the process before serve sends
/// close_notify, or print a stack trace from a handshake in progress. Remembers which signal came, for the exit code.
/// </summary>
internal sealed class Interruption : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;
    // Written by the signal handler thread before it cancels; read after the token is observed cancelled.
    private volatile int _signalExitCode;

    public Interruption()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Stop(context, ExitCodes.Interrupted));
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Stop(context, ExitCodes.Terminated));
    }

    /// <summary>Cancelled by a signal, or by <see cref="Cancel"/> (serve's "close" line).</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>130 after SIGINT, 143 after SIGTERM, 0 when no signal came.</summary>
    public int SignalExitCode => _signalExitCode;

    /// <summary>Stops without a signal (serve's "close" line).</summary>
    public Task CancelAsync() => _stop.CancelAsync();

    private void Stop(PosixSignalContext context, int exitCode)
    {
        context.Cancel = true;
        if (_signalExitCode == 0)
        {
            _signalExitCode = exitCode;
        }
        _stop.Cancel();
    }

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _stop.Dispose();
    }
}
