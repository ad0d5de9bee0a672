namespace HotDtls;

/// <summary>How a <see cref="DtlsServer"/> receive loop waits for datagrams.</summary>
public enum DtlsReceiveStrategy
{
    /// <summary>
    /// A dedicated thread per loop blocked in <c>Socket.ReceiveFrom</c>: one system call per datagram and no
    /// thread-pool hop. Portable; the fastest of the three outside Linux (docs/benchmarks.md).
    /// </summary>
    BlockingThread,

    /// <summary><c>Socket.ReceiveFromAsync</c> on the thread pool: no dedicated threads, slower per datagram.</summary>
    Async,

    /// <summary>
    /// A dedicated thread per loop taking up to 32 datagrams per <c>recvmmsg</c> call and sending the replies with one
    /// <c>sendmmsg</c> (Linux). The default: it measured fastest (docs/benchmarks.md). Where the C library lacks
    /// those calls, the server uses <see cref="BlockingThread"/> instead (see <see cref="DtlsServer.ReceiveStrategy"/>).
    /// </summary>
    Batched,
}
