namespace HotDtls.Stress;

/// <summary>A run's parameters.</summary>
internal sealed record ImpairRun(int Trials, int Parallel, int Seed, List<string> Only, string? Out, ImpairTrialOptions Trial);
