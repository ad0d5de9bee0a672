namespace HotDtls.Interop.Tests.Peers;

/// <summary>CoAP message types (RFC 7252 §3, the T field).</summary>
public enum CoapType : byte
{
    /// <summary>Confirmable: the peer answers with an ACK (or RST).</summary>
    Confirmable = 0,

    /// <summary>Non-confirmable.</summary>
    NonConfirmable = 1,

    /// <summary>Acknowledgement; a response piggybacked on it carries the request's Message ID and token.</summary>
    Acknowledgement = 2,

    /// <summary>Reset.</summary>
    Reset = 3,
}
