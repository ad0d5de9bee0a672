namespace HotDtls.Fuzz;

/// <summary>
/// What <see cref="EngineHarness"/> turns on for the <c>resumption</c> target and its seeds: the session-ID cache and
/// RFC 5077 tickets under one fixed ticket key, so a ticket recorded in a seed still opens when the seed is replayed
/// (the harness's clock starts at the same instant every time, well inside the ticket's lifetime). The other targets'
/// harness keeps both off: a recorded conversation whose server sent no NewSessionTicket must stay that way.
/// </summary>
internal static class ResumptionOptions
{
    /// <summary>The ticket key (16-byte key_name, then the AES-256 key); the <c>ticket</c> target's key A too.</summary>
    public static readonly byte[] TicketKey = Convert.FromHexString(
        "486F74447466732D66757A7A2D6B6579" + "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");

    /// <summary>Small, so that a short input fills the cache and reaches eviction.</summary>
    public const int MaxCachedSessions = 2;

    public static void Enable(DtlsServerOptions options)
    {
        options.EnableSessionResumption = true;
        options.EnableSessionTickets = true;
        options.MaxCachedSessions = MaxCachedSessions;
        options.SessionTicketKeys.Add(TicketKey);
    }
}
