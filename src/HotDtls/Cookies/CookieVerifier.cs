using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using HotDtls.Cluster;
using HotDtls.Crypto;

namespace HotDtls.Cookies;

/// <summary>
/// Makes and checks stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1), so that a server keeps
/// nothing for a peer until the peer proves it receives at its source address.
/// </summary>
/// <remarks>
/// RFC 6347 §4.2.1 suggests <c>Cookie = HMAC(Secret, Client-IP, Client-Parameters)</c>, changing the
/// secret frequently so harvested cookies expire, with "a limited window during which it accepts both
/// secrets" so honest clients survive a rotation. Hence two secrets at a time, both derived from the clock,
/// and no per-peer state of any kind (HOSTILE cases 19, 22–24).
/// <para>
/// The MAC covers a length-prefixed encoding of its three inputs, so that no two different
/// (address, prefix, suffix) triples are the same byte string:
/// <code>
/// struct {
///     uint32 address_length;  opaque peer_address[address_length];   // SocketAddress bytes: family, port, IP
///     uint32 prefix_length;   opaque hello_prefix[prefix_length];    // client_version .. session_id
///     uint32 suffix_length;   opaque hello_suffix[suffix_length];    // cipher_suites .. compression_methods
/// } CookieInput;                                                     (integers big-endian)
/// cookie = HMAC-SHA256(secret, CookieInput)[0 .. CookieLength)
/// </code>
/// RFC 6347 §4.2.1: "the client MUST use the same parameter values (version, random, session_id,
/// cipher_suites, compression_method) as it did in the original ClientHello. The server SHOULD use those
/// values to generate its cookie and verify that they are correct upon cookie receipt." Those fields are
/// exactly the prefix and suffix; extensions are not in the list and are left out. The random is in the
/// prefix, so a cookie is bound to the ClientHello it was made for.
/// </para>
/// <para>
/// Secret generation n = floor(now / rotationPeriod). The secrets for the current generation are computed
/// lazily on the first call that sees a new n; a clock that goes backwards keeps the newest secrets rather
/// than resurrecting old ones.
/// </para>
/// <para>
/// A cluster node (<see cref="DtlsClusterOptions"/>) derives generation n's secret from the shared cookie secret,
/// HMAC-SHA256(shared, "hotdtls cookie" || uint64 n), so every node makes and accepts the same cookies while they still
/// expire with the generations; during a rotation of the shared secret the previous one's secrets are accepted too (four
/// MACs per verification instead of two). A node whose clock is ahead of another's by d makes cookies the other rejects
/// during the first d of each generation: that client gets a second HelloVerifyRequest, one round trip more.
/// </para>
/// <para>
/// Each secret has one keyed HMAC, reset after every MAC rather than keyed again: a one-shot HMAC pays the provider
/// lookup and key schedule on each call, about twice the cost (CookieBenchmarks). A keyed HMAC holds state, so MACs are taken
/// under one lock; a verifier belongs to one receive loop, so the lock is uncontended.
/// </para>
/// </remarks>
internal sealed class CookieVerifier : IDisposable
{
    /// <summary>Bytes in a cookie; the cookie field of a ClientHello may hold up to 255 (RFC 6347 §4.2.1).</summary>
    public const int CookieLength = 32;

    /// <summary>Most secrets accepted at once: this generation's and the previous one's, under two shared masters.</summary>
    private const int MaxSecrets = 4;

    /// <summary>HMAC-SHA256 keys as long as the hash output (RFC 2104 §3: shorter keys are weaker).</summary>
    private const int SecretLength = 32;

    /// <summary>MAC inputs up to this many bytes are built on the stack; larger ones borrow a pooled array.</summary>
    private const int StackallocThreshold = 1024;

    private const int LengthPrefixSize = sizeof(uint);

    private static ReadOnlySpan<byte> CookieLabel => "hotdtls cookie"u8;

    private readonly TimeProvider _timeProvider;
    private readonly long _periodTicks;
    private readonly IRandomSource _random;
    private readonly ClusterKeyRing? _shared;
    private readonly Lock _lock = new();

    // Replaced whole on rotation; read and replaced only under _lock.
    private SecretGeneration _secrets;
    private bool _disposed;

    /// <summary>
    /// Creates a verifier whose secrets rotate every <paramref name="rotationPeriod"/> of
    /// <paramref name="timeProvider"/>'s UTC clock, drawn from <paramref name="random"/>.
    /// </summary>
    /// <param name="timeProvider">The UTC clock generations are counted by.</param>
    /// <param name="rotationPeriod">How long a generation lasts.</param>
    /// <param name="random">Where secrets come from when they are not shared.</param>
    /// <param name="shared">
    /// A cluster's shared cookie secrets: each generation's secrets are then derived from them (so every node makes
    /// and accepts the same cookies) instead of drawn at random; null for a server on its own.
    /// </param>
    public CookieVerifier(TimeProvider timeProvider, TimeSpan rotationPeriod, IRandomSource random, ClusterKeyRing? shared = null)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(rotationPeriod, TimeSpan.Zero);

        _timeProvider = timeProvider;
        _periodTicks = rotationPeriod.Ticks;
        _random = random;
        _shared = shared;
        // The previous secret starts fresh too: no cookie made before this verifier existed is valid.
        _secrets = NewGeneration(CurrentGeneration(), reuse: null);
    }

    /// <summary>
    /// Writes the cookie for this peer and ClientHello into the first <see cref="CookieLength"/> bytes
    /// of <paramref name="cookie"/>.
    /// </summary>
    /// <param name="peerAddress">The peer's <c>SocketAddress.Buffer.Span[..SocketAddress.Size]</c>.</param>
    /// <param name="helloPrefix">ClientHello bytes from client_version through session_id.</param>
    /// <param name="helloSuffix">ClientHello bytes from cipher_suites through compression_methods.</param>
    /// <param name="cookie">Receives the cookie.</param>
    public void ComputeCookie(
        ReadOnlySpan<byte> peerAddress,
        ReadOnlySpan<byte> helloPrefix,
        ReadOnlySpan<byte> helloSuffix,
        Span<byte> cookie)
    {
        if (cookie.Length < CookieLength)
        {
            ThrowCookieDestinationTooShort();
        }

        MacUnderSecrets(peerAddress, helloPrefix, helloSuffix, cookie[..CookieLength]);
    }

    /// <summary>
    /// True if <paramref name="cookie"/> is what <see cref="ComputeCookie"/> gives for these inputs under
    /// the current or the previous secret. Anything the peer sends is answered with true or false.
    /// </summary>
    public bool Verify(
        ReadOnlySpan<byte> peerAddress,
        ReadOnlySpan<byte> helloPrefix,
        ReadOnlySpan<byte> helloSuffix,
        ReadOnlySpan<byte> cookie)
    {
        if (cookie.Length != CookieLength)
        {
            return false;
        }

        Span<byte> macs = stackalloc byte[MaxSecrets * CookieLength];
        var count = MacUnderSecrets(peerAddress, helloPrefix, helloSuffix, macs);
        // Every MAC is always computed and compared without short-circuit (RFC 6347 §4.2.1 cookies; HOSTILE
        // case 41): the time taken says nothing about which secret, if any, matched.
        var match = false;
        for (var i = 0; i < count; i++)
        {
            match |= CryptographicOperations.FixedTimeEquals(macs.Slice(i * CookieLength, CookieLength), cookie);
        }
        return match;
    }

    /// <summary>
    /// MACs the encoded inputs under the current secret into the first <see cref="CookieLength"/> bytes of
    /// <paramref name="macs"/> and, when it has room, under each accepted older secret into the next ones — one encoding
    /// of the input for all. Returns how many MACs were written.
    /// </summary>
    private int MacUnderSecrets(ReadOnlySpan<byte> peerAddress, ReadOnlySpan<byte> helloPrefix, ReadOnlySpan<byte> helloSuffix,
        Span<byte> macs)
    {
        int inputLength = GetInputLength(peerAddress, helloPrefix, helloSuffix);
        lock (_lock)
        {
            SecretGeneration secrets = GetSecrets();
            var count = Math.Min(secrets.Hmacs.Length, macs.Length / CookieLength);
            if (inputLength <= StackallocThreshold)
            {
                // The usual hello: one encoded buffer, one HMAC update per secret.
                Span<byte> input = stackalloc byte[StackallocThreshold];
                input = input[..inputLength];
                WriteInput(input, peerAddress, helloPrefix, helloSuffix);
                for (var i = 0; i < count; i++)
                {
                    Mac(secrets.Hmacs[i], input, macs.Slice(i * CookieLength, CookieLength));
                }
            }
            else
            {
                // A long hello (many cipher suites or extensions, up to a whole record) is fed in pieces rather than
                // copied into a rented buffer: a stranger's datagram must not be able to make the pool allocate.
                for (var i = 0; i < count; i++)
                {
                    MacPieces(secrets.Hmacs[i], peerAddress, helloPrefix, helloSuffix, macs.Slice(i * CookieLength, CookieLength));
                }
            }
            return count;
        }
    }

    /// <summary>Frees the keyed HMACs (and with them the secrets); later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _secrets.Dispose();
        }
    }

    private long CurrentGeneration() => _timeProvider.GetUtcNow().UtcTicks / _periodTicks;

    private SecretGeneration GetSecrets()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        long generation = CurrentGeneration();
        SecretGeneration secrets = _secrets;
        return generation <= secrets.Generation && (_shared is null || _shared.Version == secrets.KeyVersion)
            ? secrets
            : Rotate(Math.Max(generation, secrets.Generation));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private SecretGeneration Rotate(long generation)
    {
        // Called under _lock: no MAC is in progress with the secrets disposed here.
        SecretGeneration secrets = _secrets;
        SecretGeneration next = NewGeneration(generation, secrets);
        foreach (var hmac in secrets.Hmacs)
        {
            // A random current secret carried over as the next generation's previous one stays alive.
            if (Array.IndexOf(next.Hmacs, hmac) < 0)
            {
                hmac.Dispose();
            }
        }
        _secrets = next;
        return next;
    }

    /// <summary>
    /// The secrets of <paramref name="generation"/>: its own and the one before (RFC 6347 §4.2.1's window). Random ones
    /// carry the current secret of <paramref name="reuse"/> over as the previous one when the generations are adjacent;
    /// shared ones are derived again for every generation and key set, so every node holds the same.
    /// </summary>
    private SecretGeneration NewGeneration(long generation, SecretGeneration? reuse)
    {
        if (_shared is not { } shared)
        {
            // Current first: the order secrets are drawn in is the order tests that replay the random source expect.
            var current = RandomSecret();
            var previous = reuse is { KeyVersion: 0 } && generation - reuse.Generation == 1 ? reuse.Hmacs[0] : RandomSecret();
            return new SecretGeneration(generation, 0, [current, previous]);
        }
        var version = shared.Version;
        var masters = shared.Keys.CookieSecrets;
        // Current master: this generation, then the previous one; the previous master (a rotation in progress): the same.
        var hmacs = new IncrementalHash[2 * masters.Count];
        for (var m = 0; m < masters.Count; m++)
        {
            hmacs[2 * m] = DerivedSecret(masters[m], generation);
            hmacs[(2 * m) + 1] = DerivedSecret(masters[m], generation - 1);
        }
        return new SecretGeneration(generation, version, hmacs);
    }

    private IncrementalHash RandomSecret()
    {
        Span<byte> secret = stackalloc byte[SecretLength];
        _random.Fill(secret);
        var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        // The keyed HMAC keeps its own copy of the key; this one is not needed again.
        CryptographicOperations.ZeroMemory(secret);
        return hmac;
    }

    /// <summary>
    /// A generation's cookie secret derived from a shared master: HMAC-SHA256(master, "hotdtls cookie" || uint64 generation),
    /// so cookies still expire with the generations although the master stays the same for days.
    /// </summary>
    private static IncrementalHash DerivedSecret(byte[] master, long generation)
    {
        Span<byte> label = stackalloc byte[CookieLabel.Length + sizeof(long)];
        CookieLabel.CopyTo(label);
        BinaryPrimitives.WriteInt64BigEndian(label[CookieLabel.Length..], generation);
        Span<byte> secret = stackalloc byte[SecretLength];
        HMACSHA256.HashData(master, label, secret);
        var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, secret);
        CryptographicOperations.ZeroMemory(secret);
        return hmac;
    }

    private static int GetInputLength(ReadOnlySpan<byte> peerAddress, ReadOnlySpan<byte> helloPrefix, ReadOnlySpan<byte> helloSuffix) =>
        checked((3 * LengthPrefixSize) + peerAddress.Length + helloPrefix.Length + helloSuffix.Length);

    private static void WriteInput(Span<byte> input, ReadOnlySpan<byte> peerAddress, ReadOnlySpan<byte> helloPrefix, ReadOnlySpan<byte> helloSuffix)
    {
        input = WriteLengthPrefixed(input, peerAddress);
        input = WriteLengthPrefixed(input, helloPrefix);
        WriteLengthPrefixed(input, helloSuffix);
    }

    private static Span<byte> WriteLengthPrefixed(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)value.Length);
        value.CopyTo(destination[LengthPrefixSize..]);
        return destination[(LengthPrefixSize + value.Length)..];
    }

    private static void MacPieces(IncrementalHash secret, ReadOnlySpan<byte> peerAddress, ReadOnlySpan<byte> helloPrefix,
        ReadOnlySpan<byte> helloSuffix, Span<byte> cookie)
    {
        AppendLengthPrefixed(secret, peerAddress);
        AppendLengthPrefixed(secret, helloPrefix);
        AppendLengthPrefixed(secret, helloSuffix);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        secret.GetHashAndReset(mac);
        mac[..CookieLength].CopyTo(cookie);
    }

    private static void AppendLengthPrefixed(IncrementalHash secret, ReadOnlySpan<byte> value)
    {
        Span<byte> prefix = stackalloc byte[LengthPrefixSize];
        BinaryPrimitives.WriteUInt32BigEndian(prefix, (uint)value.Length);
        secret.AppendData(prefix);
        secret.AppendData(value);
    }

    private static void Mac(IncrementalHash secret, ReadOnlySpan<byte> input, Span<byte> cookie)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        secret.AppendData(input);
        secret.GetHashAndReset(mac);
        mac[..CookieLength].CopyTo(cookie);
    }

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowCookieDestinationTooShort() =>
        throw new ArgumentException($"The destination must hold at least {CookieLength} bytes.", "cookie");

    /// <summary>The secrets valid during one generation, each as an HMAC keyed with it: the first makes cookies.</summary>
    private sealed class SecretGeneration(long generation, int keyVersion, IncrementalHash[] hmacs) : IDisposable
    {
        public long Generation { get; } = generation;

        /// <summary>The shared keys' version the secrets were derived from (0: random secrets).</summary>
        public int KeyVersion { get; } = keyVersion;

        public IncrementalHash[] Hmacs { get; } = hmacs;

        public void Dispose()
        {
            foreach (var hmac in Hmacs)
            {
                hmac.Dispose();
            }
        }
    }
}
