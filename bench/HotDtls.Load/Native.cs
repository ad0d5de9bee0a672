using System.Buffers.Binary;
using System.ComponentModel;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace HotDtls.Load;

/// <summary>
/// The few Linux calls .NET does not expose: epoll over many sockets from one thread, batched receive and send
/// (<see cref="MessageBatch"/>), per-thread CPU time, and CPU pinning. Structs cross as byte and long arrays (no unsafe code): the layouts are written out here.
/// </summary>
internal static class Native
{
    private const string Libc = "libc";

    // struct epoll_event { uint32_t events; epoll_data_t data; } — packed on x86-64 (12 bytes), 16 bytes elsewhere.
    public static readonly int EpollEventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int s_epollDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    public const uint EpollIn = 0x001;
    public const uint EpollErr = 0x008;
    private const int EpollCtlAdd = 1;
    private const int EpollCloExec = 0x80000;
    private const int RusageThread = 1;
    private const int EIntr = 4;
    public const int EAgain = 11;
    public const int EConnRefused = 111;

    [DllImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    private static extern int EpollCreate1(int flags);

    [DllImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    private static extern int EpollCtl(int epfd, int op, int fd, byte[] ev);

    [DllImport(Libc, EntryPoint = "epoll_wait", SetLastError = true)]
    private static extern int EpollWait(int epfd, byte[] events, int maxEvents, int timeoutMs);

    // int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents, const struct timespec *timeout, const sigset_t *sigmask)
    [DllImport(Libc, EntryPoint = "epoll_pwait2", SetLastError = true)]
    private static extern int EpollPwait2(int epfd, byte[] events, int maxEvents, long[] timeout, IntPtr sigmask);

    // int recvmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout);
    // msgvec: see MessageBatch for the layout.
    [DllImport(Libc, EntryPoint = "recvmmsg", SetLastError = true)]
    public static extern int RecvMmsg(int fd, IntPtr messages, uint count, int flags, IntPtr timeout);

    // int sendmmsg(int sockfd, struct mmsghdr *msgvec, unsigned int vlen, int flags);
    [DllImport(Libc, EntryPoint = "sendmmsg", SetLastError = true)]
    public static extern int SendMmsg(int fd, IntPtr messages, uint count, int flags);

    [DllImport(Libc, EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);

    // struct rusage: ru_utime and ru_stime (struct timeval: seconds, microseconds) first, then 14 longs.
    [DllImport(Libc, EntryPoint = "getrusage", SetLastError = true)]
    private static extern int GetRusage(int who, long[] usage);

    [DllImport(Libc, EntryPoint = "gettid")]
    public static extern int GetTid();

    [DllImport(Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nint cpuSetSize, ulong[] mask);

    private static bool s_noPwait2;

    public static int CreateEpoll()
    {
        var fd = EpollCreate1(EpollCloExec);
        return fd >= 0 ? fd : throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_create1 failed");
    }

    public static void CloseFd(int fd) => _ = Close(fd);

    /// <summary>Watches <paramref name="socket"/> for input; <paramref name="data"/> comes back with each event.</summary>
    public static void EpollAdd(int epfd, Socket socket, uint data, byte[] scratch)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(scratch, EpollIn);
        BinaryPrimitives.WriteUInt64LittleEndian(scratch.AsSpan(s_epollDataOffset), data);
        if (EpollCtl(epfd, EpollCtlAdd, (int)socket.Handle, scratch) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), "epoll_ctl failed");
        }
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutNs"/> for ready sockets (nanosecond resolution through epoll_pwait2 where
    /// the C library has it, whole milliseconds otherwise). Returns the number of events; 0 on timeout or signal.
    /// </summary>
    public static int EpollWait(int epfd, byte[] events, long timeoutNs, long[] timespec)
    {
        var max = events.Length / EpollEventSize;
        int n;
        if (!s_noPwait2)
        {
            timespec[0] = timeoutNs / 1_000_000_000;
            timespec[1] = timeoutNs % 1_000_000_000;
            try
            {
                n = EpollPwait2(epfd, events, max, timespec, IntPtr.Zero);
            }
            catch (EntryPointNotFoundException)
            {
                s_noPwait2 = true;
                n = EpollWait(epfd, events, max, (int)Math.Min(int.MaxValue, (timeoutNs + 999_999) / 1_000_000));
            }
        }
        else
        {
            n = EpollWait(epfd, events, max, (int)Math.Min(int.MaxValue, (timeoutNs + 999_999) / 1_000_000));
        }
        if (n < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            return errno == EIntr ? 0 : throw new Win32Exception(errno, "epoll_wait failed");
        }
        return n;
    }

    public static uint EventData(byte[] events, int index)
        => (uint)BinaryPrimitives.ReadUInt64LittleEndian(events.AsSpan(index * EpollEventSize + s_epollDataOffset));

    /// <summary>CPU time (user + system) the calling thread has used, in microseconds; 0 where unavailable.</summary>
    public static long ThreadCpuMicroseconds(long[] scratch)
    {
        try
        {
            if (GetRusage(RusageThread, scratch) != 0)
            {
                return 0;
            }
        }
        catch (EntryPointNotFoundException)
        {
            return 0;
        }
        return scratch[0] * 1_000_000 + scratch[1] + scratch[2] * 1_000_000 + scratch[3];
    }

    /// <summary>Pins every thread of this process (those that exist now; new ones inherit the mask) to <paramref name="cpus"/>.</summary>
    public static void PinProcess(IReadOnlyList<int> cpus)
    {
        var mask = new ulong[16]; // 1024 CPUs, glibc's cpu_set_t
        foreach (var cpu in cpus)
        {
            mask[cpu / 64] |= 1UL << (cpu % 64);
        }
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture, out var tid)
                && SchedSetAffinity(tid, mask.Length * sizeof(ulong), mask) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                throw new Win32Exception(errno, $"sched_setaffinity to CPU {string.Join(',', cpus)} failed");
            }
        }
    }

    /// <summary>This process's soft limit of open descriptors (ulimit -n), from /proc/self/limits; null if unlimited or unreadable.</summary>
    public static long? OpenFileLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    var soft = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3];
                    return long.TryParse(soft, System.Globalization.CultureInfo.InvariantCulture, out var limit) ? limit : null;
                }
            }
        }
        catch (IOException)
        {
        }
        return null;
    }

    /// <summary>VmRSS of process <paramref name="pid"/> in bytes, from /proc/PID/status; null if it cannot be read.</summary>
    // long sysconf(int name); _SC_CLK_TCK is 2 on Linux.
    [DllImport(Libc, EntryPoint = "sysconf")]
    private static extern long Sysconf(int name);

    /// <summary>Clock ticks per second, the unit of /proc/PID/stat's CPU times.</summary>
    public static readonly long ClockTicksPerSecond = OperatingSystem.IsLinux() && Sysconf(2) is > 0 and var hz ? hz : 100;

    /// <summary>The user plus system CPU time of process <paramref name="pid"/>, in microseconds; null if unreadable.</summary>
    public static double? ReadCpuMicroseconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the command name, which is in parentheses and may contain spaces: state is field 3,
            // utime field 14 and stime field 15 (proc(5)).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture)
                + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture);
            return ticks * 1e6 / ClockTicksPerSecond;
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException
            or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    public static long? ReadRssBytes(int pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
        return null;
    }
}
