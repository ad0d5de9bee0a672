namespace HotDtls.Fuzz;

/// <summary>
/// Thrown by a target when the code under test broke a promise without throwing itself (too many bytes out, state
/// for a stranger, data before Finished). Unhandled, so AFL++ records the input as a crash.
/// </summary>
internal sealed class FuzzOracleException(string message) : Exception(message);
