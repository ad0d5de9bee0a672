using System.Text;

namespace HotDtls.Tests;

/// <summary>Tests of IPskStore.cs: <see cref="PskStore.Single"/>, <see cref="PskStore.FromDictionary"/> and key validation.</summary>
public sealed class PskStoreTests
{
    private static readonly byte[] s_key = [0x1a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f];

    [Fact]
    public void Single_gives_every_identity_the_key_synchronously()
    {
        var store = PskStore.Single(s_key);

        foreach (var identity in new[] { "", "Qt DTLS example client", "anyone" })
        {
            Assert.Equal(s_key, Lookup(store, identity));
        }
    }

    [Fact]
    public void Single_copies_the_key()
    {
        var key = (byte[])s_key.Clone();
        var store = PskStore.Single(key);
        key[0] ^= 0xFF;

        Assert.Equal(s_key, Lookup(store, "x"));
    }

    [Fact]
    public void FromDictionary_finds_known_identities_and_returns_null_for_unknown_ones()
    {
        var other = new byte[] { 9, 9, 9 };
        var store = PskStore.FromDictionary(new Dictionary<string, byte[]>
        {
            ["Qt DTLS example client"] = s_key,
            ["sensor-17"] = other,
            ["clé"] = [7],
        });

        Assert.Equal(s_key, Lookup(store, "Qt DTLS example client"));
        Assert.Equal(other, Lookup(store, "sensor-17"));
        Assert.Equal([7], Lookup(store, "clé"));
        Assert.Null(Lookup(store, "sensor-18"));
        Assert.Null(Lookup(store, ""));
        // Identities compare exactly (ordinal): no case folding, no prefix match.
        Assert.Null(Lookup(store, "SENSOR-17"));
        Assert.Null(Lookup(store, "sensor-1"));
        Assert.Null(Lookup(store, "sensor-17 "));
    }

    [Fact]
    public void FromDictionary_copies_keys()
    {
        var key = (byte[])s_key.Clone();
        var store = PskStore.FromDictionary(new Dictionary<string, byte[]> { ["id"] = key });
        key[0] ^= 0xFF;

        Assert.Equal(s_key, Lookup(store, "id"));
    }

    [Fact]
    public void FromDictionary_lookup_is_synchronous()
    {
        var store = PskStore.FromDictionary(new Dictionary<string, byte[]> { ["id"] = s_key });

        Assert.True(store.GetKeyAsync("id"u8.ToArray(), CancellationToken.None).IsCompletedSuccessfully);
        Assert.True(store.GetKeyAsync("nobody"u8.ToArray(), CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public void FromDictionary_treats_invalid_utf8_as_unknown_and_does_not_alias_it()
    {
        // "Compared as UTF-8 bytes": an identity that is not valid UTF-8 must not be decoded with replacement
        // characters and so match an entry it is not byte-equal to.
        var store = PskStore.FromDictionary(new Dictionary<string, byte[]>
        {
            ["\uFFFD"] = s_key,
            ["a\uFFFD"] = s_key,
        });

        Assert.Null(Lookup(store, [0xFF]));
        Assert.Null(Lookup(store, [(byte)'a', 0xC3]));
        // The entry itself is reachable by its real UTF-8 encoding.
        Assert.Equal(s_key, Lookup(store, "\uFFFD"));
    }

    [Fact]
    public void FromDictionary_ignores_identities_over_1024_bytes()
    {
        var longIdentity = new string('a', 1025);
        var store = PskStore.FromDictionary(new Dictionary<string, byte[]>
        {
            [longIdentity] = s_key,
            [longIdentity[..1024]] = s_key,
        });

        Assert.Null(Lookup(store, longIdentity));
        Assert.Equal(s_key, Lookup(store, longIdentity[..1024]));
    }

    [Fact]
    public void FromDictionary_requires_a_dictionary()
    {
        Assert.Throws<ArgumentNullException>(() => PskStore.FromDictionary(null!));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    [InlineData(1000)]
    public void Keys_outside_1_to_64_bytes_are_refused_with_a_message_that_says_why(int length)
    {
        var single = Assert.Throws<ArgumentException>(() => PskStore.Single(new byte[length]));
        var table = Assert.Throws<ArgumentException>(
            () => PskStore.FromDictionary(new Dictionary<string, byte[]> { ["ok"] = s_key, ["bad"] = new byte[length] }));

        foreach (var exception in new[] { single, table })
        {
            Assert.Equal("key", exception.ParamName);
            Assert.Contains("1 to 64 bytes", exception.Message, StringComparison.Ordinal);
            Assert.Contains($"this one has {length}", exception.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(PskStore.MaxKeyLength)]
    public void Keys_of_1_to_64_bytes_are_accepted(int length)
    {
        var key = new byte[length];
        key[^1] = 0x42;

        Assert.Equal(key, Lookup(PskStore.Single(key), "any"));
        Assert.Equal(key, Lookup(PskStore.FromDictionary(new Dictionary<string, byte[]> { ["id"] = key }), "id"));
    }

    [Fact]
    public void Validation_messages_never_echo_the_key()
    {
        var key = new byte[65];
        Array.Fill(key, (byte)0xAB);

        var exception = Assert.Throws<ArgumentException>(() => PskStore.Single(key));

        Assert.DoesNotContain("AB", exception.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("171", exception.Message, StringComparison.Ordinal);
    }

    private static byte[]? Lookup(IPskStore store, string identity) => Lookup(store, Encoding.UTF8.GetBytes(identity));

    /// <summary>Both ready-made stores answer synchronously: the lookup must already be complete.</summary>
    private static byte[]? Lookup(IPskStore store, byte[] identity)
    {
        var lookup = store.GetKeyAsync(identity, CancellationToken.None);
        Assert.True(lookup.IsCompletedSuccessfully);
        return lookup.GetAwaiter().GetResult();
    }
}
