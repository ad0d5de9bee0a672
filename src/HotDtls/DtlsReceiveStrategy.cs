namespace HotDtls;

/// <summary>How a <see cref="DtlsServer"/> receive loop waits for datagrams.</summary>
public enum DtlsReceiveStrategy
{
    /// <summary>
    /// A dedicated thread per loop blocked in <c>Socket.ReceiveFrom</c>: one system call per datagram and no
    /// thread-pool hop. The default: it measured fastest (docs/benchmarks.md).
    /// </summary>
    BlockingThread,

    /// <summary><c>Socket.ReceiveFromAsync</c> on the thread pool: no dedicated threads, slower per datagram.</summary>
    Async,
}
