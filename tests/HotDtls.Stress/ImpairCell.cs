namespace HotDtls.Stress;

/// <summary>The trials of one setting and pair.</summary>
internal sealed record ImpairCell(ImpairSetting Setting, ImpairPair Pair, IReadOnlyList<ImpairTrialResult> Results);
