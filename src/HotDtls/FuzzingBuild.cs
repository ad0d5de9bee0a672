// The fuzzing switch (fuzz/README.md): in the Fuzz configuration HOTDTLS_FUZZING makes record authentication and
// Finished verification always pass, so a fuzzer can reach every post-handshake state. Such a build has no
// security at all, so the switch compiles only together with the Fuzz configuration's own constant: a Release
// (or Debug) build that tries to define it fails here.
#if HOTDTLS_FUZZING && !FUZZ
#error HOTDTLS_FUZZING turns off record authentication and Finished verification. It builds only in the Fuzz configuration (dotnet build -c Fuzz fuzz/HotDtls.Fuzz); remove it from DefineConstants.
#endif
#if FUZZ && !HOTDTLS_FUZZING
#error The Fuzz configuration must define HOTDTLS_FUZZING (src/HotDtls/HotDtls.csproj).
#endif

namespace HotDtls;

/// <summary>Whether this assembly is a fuzzing build (never true outside the Fuzz configuration).</summary>
internal static class FuzzingBuild
{
#if HOTDTLS_FUZZING
    public static bool Enabled => true;
#else
    public static bool Enabled => false;
#endif
}
