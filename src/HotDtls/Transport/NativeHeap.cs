using System.Runtime.InteropServices;

namespace HotDtls.Transport;

/// <summary>
/// Gives freed native memory back to the operating system (glibc's malloc_trim). Released cipher objects of idle
/// sessions free their native key schedules into malloc's arenas, which keep them: without a trim, RSS stays at its
/// high-water mark even when 100 000 idle sessions hold only key bytes.
/// </summary>
internal static class NativeHeap
{
    private static bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>Trims the C heap where that is possible (Linux with glibc); elsewhere does nothing.</summary>
    public static void Trim()
    {
        if (s_unavailable)
        {
            return;
        }
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries have no malloc_trim: nothing to do there.
            s_unavailable = true;
        }
    }

    // DllImport, not LibraryImport: the generated stub needs unsafe code, which the library does not allow, and a
    // call with one integer argument needs no marshalling.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "malloc_trim", ExactSpelling = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int MallocTrim(nuint pad);
#pragma warning restore SYSLIB1054
}
