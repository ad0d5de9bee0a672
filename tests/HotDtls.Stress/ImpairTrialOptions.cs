namespace HotDtls.Stress;

/// <summary>Knobs shared by every trial of a run.</summary>
internal sealed record ImpairTrialOptions(int Echoes, TimeSpan EchoWait, TimeSpan HandshakeTimeout);
