namespace HotDtls.Interop.Tests.Peers;

/// <summary>One CoAP option (RFC 7252 §5.10): its number and value.</summary>
public readonly record struct CoapOption(int Number, byte[] Value)
{
    /// <summary>Uri-Port (RFC 7252 §5.10.1).</summary>
    public const int UriPort = 7;

    /// <summary>Uri-Path, one per path segment (RFC 7252 §5.10.1).</summary>
    public const int UriPath = 11;

    /// <summary>Content-Format (RFC 7252 §5.10.3); 0 is text/plain;charset=utf-8, 40 application/link-format.</summary>
    public const int ContentFormat = 12;
}
