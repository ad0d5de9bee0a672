namespace HotDtls.Interop.Tests.Peers;

/// <summary>
/// The Connection IDs (RFC 9146) a BouncyCastle peer's handshake settled on, named by direction. CID is negotiated
/// when both hellos carried the connection_id extension; either CID may still be empty (RFC 9146 §3: that side then
/// receives plain records).
/// </summary>
/// <remarks>
/// Taken from the hellos' extensions, not from BouncyCastle's <c>SecurityParameters.ConnectionIDLocal</c>/<c>Peer</c>:
/// in 2.7.0 a client's <c>ConnectionIDLocal</c> is the CID the server asked for — the one the client writes, not the
/// one it receives (seen in the first run of the self test) — and bc-csharp's current sources name them the other way.
/// </remarks>
/// <param name="Inbound">
/// The CID this peer asked for in its own hello: records sent to it carry it (as tls12_cid records) unless it is empty.
/// </param>
/// <param name="Outbound">
/// The CID the other side asked for: this peer puts it on every record it sends from epoch 1 on, unless it is empty.
/// </param>
public sealed record NegotiatedConnectionId(byte[] Inbound, byte[] Outbound)
{
    /// <inheritdoc/>
    public override string ToString() => $"inbound {Hex(Inbound)}, outbound {Hex(Outbound)}";

    private static string Hex(byte[] cid) => cid.Length == 0 ? "(empty)" : Convert.ToHexString(cid);
}
