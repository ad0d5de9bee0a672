namespace HotDtls.Stress;

/// <summary>The client side of a trial: OpenSSL's s_client or the HotDtls client, both against the HotDtls server.</summary>
internal enum ImpairPair
{
    OpenSslClient,
    HotDtlsClient,
}
