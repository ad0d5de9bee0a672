namespace HotDtls.Samples.CoapEcho;

/// <summary>CoAP message types (RFC 7252 §3).</summary>
internal enum CoapType
{
    Confirmable = 0,
    NonConfirmable = 1,
    Acknowledgement = 2,
    Reset = 3,
}
