using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Connection;

/// <summary>The server's choices and key exchange: the suite and group, ServerKeyExchange, ClientKeyExchange and the PSK lookup.</summary>
internal sealed partial class ServerConnection
{
    /// <summary>
    /// The server's choice (RFC 5246 §7.4.1.3: the server selects): the first of our suites the client offers and can
    /// use — a CBC suite only if the client offered encrypt_then_mac (RFC 7366; HotDtls never MACs before encrypting),
    /// an ECDHE_PSK suite only if we share a group, the first of ours the client lists.
    /// </summary>
    private bool TryChooseSuite(scoped in ClientHello hello, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out CipherSuiteInfo? chosen,
        out NamedGroup group)
    {
        group = default;
        var suites = ServerOptions.CipherSuites;
        for (var i = 0; i < suites.Count; i++)
        {
            if (!hello.OffersCipherSuite((ushort)suites[i]))
            {
                continue;
            }
            var info = CipherSuiteInfo.Get(suites[i]);
            if (!info.IsAead && !hello.OffersEncryptThenMac)
            {
                continue;
            }
            if (info.IsEcdhe && !TryChooseGroup(hello, out group))
            {
                continue;
            }
            chosen = info;
            return true;
        }
        chosen = null;
        return false;
    }

    private bool TryChooseGroup(scoped in ClientHello hello, out NamedGroup group)
    {
        var groups = ServerOptions.NamedGroups;
        for (var i = 0; i < groups.Count; i++)
        {
            if (hello.OffersGroup((ushort)groups[i]) && EphemeralKeyPair.IsSupported(groups[i]))
            {
                group = groups[i];
                return true;
            }
        }
        group = default;
        return false;
    }

    /// <summary>
    /// ServerKeyExchange of an ECDHE_PSK suite (RFC 5489 §2): the hint and a fresh ephemeral public key on
    /// <paramref name="group"/>. The key is made here, after the cookie: a flood of ClientHellos costs no ECDH work.
    /// </summary>
    private void AddEcdheServerKeyExchange(NamedGroup group)
    {
        var handshake = Handshake;
        handshake.EphemeralKey?.Dispose();
        var key = handshake.EphemeralKey = CreateEphemeralKey(group);
        Span<byte> publicKey = stackalloc byte[EphemeralKeyPair.PublicKeyLength(group)];
        key.WritePublicKey(publicKey);
        var hint = Services.IdentityHint;
        var length = ServerKeyExchangeEcdhePsk.GetLength(hint.Length, publicKey.Length);
        // The hint is configured, at most 64 KiB: only the usual short ones go on the stack.
        var rented = length > 512 ? System.Buffers.ArrayPool<byte>.Shared.Rent(length) : null;
        Span<byte> body = rented is null ? stackalloc byte[512] : rented;
        ServerKeyExchangeEcdhePsk.Write(body, hint, group, publicKey);
        AddToFlight(HandshakeType.ServerKeyExchange, 0, body[..length]);
        if (rented is not null)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private HandshakeStep ReadClientKeyExchange(ushort messageSeq, ReadOnlySpan<byte> body)
    {
        ReadOnlySpan<byte> identity;
        if (Suite!.IsEcdhe)
        {
            if (!ClientKeyExchangeEcdhePsk.TryParse(body, out identity, out var publicKey))
            {
                return HandshakeStep.Fail(DtlsError.DecodeError);
            }
            // RFC 8422 §5.11 / RFC 7748 §6.1: an off-curve point, or an X25519 key giving the all-zero secret, ends the
            // handshake. The ephemeral private key is used once and released at once.
            var context = Handshake;
            var agreed = context.EphemeralKey!.TryAgree(publicKey, context.EcdhSharedSecret, out _);
            context.EphemeralKey.Dispose();
            context.EphemeralKey = null;
            if (!agreed)
            {
                return HandshakeStep.Fail(DtlsError.IllegalParameter);
            }
            context.HasEcdhSharedSecret = true;
        }
        else if (!ClientKeyExchangePsk.TryParse(body, out identity))
        {
            return HandshakeStep.Fail(DtlsError.DecodeError);
        }
        if (!AppendToTranscript(HandshakeType.ClientKeyExchange, messageSeq, body))
        {
            return HandshakeStep.Fail(DtlsError.HandshakeMessageTooLarge);
        }
        // The flight went through to the client: its ClientHello is answered, stop repeating flight 4.
        StopRetransmitTimer();
        PskIdentity = identity.ToArray();
        return LookUpPsk(out var key) switch
        {
            PskLookup.Pending => HandshakeStep.Wait,
            PskLookup.Failed => HandshakeStep.Fail(DtlsError.InternalError),
            _ => HandshakeStep.From(CompleteKeyExchange(key)),
        };
    }

    private enum PskLookup : byte
    {
        Completed,
        Pending,
        Failed,
    }
}
