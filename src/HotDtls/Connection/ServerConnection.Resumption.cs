using HotDtls.Crypto;
using HotDtls.Handshake;
using HotDtls.Records;

namespace HotDtls.Connection;

/// <summary>
/// The server's session resumption (RFC 5246 §7.3 session IDs, RFC 5077 tickets): finding a resumable session, the
/// abbreviated handshake, and the ticket a full handshake ends with.
/// </summary>
internal sealed partial class ServerConnection
{
    /// <summary>
    /// Looks up the ClientHello's session_id in the cache (RFC 5246 §7.4.1.2) and keeps a usable hit as
    /// <see cref="HandshakeContext.ResumptionCandidate"/>, its master secret in place. Returns the error that must
    /// end the handshake, or <see cref="DtlsError.None"/> (with or without a candidate). Runs only after the cookie
    /// check: nothing is looked up for a peer that has not proved its address (HOSTILE 25).
    /// </summary>
    private DtlsError FindResumableSession(scoped in ClientHello hello, long nowMs)
    {
        var handshake = Handshake;
        CachedSession cached;
        if (Services.Tickets is { } tickets && !hello.SessionTicket.IsEmpty
            && tickets.TryOpen(hello.SessionTicket, MasterSecret, out var ticket))
        {
            // RFC 5077 §3.4: a ticket that opens is accepted as the cache entry would be, and the ServerHello echoes
            // the client's session_id so that the client can tell.
            cached = new CachedSession(ticket.Suite, ticket.ExtendedMasterSecret, ticket.PskIdentity);
            handshake.ResumedIssuedUnixMs = ticket.IssuedUnixMs;
        }
        else if (Services.SessionCache is not { } cache || !cache.TryGet(hello.SessionId, nowMs, MasterSecret, out cached))
        {
            return DtlsError.None;
        }
        // RFC 7627 §5.3: "If the original session used the "extended_master_secret" extension but the new
        // ClientHello does not contain it, the server MUST abort the abbreviated handshake." HotDtls aborts the
        // handshake (handshake_failure), as OpenSSL does. "If the original session did not use the extension but
        // the new ClientHello contains [it], then the server MUST NOT perform the abbreviated handshake. Instead, it
        // SHOULD continue with a full handshake"; where neither uses it, the server "SHOULD abort": HotDtls runs a
        // full handshake then too, the same one it would run for a client that named no session.
        if (cached.ExtendedMasterSecret && !hello.OffersExtendedMasterSecret)
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(MasterSecret);
            return DtlsError.ExtendedMasterSecretMismatch;
        }
        if (!cached.ExtendedMasterSecret || !CanResumeSuite(cached.Suite, hello))
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(MasterSecret);
            return DtlsError.None;
        }
        hello.SessionId.CopyTo(handshake.SessionId);
        handshake.SessionIdLength = hello.SessionId.Length;
        handshake.ResumptionCandidate = cached;
        return DtlsError.None;
    }

    /// <summary>
    /// RFC 5246 §7.4.1.2: a resumed session keeps its suite, which the client must offer again; the server must
    /// still accept it (a suite removed from <see cref="DtlsOptions.CipherSuites"/> since falls back to a full
    /// handshake), and a CBC suite still needs encrypt_then_mac (RFC 7366 §3.1: it is kept on resumption).
    /// </summary>
    private bool CanResumeSuite(CipherSuite suite, scoped in ClientHello hello)
    {
        if (!ServerOptions.CipherSuites.Contains(suite) || !hello.OffersCipherSuite((ushort)suite))
        {
            return false;
        }
        return CipherSuiteInfo.Get(suite).IsAead || hello.OffersEncryptThenMac;
    }

    private HandshakeStep UseResolvedSessionPsk(long nowMs)
    {
        var handshake = Handshake;
        var key = handshake.ResolvedPsk;
        handshake.ResolvedPsk = null;
        return ResumeOrFallBack(handshake.PskLookupFailed ? null : key, nowMs);
    }

    /// <summary>
    /// The store answered for the cached session's identity: a key means the identity still resolves and the
    /// abbreviated handshake goes ahead; none (unknown now, or the store failed) means a full handshake for a new
    /// session, and the stale entry is forgotten.
    /// </summary>
    private HandshakeStep ResumeOrFallBack(byte[]? key, long nowMs)
    {
        var handshake = Handshake;
        if (key is null || key.Length == 0 || key.Length > PskStore.MaxKeyLength)
        {
            Services.SessionCache?.Remove(handshake.SessionId.AsSpan(0, handshake.SessionIdLength));
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(MasterSecret);
            handshake.ResumptionCandidate = null;
            handshake.ResumedIssuedUnixMs = 0;
            PskIdentity = [];
            return SendFullHandshakeFlight(nowMs);
        }
        return SendAbbreviatedFlight(nowMs);
    }

    /// <summary>
    /// The server's flight of the abbreviated handshake (RFC 5246 §7.3): ServerHello echoing the session_id,
    /// ChangeCipherSpec, Finished, under keys from the cached master secret and the new randoms. It is not our last
    /// flight: it is retransmitted on the timer until the client's Finished arrives (RFC 6347 §4.2.4).
    /// </summary>
    private HandshakeStep SendAbbreviatedFlight(long nowMs)
    {
        var handshake = Handshake;
        var cached = handshake.ResumptionCandidate!.Value;
        var choice = handshake.FullChoice;
        var suite = CipherSuiteInfo.Get(cached.Suite);
        Suite = suite;
        ExtendedMasterSecret = cached.ExtendedMasterSecret;
        IsResumed = true;

        // RFC 5077 §3.1: a client that takes tickets gets a fresh one in the abbreviated handshake too, between
        // ServerHello and ChangeCipherSpec.
        handshake.TicketAnnounced = choice.ClientTakesTickets;
        StartFlightWithServerHello(suite);
        if (handshake.TicketAnnounced)
        {
            AddToFlight(HandshakeType.NewSessionTicket, 0, BuildNewSessionTicket(handshake.ResumedIssuedUnixMs));
        }
        DeriveKeysFromMasterSecret(isServer: true);
        Span<byte> finished = stackalloc byte[Finished.VerifyDataLength];
        ComputeVerifyData(fromClient: false, finished);
        Flight.AddChangeCipherSpec();
        Records.ActivateWrite();
        AddToFlight(HandshakeType.Finished, 1, finished);
        SendFlight(nowMs, retransmitOnTimer: true);
        return HandshakeStep.Abbreviate;
    }

    /// <summary>The client's Finished ends an abbreviated handshake: our flight arrived, stop repeating it.</summary>
    private HandshakeStep ReadResumedClientFinished(ushort messageSeq, ReadOnlySpan<byte> body)
    {
        var error = VerifyPeerFinished(body, fromClient: true);
        if (error != DtlsError.None)
        {
            return HandshakeStep.Fail(error);
        }
        StopRetransmitTimer();
        SetPeerFlightEnd(HandshakeType.Finished, messageSeq);
        return HandshakeStep.Next;
    }

    /// <summary>
    /// A NewSessionTicket body (RFC 5077 §3.3) sealing this session; an empty ticket (which withdraws the offer) when
    /// the identity is too long to travel in one.
    /// </summary>
    private byte[] BuildNewSessionTicket(long issuedUnixMs)
    {
        var tickets = Services.Tickets!;
        if (PskIdentity.Length > SessionTicketProtector.MaxIdentityLength)
        {
            return new byte[NewSessionTicket.GetLength(0)];
        }
        Span<byte> sealedTicket = stackalloc byte[SessionTicketProtector.GetTicketLength(SessionTicketProtector.MaxIdentityLength)];
        if (!tickets.TrySeal(Suite!.Suite, ExtendedMasterSecret, MasterSecret, PskIdentity, issuedUnixMs, sealedTicket, out var written))
        {
            written = 0;
        }
        var body = new byte[NewSessionTicket.GetLength(written)];
        NewSessionTicket.Write(body, tickets.LifetimeHintSeconds, sealedTicket[..written]);
        return body;
    }
}
